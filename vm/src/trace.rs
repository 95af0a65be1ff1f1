//! Tracing execution: what `--trace=values` and `--trace=json` show.
//!
//! A trace is the interpreter talking while it works, one event per line
//! on standard error (clox's `DEBUG_TRACE_EXECUTION`, with the values in).
//! `--trace` (or `--trace=instr`) prints only each instruction, as the
//! disassembler writes it; the other two modes print these events:
//!
//! * **instr**: one instruction, with the registers it *read* (before it
//!   ran) and the register it *wrote* (after), typed by the function's
//!   register table: `3` is an `int`, `3.0` a `float`, `"3"` a `str`,
//!   `true` a `bool`, `nil` a null reference;
//! * **call**: a function entered, with its arguments: `call fib(3)`;
//! * **return**: a function left, with its value: `return 2`;
//! * **unwind**: an error leaving frames: `unwind 2 frames -> handler @13
//!   in main: "boom"` when a `try` catches it (the frames above the
//!   handler's are dropped at once), or `not caught here` when it leaves
//!   this activation (to the top, or out of a callback to the native that
//!   called it);
//! * **suspend**: the fuel ran out or the run was interrupted: every frame
//!   is kept, and the instruction that stopped runs again (and is traced
//!   again) when the run resumes;
//! * **gc**: one slice of collector work at a safepoint.
//!
//! Lines are indented two spaces per call depth, so recursion shows as a
//! staircase:
//!
//! ```text
//! [main:4] Call        r4, f0, r5  ; fib
//! call fib(3)
//!   [fib:0] LoadI       r1, 2                -> r1=2
//!   [fib:1] JLeI        r1, r0, @3           r1=2 r0=3
//!   [fib:3] AddIImm     r3, r0, -1           r0=3 -> r3=2
//!   [fib:4] Call        r2, f0, r3  ; fib
//!   call fib(2)
//!     ...
//!     return 1 from fib
//!   ...
//!   [fib:7] AddI        r1, r2, r4           r2=1 r4=1 -> r1=2
//!   [fib:8] Ret         r1                   r1=2
//!   return 2 from fib
//! [main:5] ToStr       r3, r4, t1  ; int    r4=2 -> r3="2"
//! ```
//!
//! A `Call` line shows no values: the call event after it shows the
//! arguments, as the callee's parameters, and the return event the
//! result. A line ending `(did not finish)` is an instruction that raised
//! an error or stopped for fuel; `(calls back into pvm)` a native whose
//! callback's events follow.
//!
//! `--trace=json` prints the same events, one JSON object per line, each
//! with `"ev"` (`instr`, `call`, `return`, `unwind`, `suspend`, `gc`) and
//! `"depth"`. A value is a JSON number, `true`/`false`, `null` for nil, a
//! string, or `{"ref": "Point", "id": 12}` for an object (`"len"` too for
//! arrays and maps); a float that JSON cannot write is the string `"NaN"`,
//! `"inf"` or `"-inf"`. Each read or written register is
//! `{"r": 3, "t": "int", "v": 2}`.
//!
//! **Object ids.** The collector never moves an object, so its address is
//! its identity for life; but addresses are long and differ from run to
//! run. The trace numbers objects instead, in the order it first shows
//! them (`<Point#1>`, `<[int]#2 len 3>`), so a trace is the same on every
//! run of the same program and two mentions of one object carry one
//! number. The header has no room for an allocation number (and adding
//! one would cost every object 8 bytes, in both tiers), so the numbers
//! live in a table here, keyed by address. An instruction that creates an
//! object (`New`, `NewArray`, `NewMap`, ...) always gives its result a new
//! number, so an address the collector freed and reused does not inherit
//! the dead object's number. (An object a native creates and returns is
//! numbered when first seen, like any other.) Strings are shown by value,
//! at most [`MAX_STR`] characters, cut with `…`.
//!
//! Tracing runs only in the counting instantiation of the dispatch loop
//! (`exec::<true>`), and turns the JIT off, so the fast path pays nothing.
//! An instruction's written value is known only once it has run; the
//! event is held until the next one and then written, without the written
//! value if the instruction did not finish (it failed, or was suspended to
//! run again).

//!
//! **Recording.** `TraceMode::Record` is what `pvm explore` runs with: the
//! same moments, written for a program (the page's JavaScript) to replay
//! rather than for a person to read, one JSON array a line, numbers where
//! the other modes have names. An instruction is `[0,func,pc]`, or
//! `[0,func,pc,reg,value]` when it wrote a register (reads are not
//! written: the replay already knows every register's value); a call
//! instruction is `[1,func,pc,dst]`, and the callee's `[4,value]` return
//! writes `dst`; `[2,func,pc]` did not finish. `[3,func,[args]]` enters a
//! function, `[5,frames,caught,suspends,message]` unwinds, `[6,reg,msg]`
//! is the message a `catch` register received, `[11,global,value]` a
//! global written. A value is a number (an int), `["1.5"]` (a float, or
//! an int beyond 2^53, as text), `true`/`false`, `null`, a string, or
//! `[id]` (an object). The heap, which the other modes show only as ids,
//! is recorded too: `[8,id,"Point",[fields]]` (arrays and maps add their
//! length, and show at most [`MAX_ELEMS`] elements) after every
//! instruction that creates an object or writes into one (`SetField`,
//! `ArraySet`, `Push`, `MapSet`, `CellSet`, a native's arguments, ...), and
//! for every object first seen inside another. `[7,cycle,from,to,
//! [marked],[freed]]` is a collector slice with the ids of the objects the
//! marker has marked and those the sweeper freed, and `[12,[freed]]` the
//! objects the sweeper freed while an instruction allocated (the heap logs
//! freed addresses only in this mode: `Heap::freed_log`). `[9,steps]`
//! says the `Config::record_steps` bound was hit: the recording stops and
//! the run is interrupted.

use crate::error::Trap;
use crate::heap::{str_bytes, ArrayObj, Header, Kind, MapObj, StrObj};
use crate::{TraceMode, Vm};
use pvm_bytecode::{disasm, Instr, Module, OperandKind, Type, TypeId, TABLE};
use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::io::Write as _;

/// Characters of a string value a trace shows.
pub(crate) const MAX_STR: usize = 60;

/// The state of a `--trace=values` or `--trace=json` run.
pub(crate) struct Tracer {
    mode: TraceMode,
    json: bool,
    /// Where the trace goes: standard error unless the host chose.
    out: Box<dyn std::io::Write + Send>,
    /// Object numbers by address (see the module docs).
    ids: FxHashMap<u64, u64>,
    next_id: u64,
    /// `frames.len()` at the last event: a frame at pc 0 above it has just
    /// been entered.
    depth: usize,
    /// The last instruction, until its written value is known.
    pending: Option<Pending>,
    /// `TraceMode::Record`: the recording's state.
    rec: Option<Rec>,
}

/// The state of a recording for `pvm explore` (see "Recording" in the
/// module docs).
struct Rec {
    /// Instructions recorded so far, and the most to record.
    steps: u64,
    max: u64,
    /// The bound was hit: nothing more is recorded.
    stopped: bool,
    /// Objects (addresses) whose contents are to be written after the
    /// current event: new ones, and ones an instruction wrote into.
    queue: Vec<u64>,
    /// Ids of objects the collector freed since the last `gc` record.
    freed: Vec<u64>,
}

/// A value as the trace shows it.
enum Val {
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Str(String),
    Ref { what: String, id: u64, len: Option<u64> },
}

/// A register read or written: its index, static type and value.
struct RegVal {
    reg: u16,
    ty: TypeId,
    val: Val,
}

/// How a held instruction ended, when its event is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// It ran to the end: its written value is known.
    Done,
    /// It failed, or stopped to run again on resuming.
    Failed,
    /// It entered another frame: a call its callee (the call event
    /// follows), or a native a callback into pvm code (`sort_by`; the
    /// callback's events follow and the native's result is not shown).
    Left,
}

struct Pending {
    depth: usize,
    regs: *const u64,
    func: usize,
    pc: usize,
    ins: Instr,
    reads: Vec<RegVal>,
    /// The register the instruction writes, if any.
    write: Option<u16>,
    /// Whether the written value is an object the instruction created.
    fresh: bool,
}

/// Pushes `s` as a JSON string literal (also the trace's quoted strings).
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    push_json(out, s, false);
}

/// Pushes `s` as a JSON string literal; `script_safe` also escapes `<`,
/// U+2028 and U+2029, so the literal can sit inside an HTML `<script>`
/// element (no `</script>` can appear) and is valid JavaScript too.
pub(crate) fn push_json(out: &mut String, s: &str, script_safe: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '\u{2028}' | '\u{2029}' if script_safe => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Why the run stopped, in words.
fn trap_text(t: &Trap) -> String {
    match t {
        Trap::Error(m) | Trap::Limit(m) | Trap::Output(m) => m.clone(),
        Trap::Exit(c) => format!("exit({c})"),
        Trap::BrokenPipe => "broken pipe".into(),
        Trap::OutOfFuel => "out of fuel".into(),
        Trap::Interrupted => "interrupted".into(),
        Trap::Yield => "a compiled loop yielded".into(),
    }
}

impl Val {
    fn text(&self, out: &mut String) {
        match self {
            Val::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Val::Float(f) => {
                let _ = write!(out, "{f:?}");
            }
            Val::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Val::Nil => out.push_str("nil"),
            Val::Str(s) => push_json_str(out, s),
            Val::Ref { what, id, len } => {
                let _ = write!(out, "<{what}#{id}");
                if let Some(n) = len {
                    let _ = write!(out, " len {n}");
                }
                out.push('>');
            }
        }
    }

    fn json(&self, out: &mut String) {
        match self {
            Val::Float(f) if !f.is_finite() => {
                out.push_str(if f.is_nan() {
                    "\"NaN\""
                } else if *f > 0.0 {
                    "\"inf\""
                } else {
                    "\"-inf\""
                });
            }
            Val::Nil => out.push_str("null"),
            Val::Ref { what, id, len } => {
                out.push_str("{\"ref\":");
                push_json_str(out, what);
                let _ = write!(out, ",\"id\":{id}");
                if let Some(n) = len {
                    let _ = write!(out, ",\"len\":{n}");
                }
                out.push('}');
            }
            _ => self.text(out),
        }
    }
}

impl Tracer {
    pub(crate) fn new(mode: TraceMode, record_steps: u64) -> Tracer {
        Tracer {
            mode,
            json: mode == TraceMode::Json,
            out: Box::new(std::io::stderr()),
            ids: FxHashMap::default(),
            next_id: 1,
            depth: 0,
            pending: None,
            rec: (mode == TraceMode::Record).then(|| Rec {
                steps: 0,
                max: record_steps,
                stopped: false,
                queue: Vec::new(),
                freed: Vec::new(),
            }),
        }
    }

    /// Whether this trace shows events (calls, unwinding...), not only
    /// instructions.
    pub(crate) fn events(&self) -> bool {
        self.mode != TraceMode::Instr
    }

    pub(crate) fn set_output(&mut self, w: Box<dyn std::io::Write + Send>) {
        self.out = w;
    }

    fn write_line(&mut self, line: &str) {
        // Tracing never fails a run: a closed output loses the trace only.
        let _ = self.out.write_all(line.as_bytes());
    }

    fn id(&mut self, addr: u64, fresh: bool) -> u64 {
        if !fresh {
            if let Some(&id) = self.ids.get(&addr) {
                return id;
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.ids.insert(addr, id);
        id
    }

    /// The value `raw` of static type `ty`.
    /// # Safety
    /// `raw` is a value of type `ty`: a reference is nil or a live object.
    unsafe fn val(&mut self, m: &Module, ty: TypeId, raw: u64, fresh: bool) -> Val {
        match m.types.get(ty as usize) {
            Some(Type::Int) => return Val::Int(raw as i64),
            Some(Type::Float) => return Val::Float(f64::from_bits(raw)),
            Some(Type::Bool) => return Val::Bool(raw != 0),
            Some(t) if t.is_ref() => {}
            _ => return Val::Int(raw as i64),
        }
        if raw == 0 {
            return Val::Nil;
        }
        let h = raw as *const Header;
        // SAFETY: the caller's promise: a live object, of the kind its
        // header says.
        unsafe {
            let aux = (*h).aux as usize;
            let (what, len) = match (*h).kind {
                Kind::Str => {
                    let s = String::from_utf8_lossy(str_bytes(h.cast::<StrObj>()));
                    let mut cut: String = s.chars().take(MAX_STR).collect();
                    if cut.len() < s.len() {
                        cut.push('…');
                    }
                    return Val::Str(cut);
                }
                Kind::Object => (m.classes.get(aux).map_or_else(|| "object".into(), |c| c.name.clone()), None),
                Kind::Array => (m.type_name(aux as TypeId), Some((*h.cast::<ArrayObj>()).len as u64)),
                Kind::Map => (m.type_name(aux as TypeId), Some(u64::from((*h.cast::<MapObj>()).live))),
                Kind::Closure => (format!("fn {}", m.functions.get(aux).map_or("?", |f| f.name.as_str())), None),
                Kind::Cell => ("cell".into(), None),
                Kind::Free => ("freed".into(), None),
            };
            Val::Ref {
                what,
                id: self.id(raw, fresh),
                len,
            }
        }
    }

    /// Register `r` of the window at `regs` in function `func`.
    /// # Safety
    /// `r` is a register of `func`, whose window starts at `regs`.
    unsafe fn reg(&mut self, m: &Module, func: usize, regs: *const u64, r: u16, fresh: bool) -> RegVal {
        let ty = m.functions[func].regs.get(r as usize).copied().unwrap_or(0);
        // SAFETY: the caller's promise.
        let raw = unsafe { *regs.add(r as usize) };
        RegVal {
            reg: r,
            ty,
            // SAFETY: the verifier proved the register holds its type.
            val: unsafe { self.val(m, ty, raw, fresh) },
        }
    }

    fn head(&self, out: &mut String, ev: &str, depth: usize) {
        if self.json {
            let _ = write!(out, "{{\"ev\":\"{ev}\",\"depth\":{depth}");
        } else {
            indent(out, depth);
        }
    }

    fn regs_json(out: &mut String, m: &Module, key: &str, rs: &[RegVal]) {
        let _ = write!(out, ",\"{key}\":[");
        for (i, rv) in rs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{{\"r\":{},\"t\":", rv.reg);
            push_json_str(out, &m.type_name(rv.ty));
            out.push_str(",\"v\":");
            rv.val.json(out);
            out.push('}');
        }
        out.push(']');
    }

    /// Writes the held instruction; with the value it wrote if it finished.
    fn flush(&mut self, m: &Module, how: Outcome) {
        let Some(p) = self.pending.take() else { return };
        if self.rec.is_some() {
            self.flush_record(m, p, how);
            return;
        }
        let done = how == Outcome::Done;
        let writes: Vec<RegVal> = match p.write {
            // SAFETY: the instruction finished, in the frame still running
            // (its window at `regs`): its destination holds its type.
            Some(r) if done => vec![unsafe { self.reg(m, p.func, p.regs, r, p.fresh) }],
            _ => Vec::new(),
        };
        let f = &m.functions[p.func];
        let text = disasm::instruction(m, &p.ins);
        let mut out = String::new();
        let depth = p.depth.saturating_sub(1);
        self.head(&mut out, "instr", depth);
        if self.json {
            out.push_str(",\"func\":");
            push_json_str(&mut out, &f.name);
            let _ = write!(out, ",\"pc\":{},\"op\":\"{}\",\"text\":", p.pc, p.ins.name());
            push_json_str(&mut out, text.split_whitespace().collect::<Vec<_>>().join(" ").as_str());
            Self::regs_json(&mut out, m, "reads", &p.reads);
            Self::regs_json(&mut out, m, "writes", &writes);
            let _ = writeln!(
                out,
                ",\"done\":{}}}",
                done || (how == Outcome::Left && !matches!(p.ins, Instr::CallNative { .. }))
            );
        } else {
            let _ = write!(out, "[{}:{}] {text:<32}", f.name, p.pc);
            let mut sep = " ";
            for rv in &p.reads {
                let _ = write!(out, "{sep}r{}=", rv.reg);
                rv.val.text(&mut out);
                sep = " ";
            }
            for rv in &writes {
                let _ = write!(out, " -> r{}=", rv.reg);
                rv.val.text(&mut out);
            }
            match how {
                Outcome::Done => {}
                Outcome::Failed => out.push_str(" (did not finish)"),
                // A call that entered its callee ran to its end.
                Outcome::Left if !matches!(p.ins, Instr::CallNative { .. }) => {}
                Outcome::Left => out.push_str(" (calls back into pvm)"),
            }
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            out.push('\n');
        }
        self.write_line(&out);
    }
}

/// Registers an instruction reads, the one it writes, and whether that is
/// a new object; from the operand names of the instruction table.
fn operand_regs(m: &Module, ins: &Instr) -> (Vec<u16>, Option<u16>, bool) {
    let info = &TABLE[ins.opcode() as usize];
    let vals = ins.operands();
    let mut reads = Vec::new();
    let mut write = None;
    let call = matches!(
        ins,
        Instr::Call { .. } | Instr::CallMethod { .. } | Instr::CallIface { .. } | Instr::CallClosure { .. }
    );
    // How many registers a window operand (`args`, `caps`) covers.
    let window = match *ins {
        Instr::New { class, .. } => m.classes.get(class as usize).map_or(0, |c| c.fields.len()),
        Instr::NewArray { n, .. } | Instr::MakeClosure { n, .. } => n as usize,
        Instr::CallNative { native, .. } => match m.natives.get(native as usize).and_then(|n| m.types.get(n.sig as usize)) {
            Some(Type::Func(ps, _)) => ps.len(),
            _ => 0,
        },
        // The call event shows a pvm callee's arguments.
        _ => 0,
    };
    for (&(name, kind), &(_, v)) in info.operands.iter().zip(vals.iter()) {
        if kind != OperandKind::Reg || v == i64::from(u16::MAX) {
            continue;
        }
        let r = v as u16;
        match name {
            // A pvm call's result is shown by the callee's return event.
            "dst" if call => {}
            "dst" => write = Some(r),
            // A handler's register is written only when an error arrives.
            "reg" if matches!(ins, Instr::TryBegin { .. }) => {}
            "args" | "caps" => reads.extend((0..window).map(|i| r.wrapping_add(i as u16))),
            "ctr" => {
                reads.push(r);
                write = Some(r);
            }
            _ => reads.push(r),
        }
    }
    if let Instr::CallNative { native, .. } = *ins {
        let void = match m.natives.get(native as usize).and_then(|n| m.types.get(n.sig as usize)) {
            Some(Type::Func(_, ret)) => matches!(m.types.get(*ret as usize), Some(Type::Void)),
            _ => true,
        };
        if void {
            write = None;
        }
    }
    let fresh = matches!(
        ins,
        Instr::New { .. }
            | Instr::NewArray { .. }
            | Instr::ArrayFill { .. }
            | Instr::NewMap { .. }
            | Instr::MapKeys { .. }
            | Instr::NewCell { .. }
            | Instr::MakeClosure { .. }
    );
    (reads, write, fresh)
}

/// Elements of an array or entries of a map a recording shows.
pub(crate) const MAX_ELEMS: usize = 50;
/// Objects whose contents one recorded event may write (new ones found
/// inside others are queued: a large new graph is shown in parts).
const MAX_DUMPS: usize = 256;

/// How a recording writes a value of a type.
#[derive(Clone, Copy)]
enum Shape {
    Int,
    Float,
    Bool,
    Ref,
}

fn shape(m: &Module, ty: TypeId) -> Shape {
    match m.types.get(ty as usize) {
        Some(Type::Float) => Shape::Float,
        Some(Type::Bool) => Shape::Bool,
        Some(t) if t.is_ref() => Shape::Ref,
        _ => Shape::Int,
    }
}

impl Tracer {
    /// Takes the objects the collector freed out of the ids table (an
    /// address freed may be reused by a new object) and keeps their ids
    /// for the next `gc` record.
    fn rec_drain_freed(&mut self, heap: &mut crate::heap::Heap) {
        let Some(log) = heap.freed_log.as_mut() else { return };
        if log.is_empty() {
            return;
        }
        for addr in log.drain(..) {
            if let Some(id) = self.ids.remove(&addr) {
                if let Some(rec) = &mut self.rec {
                    rec.freed.push(id);
                }
            }
        }
    }

    /// Writes a recorded value: an int as a number (as text in `[".."]`
    /// beyond 2^53, where JavaScript's numbers end), a float as its text in
    /// `[".."]`, a bool, `null` for nil, a string, or `[id]` for an object
    /// (queued to have its contents written when first seen).
    /// # Safety
    /// `raw` is a value of type `ty`: a reference is nil or a live object.
    unsafe fn rv(&mut self, m: &Module, ty: TypeId, raw: u64, fresh: bool, out: &mut String) {
        // SAFETY: the caller's promise.
        unsafe { self.rv_shape(shape(m, ty), raw, fresh, out) }
    }

    /// [`Tracer::rv`] by shape.
    /// # Safety
    /// As [`Tracer::rv`].
    unsafe fn rv_shape(&mut self, sh: Shape, raw: u64, fresh: bool, out: &mut String) {
        match sh {
            Shape::Int => {
                let i = raw as i64;
                if i.unsigned_abs() <= 1 << 53 {
                    let _ = write!(out, "{i}");
                } else {
                    let _ = write!(out, "[\"{i}\"]");
                }
            }
            Shape::Float => {
                let _ = write!(out, "[\"{:?}\"]", f64::from_bits(raw));
            }
            Shape::Bool => out.push_str(if raw != 0 { "true" } else { "false" }),
            Shape::Ref if raw == 0 => out.push_str("null"),
            Shape::Ref => {
                let h = raw as *const Header;
                // SAFETY: the caller's promise: a live object.
                unsafe {
                    if (*h).kind == Kind::Str {
                        let s = String::from_utf8_lossy(str_bytes(h.cast::<StrObj>()));
                        let mut cut: String = s.chars().take(MAX_STR).collect();
                        if cut.len() < s.len() {
                            cut.push('…');
                        }
                        push_json_str(out, &cut);
                        return;
                    }
                }
                let before = self.next_id;
                let id = self.id(raw, fresh);
                if self.next_id != before {
                    if let Some(rec) = &mut self.rec {
                        rec.queue.push(raw);
                    }
                }
                let _ = write!(out, "[{id}]");
            }
        }
    }

    /// Writes a recorded event, then the contents of the objects it queued.
    fn rec_out(&mut self, m: &Module, line: &str) {
        self.write_line(line);
        let mut budget = MAX_DUMPS;
        while budget > 0 {
            let Some(addr) = self.rec.as_mut().and_then(|r| r.queue.pop()) else {
                break;
            };
            budget -= 1;
            // SAFETY: queued objects are live: just read from a register of
            // the running frame, or held by an object that is.
            let line = unsafe { self.dump(m, addr) };
            self.write_line(&line);
        }
        if let Some(r) = &mut self.rec {
            r.queue.clear();
        }
    }

    /// The record of an object's contents: `[8,id,"name",[values],len]`;
    /// a map's values are `[key,value]` pairs.
    /// # Safety
    /// `addr` is a live object (not a string).
    unsafe fn dump(&mut self, m: &Module, addr: u64) -> String {
        let h = addr as *mut Header;
        let id = self.id(addr, false);
        let mut out = format!("[8,{id},");
        // SAFETY: the caller's promise; each kind's payload is read as that
        // kind's layout, and values by their static types.
        unsafe {
            let aux = (*h).aux as usize;
            match (*h).kind {
                Kind::Object => {
                    let class = m.classes.get(aux);
                    push_json_str(&mut out, class.map_or("object", |c| c.name.as_str()));
                    out.push_str(",[");
                    for (i, f) in class.map_or(&[][..], |c| c.fields.as_slice()).iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let v = *crate::heap::field_ptr(h.cast(), i);
                        self.rv(m, f.ty, v, false, &mut out);
                    }
                    out.push_str("]]\n");
                }
                Kind::Array => {
                    let a = h.cast::<ArrayObj>();
                    push_json_str(&mut out, &m.type_name(aux as TypeId));
                    let elem = match m.types.get(aux) {
                        Some(Type::Array(e)) => *e,
                        _ => 0,
                    };
                    out.push_str(",[");
                    let len = (*a).len;
                    for i in 0..len.min(MAX_ELEMS) {
                        if i > 0 {
                            out.push(',');
                        }
                        self.rv(m, elem, (*a).get(i), false, &mut out);
                    }
                    let _ = writeln!(out, "],{len}]");
                }
                Kind::Map => {
                    let mo = h.cast::<MapObj>();
                    push_json_str(&mut out, &m.type_name(aux as TypeId));
                    let (kt, vt) = match m.types.get(aux) {
                        Some(Type::Map(k, v)) => (*k, *v),
                        _ => (0, 0),
                    };
                    out.push_str(",[");
                    let entries: Vec<(u64, u64)> = (*mo).iter().take(MAX_ELEMS).map(|e| (e.key, e.value)).collect();
                    for (i, (k, v)) in entries.into_iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push('[');
                        self.rv(m, kt, k, false, &mut out);
                        out.push(',');
                        self.rv(m, vt, v, false, &mut out);
                        out.push(']');
                    }
                    let _ = writeln!(out, "],{}]", (*mo).live);
                }
                Kind::Closure => {
                    let f = m.functions.get(aux);
                    push_json_str(&mut out, &format!("fn {}", f.map_or("?", |f| f.name.as_str())));
                    out.push_str(",[");
                    for (i, &v) in crate::heap::closure_caps(h.cast()).iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        // Captures are the registers after the parameters.
                        let ty = f.and_then(|f| f.regs.get(f.params as usize + i)).copied().unwrap_or(0);
                        self.rv(m, ty, v, false, &mut out);
                    }
                    out.push_str("]]\n");
                }
                Kind::Cell => {
                    out.push_str("\"cell\",[");
                    let v = (*h.cast::<crate::heap::CellObj>()).value;
                    let sh = if (*h).aux != 0 { Shape::Ref } else { Shape::Int };
                    self.rv_shape(sh, v, false, &mut out);
                    out.push_str("]]\n");
                }
                Kind::Str | Kind::Free => out.push_str("\"?\",[]]\n"),
            }
        }
        out
    }

    /// The recording of a held instruction: `[0,func,pc]`, with `,reg,value`
    /// when it wrote a register; `[1,func,pc,dst]` for a call whose result
    /// the callee's return will write to `dst`; `[2,func,pc]` when it did
    /// not finish. Objects the sweeper freed meanwhile (sweeping is done a
    /// little at each allocation) add `[12,[ids]]`; a global written adds
    /// `[11,global,value]`; an object
    /// written into (a field, an element, a `push`, a native's argument)
    /// has its contents written again.
    fn flush_record(&mut self, m: &Module, p: Pending, how: Outcome) {
        let call_dst = match p.ins {
            Instr::Call { dst, .. } | Instr::CallMethod { dst, .. } | Instr::CallIface { dst, .. } | Instr::CallClosure { dst, .. } => {
                Some(dst)
            }
            _ => None,
        };
        let f = &m.functions[p.func];
        let mut out = String::new();
        match (how, call_dst, p.write) {
            (Outcome::Failed, _, _) => {
                let _ = writeln!(out, "[2,{},{}]", p.func, p.pc);
            }
            (_, Some(d), _) => {
                let _ = writeln!(out, "[1,{},{},{d}]", p.func, p.pc);
            }
            (Outcome::Done, None, Some(r)) => {
                let _ = write!(out, "[0,{},{},{r},", p.func, p.pc);
                let ty = f.regs.get(r as usize).copied().unwrap_or(0);
                // SAFETY: the instruction finished in the frame still
                // running: its destination holds its type.
                unsafe { self.rv(m, ty, *p.regs.add(r as usize), p.fresh, &mut out) };
                out.push_str("]\n");
            }
            _ => {
                let _ = writeln!(out, "[0,{},{}]", p.func, p.pc);
            }
        }
        if let Some(rec) = self.rec.as_mut().filter(|r| !r.freed.is_empty()) {
            // Objects the sweeper freed while this instruction allocated.
            let ids: Vec<String> = rec.freed.drain(..).map(|id| id.to_string()).collect();
            let _ = writeln!(out, "[12,[{}]]", ids.join(","));
        }
        if how == Outcome::Done {
            let written: &[u16] = match p.ins {
                Instr::SetField { obj, .. } => &[obj][..],
                Instr::ArraySet { arr, .. }
                | Instr::ArraySetB { arr, .. }
                | Instr::Push { arr, .. }
                | Instr::Pop { arr, .. }
                | Instr::Sort { arr } => &[arr][..],
                Instr::MapSet { map, .. } | Instr::MapRemove { map, .. } => &[map][..],
                Instr::CellSet { cell, .. } => &[cell][..],
                _ => &[][..],
            };
            let mut objs: Vec<u16> = written.to_vec();
            if let Instr::CallNative { native, args, .. } = p.ins {
                let n = match m.natives.get(native as usize).and_then(|n| m.types.get(n.sig as usize)) {
                    Some(Type::Func(ps, _)) => ps.len(),
                    _ => 0,
                };
                objs.extend((0..n).map(|i| args.wrapping_add(i as u16)));
            }
            if let Instr::SetGlobal { g, src } = p.ins {
                let ty = m.globals.get(g as usize).map_or(0, |g| g.ty);
                let _ = write!(out, "[11,{g},");
                // SAFETY: the instruction finished: its source holds the global's type.
                unsafe { self.rv(m, ty, *p.regs.add(src as usize), false, &mut out) };
                out.push_str("]\n");
            }
            for r in objs {
                let ty = f.regs.get(r as usize).copied().unwrap_or(0);
                if !matches!(shape(m, ty), Shape::Ref) {
                    continue;
                }
                // SAFETY: a register the finished instruction read, in the
                // frame still running.
                let raw = unsafe { *p.regs.add(r as usize) };
                // SAFETY: as above: a reference register holds nil or a live object.
                if raw != 0 && unsafe { (*(raw as *const Header)).kind } != Kind::Str {
                    self.id(raw, false);
                    if let Some(rec) = &mut self.rec {
                        rec.queue.push(raw);
                    }
                }
            }
        }
        self.rec_out(m, &out);
    }
}

impl Vm {
    /// `--trace=instr`: `[function:  pc] instruction`, as the disassembler
    /// prints it.
    pub(crate) fn trace_instr(&mut self, func: usize, pc: usize, ins: &Instr) {
        let Some(t) = &mut self.tracer else { return };
        let line = format!(
            "[{}:{:>4}] {}\n",
            self.module.functions[func].name,
            pc,
            disasm::instruction(&self.module, ins)
        );
        t.write_line(&line);
    }

    /// Traces the instruction at `pc` of the running frame (window `regs`)
    /// before it runs: the previous instruction's event, a call event if
    /// the frame was just entered, and this one's (held until it has run,
    /// unless it leaves the frame).
    /// # Safety
    /// `regs` is the running frame's window and `ins` its instruction at `pc`.
    pub(crate) unsafe fn trace_step(&mut self, pc: usize, regs: *const u64, ins: &Instr) {
        let Some(mut t) = self.tracer.take() else { return };
        let m = &self.module;
        let depth = self.frames.len();
        let Some(top) = self.frames.last().copied() else {
            self.tracer = Some(t);
            return;
        };
        let func = top.func as usize;
        if let Some(rec) = &mut t.rec {
            if rec.stopped {
                self.tracer = Some(t);
                return;
            }
            if rec.steps >= rec.max {
                // The bound: the last event is written, then the run is
                // asked to stop (at its next instruction) and nothing more
                // is recorded.
                t.flush(m, Outcome::Done);
                t.rec_drain_freed(&mut self.heap);
                let line = format!("[9,{}]\n", t.rec.as_ref().map_or(0, |r| r.steps));
                t.write_line(&line);
                if let Some(rec) = &mut t.rec {
                    rec.stopped = true;
                }
                self.interrupt.store(true, std::sync::atomic::Ordering::Relaxed);
                self.tracer = Some(t);
                return;
            }
            rec.steps += 1;
            t.rec_drain_freed(&mut self.heap);
        }
        let how = match &t.pending {
            Some(p) if p.depth == depth && p.regs == regs => Outcome::Done,
            Some(p) if p.depth < depth => Outcome::Left,
            _ => Outcome::Failed,
        };
        t.flush(m, how);
        if pc == 0 && depth > t.depth {
            // SAFETY: a frame just entered: its parameters are set.
            unsafe { trace_call(&mut t, m, func, regs, depth) };
        }
        t.depth = depth;
        let (reads, write, fresh) = operand_regs(m, ins);
        // SAFETY: the verifier proved every register operand (and window)
        // in range; each holds its type before the instruction runs.
        let reads: Vec<RegVal> = if t.rec.is_some() {
            // A recording shows only what changed: the JavaScript replays writes.
            Vec::new()
        } else {
            reads.into_iter().map(|r| unsafe { t.reg(m, func, regs, r, false) }).collect()
        };
        t.pending = Some(Pending {
            depth,
            regs,
            func,
            pc,
            ins: *ins,
            reads,
            write,
            fresh,
        });
        match *ins {
            Instr::Ret { src } if t.rec.is_some() => {
                t.flush(m, Outcome::Done);
                let ty = m.functions[func].regs.get(src as usize).copied().unwrap_or(0);
                let mut out = String::from("[4,");
                // SAFETY: as above.
                unsafe { t.rv(m, ty, *regs.add(src as usize), false, &mut out) };
                out.push_str("]\n");
                t.rec_out(m, &out);
                t.depth = depth - 1;
            }
            Instr::RetVoid {} if t.rec.is_some() => {
                t.flush(m, Outcome::Done);
                t.rec_out(m, "[4]\n");
                t.depth = depth - 1;
            }
            Instr::Ret { src } => {
                t.flush(m, Outcome::Done);
                // SAFETY: as above.
                let v = unsafe { t.reg(m, func, regs, src, false) };
                trace_return(&mut t, m, func, Some(v), depth);
                t.depth = depth - 1;
            }
            Instr::RetVoid {} => {
                t.flush(m, Outcome::Done);
                trace_return(&mut t, m, func, None, depth);
                t.depth = depth - 1;
            }
            Instr::Throw { .. } => {
                // What follows is a handler's (or the caller's): the
                // instruction is written now, with what it read.
                t.flush(m, Outcome::Done);
            }
            _ => {}
        }
        self.tracer = Some(t);
    }

    /// Traces what `settle` does with the trap `trap` that ended a run of
    /// `exec`: a handler at frame `handler` (its target pc) catches it, or
    /// it suspends the run, or it leaves frames from `depth0` up.
    pub(crate) fn trace_trap(&mut self, trap: &Trap, handler: Option<(usize, u32)>, suspends: bool, depth0: usize) {
        let Some(mut t) = self.tracer.take() else { return };
        let m = &self.module;
        if let Some(rec) = &t.rec {
            if !rec.stopped {
                t.flush(m, Outcome::Failed);
                let depth = self.frames.len();
                let to = handler.map_or(depth0, |(d, _)| d + 1);
                let mut out = format!(
                    "[5,{},{},{},",
                    depth.saturating_sub(to),
                    u8::from(handler.is_some()),
                    u8::from(suspends)
                );
                push_json_str(&mut out, &trap_text(trap));
                out.push_str("]\n");
                t.write_line(&out);
                t.depth = to;
            }
            self.tracer = Some(t);
            return;
        }
        t.flush(m, Outcome::Failed);
        let depth = self.frames.len();
        let mut out = String::new();
        t.head(&mut out, if suspends { "suspend" } else { "unwind" }, depth.saturating_sub(1));
        let msg = trap_text(trap);
        if suspends {
            if t.json {
                out.push_str(",\"reason\":");
                push_json_str(&mut out, &msg);
                out.push_str("}\n");
            } else {
                let _ = writeln!(out, "suspend: {msg} (resuming runs the instruction again)");
            }
        } else {
            let to = handler.map_or(depth0, |(d, _)| d + 1);
            let n = depth.saturating_sub(to);
            let handler_fn = handler
                .and_then(|(d, _)| self.frames.as_slice().get(d))
                .map(|fr| m.functions[fr.func as usize].name.as_str());
            if t.json {
                let _ = write!(out, ",\"frames\":{n},\"error\":");
                push_json_str(&mut out, &msg);
                match (handler, handler_fn) {
                    (Some((_, target)), Some(name)) => {
                        let _ = write!(out, ",\"caught\":true,\"handler\":{target},\"func\":");
                        push_json_str(&mut out, name);
                    }
                    _ => out.push_str(",\"caught\":false"),
                }
                out.push_str("}\n");
            } else {
                let _ = write!(out, "unwind {n} frame{}", if n == 1 { "" } else { "s" });
                match (handler, handler_fn) {
                    (Some((_, target)), Some(name)) => {
                        let _ = write!(out, " -> handler @{target} in {name}: ");
                    }
                    _ => out.push_str(", not caught here: "),
                }
                push_json_str(&mut out, &msg);
                out.push('\n');
            }
            t.depth = to;
        }
        t.write_line(&out);
        self.tracer = Some(t);
    }

    /// Records the error message a handler's register received (`catch e`).
    pub(crate) fn trace_caught(&mut self, reg: u16, msg: &str) {
        let Some(t) = &mut self.tracer else { return };
        if t.rec.as_ref().is_some_and(|r| !r.stopped) {
            let mut out = format!("[6,{reg},");
            push_json_str(&mut out, msg);
            out.push_str("]\n");
            t.write_line(&out);
        }
    }

    /// Traces one slice of collector work that took the heap from `before`
    /// bytes in `phase_before` to where it is now, in `pause`.
    pub(crate) fn trace_gc(&mut self, before: usize, phase_before: crate::heap::Phase, pause: std::time::Duration, keep_pending: bool) {
        let Some(mut t) = self.tracer.take() else { return };
        let m = &self.module;
        let held = if keep_pending {
            t.pending.take()
        } else {
            let depth = self.frames.len();
            let how = if t.pending.as_ref().is_some_and(|p| p.depth == depth) {
                Outcome::Done
            } else {
                Outcome::Left
            };
            t.flush(m, how);
            None
        };
        let (cycle, marked, freed) = self.heap.progress();
        let phase = |p: crate::heap::Phase| format!("{p:?}").to_lowercase();
        let (from, to) = (phase(phase_before), phase(self.heap.phase));
        if t.rec.as_ref().is_some_and(|r| !r.stopped) {
            t.rec_drain_freed(&mut self.heap);
            let mut out = format!("[7,{cycle},\"{from}\",\"{to}\",[");
            if self.heap.phase != crate::heap::Phase::Idle {
                let mut marked: Vec<u64> = t
                    .ids
                    .iter()
                    // SAFETY: the ids table holds only live objects: the
                    // freed ones were just taken out.
                    .filter(|(&addr, _)| unsafe { (*(addr as *const Header)).mark != 0 })
                    .map(|(_, &id)| id)
                    .collect();
                marked.sort_unstable();
                let _ = write!(out, "{}", marked.iter().map(u64::to_string).collect::<Vec<_>>().join(","));
            }
            out.push_str("],[");
            let freed_ids = t.rec.as_mut().map(|r| std::mem::take(&mut r.freed)).unwrap_or_default();
            let _ = write!(out, "{}", freed_ids.iter().map(u64::to_string).collect::<Vec<_>>().join(","));
            out.push_str("]]\n");
            t.write_line(&out);
            t.pending = held.or(t.pending.take());
            self.tracer = Some(t);
            return;
        }
        if t.rec.is_some() {
            t.pending = held.or(t.pending.take());
            self.tracer = Some(t);
            return;
        }
        let after = self.heap.bytes;
        let ms = pause.as_secs_f64() * 1e3;
        let mut out = String::new();
        t.head(&mut out, "gc", self.frames.len().saturating_sub(1));
        if t.json {
            let _ = writeln!(
                out,
                ",\"cycle\":{cycle},\"phase\":\"{from}\",\"next\":\"{to}\",\"heap_before\":{before},\"heap_after\":{after},\
                 \"marked\":{},\"marked_bytes\":{},\"freed\":{},\"freed_bytes\":{},\"pause_ms\":{ms:.3}}}",
                marked.objects, marked.bytes, freed.objects, freed.bytes
            );
        } else {
            let _ = writeln!(
                out,
                "gc #{cycle} {from} -> {to}: heap {before} -> {after} bytes, marked {} objects, freed {} objects so far, {ms:.3} ms",
                marked.objects, freed.objects
            );
        }
        t.write_line(&out);
        t.pending = held.or(t.pending.take());
        self.tracer = Some(t);
    }
}

/// The call event of function `func`, just entered with its window at
/// `regs`, at frame depth `depth`.
/// # Safety
/// The frame's parameters hold their types.
unsafe fn trace_call(t: &mut Tracer, m: &Module, func: usize, regs: *const u64, depth: usize) {
    let f = &m.functions[func];
    if t.rec.is_some() {
        let mut out = format!("[3,{func},[");
        for r in 0..f.params {
            if r > 0 {
                out.push(',');
            }
            let ty = f.regs.get(r as usize).copied().unwrap_or(0);
            // SAFETY: the caller's promise; parameters are the first registers.
            unsafe { t.rv(m, ty, *regs.add(r as usize), false, &mut out) };
        }
        out.push_str("]]\n");
        t.rec_out(m, &out);
        return;
    }
    // SAFETY: the caller's promise; parameters are the first registers.
    let args: Vec<RegVal> = (0..f.params).map(|r| unsafe { t.reg(m, func, regs, r, false) }).collect();
    let mut out = String::new();
    // JSON gives the callee's depth; the text is indented as its caller.
    t.head(&mut out, "call", depth.saturating_sub(if t.json { 1 } else { 2 }));
    if t.json {
        out.push_str(",\"func\":");
        push_json_str(&mut out, &f.name);
        Tracer::regs_json(&mut out, m, "args", &args);
        out.push_str("}\n");
    } else {
        let _ = write!(out, "call {}(", f.name);
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            a.val.text(&mut out);
        }
        out.push_str(")\n");
    }
    t.write_line(&out);
}

/// The return event of function `func` at frame depth `depth`.
fn trace_return(t: &mut Tracer, m: &Module, func: usize, v: Option<RegVal>, depth: usize) {
    let f = &m.functions[func];
    let mut out = String::new();
    if t.rec.is_some() {
        return;
    }
    t.head(&mut out, "return", depth.saturating_sub(1));
    if t.json {
        out.push_str(",\"func\":");
        push_json_str(&mut out, &f.name);
        if let Some(v) = &v {
            out.push_str(",\"t\":");
            push_json_str(&mut out, &m.type_name(v.ty));
            out.push_str(",\"value\":");
            v.val.json(&mut out);
        }
        out.push_str("}\n");
    } else {
        out.push_str("return ");
        if let Some(v) = &v {
            v.val.text(&mut out);
            out.push(' ');
        }
        let _ = writeln!(out, "from {}", f.name);
    }
    t.write_line(&out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }

    #[test]
    fn floats_json_cannot_write_are_strings() {
        let mut s = String::new();
        Val::Float(f64::NAN).json(&mut s);
        Val::Float(f64::NEG_INFINITY).json(&mut s);
        Val::Float(1.0).json(&mut s);
        assert_eq!(s, "\"NaN\"\"-inf\"1.0");
    }

    /// A trace buffer shared with the VM.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[cfg(feature = "compiler")]
    fn traced_run(src: &str, mode: TraceMode, fuel: Option<u64>) -> (String, usize) {
        use crate::{Config, Host, JitMode, RunError};
        let cfg = Config {
            trace: Some(mode),
            jit: JitMode::Off,
            ..Config::default()
        };
        let mut vm = Vm::from_source("t.pvm", src, &Host::new(), cfg).expect("compiles");
        let buf = Shared::default();
        vm.set_trace_output(buf.clone());
        vm.set_output(std::io::sink());
        vm.set_fuel(fuel);
        let mut r = vm.run_main();
        let mut stops = 0;
        // (A callback from a native that runs out runs again whole: no
        // natives with callbacks here.)
        while r == Err(RunError::OutOfFuel) && stops < 100_000 {
            stops += 1;
            vm.add_fuel(2);
            r = vm.resume_main();
        }
        assert_eq!(r, Ok(()));
        let text = String::from_utf8(buf.0.lock().expect("not poisoned").clone()).expect("utf-8");
        (text, stops)
    }

    /// Suspending and resuming adds `suspend` events and repeats the
    /// instructions that stopped (marked as not finished), nothing else.
    #[cfg(feature = "compiler")]
    #[test]
    fn a_suspended_run_traces_as_an_uninterrupted_one() {
        let src = "fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }\n\
                   fn main() { let t = 0; for i in 0..6 { t += fib(i); } \
                   try { let z = 0; println(str(10 / z)); } catch e { println(e); } \
                   let add = fn(a: int) -> int { return a + fib(3); }; println(add(t)); }";
        for mode in [TraceMode::Values, TraceMode::Json] {
            let (whole, none) = traced_run(src, mode, None);
            let (pieces, stops) = traced_run(src, mode, Some(2));
            assert_eq!(none, 0);
            assert!(stops > 10, "{stops} suspensions");
            let suspends = pieces.lines().filter(|l| l.contains("suspend")).count();
            assert_eq!(suspends, stops);
            // Instructions that did not finish appear in both (a failed
            // division) or only in the suspended run (they run again).
            let kept = |t: &str| -> Vec<String> {
                t.lines()
                    .filter(|l| !l.contains("suspend") && !l.ends_with("(did not finish)") && !l.contains("\"done\":false"))
                    .map(str::to_string)
                    .collect()
            };
            let (a, b) = (kept(&pieces), kept(&whole));
            assert!(whole.contains("unwind") && whole.contains("<lambda>"), "{whole}");
            assert!(
                pieces
                    .lines()
                    .filter(|l| l.ends_with("(did not finish)") || l.contains("\"done\":false"))
                    .count()
                    > stops
            );
            if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
                panic!("line {i} differs: {:?} with suspensions, {:?} without", a.get(i), b.get(i));
            }
        }
    }
}
