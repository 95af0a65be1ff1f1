//! Where the VM meets compiled code: the tiering policy, the description of
//! the VM the JIT compiles against ([`pvm_jit::Runtime`]), and the helper
//! functions compiled code calls.
//!
//! **Tiering.** With the JIT on, every call and every loop back edge in the
//! interpreter counts towards its function. A function whose count reaches
//! the threshold is compiled; calls then go to the machine code, and a loop
//! that made it hot moves there at once, at its header (on-stack
//! replacement: the interpreter's registers are all in memory, and the
//! compiled code loads them). With `--jit=always` every function is
//! compiled before its first call.
//!
//! **Helpers** are `extern "C"` functions whose first argument is the VM.
//! Those that can fail return a status (0 ok, 1 an error, 2 the run
//! stopped: fuel, interrupt; the reason is left in `Vm::jit_trap`); those
//! that produce a reference write it straight into the destination
//! register's slot, where the collector sees it, before they reach a
//! safepoint. A helper must not panic: unwinding out of an `extern "C"`
//! function aborts the process. The two that run arbitrary Rust code (a
//! native or host function, the interpreter) catch panics and hand them to
//! [`Vm::with_native_stack`], which raises them again in Rust code.

use crate::config::JitMode;
use crate::error::Trap;
use crate::frames::{Frame, FrameStack, Handler};
use crate::heap::{self, ArrayObj, MapObj, StrObj};
use crate::native_stack::{stack_pointer, NativeStack};
use crate::{JitStats, Vm};
use pvm_jit::{Compiled, Helpers, Offsets, Reason, Runtime, ENTRY_NORMAL, STATUS_OK, STATUS_SUSPENDED, STATUS_TRAP, STATUS_YIELD};
use std::any::Any;
use std::mem::offset_of;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Duration;

/// The signature of compiled code and of the interpreter's trampoline.
pub(crate) type Entry = unsafe extern "C" fn(*mut Vm, *mut u64, u32) -> Ret;

/// What compiled code returns: a status (`pvm_jit::STATUS_*`) and, after
/// a return, the result's bits. Two integers: returned in two registers
/// (`rax` and `rdx` on x86-64, `x0` and `x1` on AArch64), as Cranelift
/// returns its two `i64` results.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ret {
    status: u64,
    value: u64,
}

impl Ret {
    fn status(s: i64) -> Ret {
        Ret {
            status: s as u64,
            value: 0,
        }
    }
}

/// Where a function stands with the JIT.
enum Tier {
    /// Interpreted; compiled when its count reaches the threshold.
    Interpreted,
    /// Compiled; these are its loop headers, where the interpreter can move
    /// a running frame into the code.
    Compiled(Box<[u32]>),
    /// The JIT could not compile it: it stays interpreted.
    Failed,
}

/// The JIT's state in a VM.
pub(crate) struct JitState {
    jit: pvm_jit::Jit,
    pub(crate) rt: Runtime,
    /// Each function's entry: compiled code or [`interp_entry`]. Never moves
    /// (compiled code holds its address), nor do the next two tables.
    code: Box<[usize]>,
    /// Each function's `registers | captures << 32`.
    _fn_info: Box<[u64]>,
    /// Interface dispatch by `class * slots + slot` (see [`iface_table`]).
    _iface: Box<[u32]>,
    /// Calls and loop iterations seen per function, up to the threshold.
    counts: Box<[u32]>,
    tiers: Vec<Tier>,
    threshold: u32,
    log: bool,
    compiled: u64,
    compile_time: Duration,
    code_bytes: u64,
    /// A panic (in a host function) that crossed compiled code, to be
    /// raised again when the run is back in Rust code.
    panic: Option<Box<dyn Any + Send>>,
    /// Time in each tier, measured at every switch (`--stats` only).
    clock: Option<TierClock>,
}

/// Splits run time between compiled code and the rest (interpreter,
/// natives, collector): each switch between the tiers adds the time since
/// the previous switch to the tier being left.
struct TierClock {
    last: web_time::Instant,
    compiled: Duration,
}

impl JitState {
    /// Marks a switch into compiled code (`true`) or out of it.
    #[inline]
    fn switch(&mut self, into_compiled: bool) {
        if let Some(c) = self.clock.as_mut() {
            let now = web_time::Instant::now();
            if !into_compiled {
                c.compiled += now - c.last;
            }
            c.last = now;
        }
    }
}

impl JitState {
    fn new(vm: &Vm) -> Result<JitState, String> {
        let n = vm.module.functions.len();
        let code = vec![interp_entry as Entry as *const () as usize; n].into_boxed_slice();
        let fn_info: Box<[u64]> = vm.funcs.iter().map(|f| f.nregs as u64 | (f.ncaps as u64) << 32).collect();
        let (iface, iface_slots) = iface_table(vm);
        // The constant, global and function-value tables are built once when
        // the VM is linked and never resized, so their addresses hold.
        let rt = Runtime {
            off: offsets(),
            helpers: helpers(),
            code_table: code.as_ptr() as usize,
            consts: vm.consts.as_ptr() as usize,
            globals: vm.globals.as_ptr() as usize,
            static_closures: vm.static_closures.as_ptr() as usize,
            chunk_bytes: crate::stack::CHUNK_BYTES as u64,
            fn_info: fn_info.as_ptr() as usize,
            iface_table: if iface.is_empty() { 0 } else { iface.as_ptr() as usize },
            iface_slots,
        };
        Ok(JitState {
            jit: pvm_jit::Jit::new()?,
            rt,
            code,
            _fn_info: fn_info,
            _iface: iface,
            counts: vec![0; n].into_boxed_slice(),
            tiers: (0..n).map(|_| Tier::Interpreted).collect(),
            threshold: vm.config.jit_threshold.max(1),
            log: vm.config.jit_log,
            compiled: 0,
            compile_time: Duration::ZERO,
            code_bytes: 0,
            panic: None,
            clock: vm.config.count_instructions.then(|| TierClock {
                last: web_time::Instant::now(),
                compiled: Duration::ZERO,
            }),
        })
    }

    /// Counts a call of, or a loop iteration in, function `f`; true once it
    /// is hot (the VM then looks at its tier, out of line).
    #[inline(always)]
    pub(crate) fn hot(&mut self, f: usize) -> bool {
        // SAFETY: `f` is a function of the module (the verifier checked
        // every call target; frames hold only such functions).
        let c = unsafe { self.counts.get_unchecked_mut(f) };
        if *c >= self.threshold {
            return true;
        }
        *c += 1;
        false
    }
}

/// Entries of the class-by-slot dispatch table at most (4 MiB).
const MAX_IFACE_TABLE: usize = 1 << 20;

/// The interface dispatch table: for each class and each interface method
/// slot, the function that implements it (`u32::MAX` where the class does
/// not implement the slot's interface; the verifier proved such entries are
/// never looked up). Empty when it would be larger than [`MAX_IFACE_TABLE`]
/// (compiled code then asks a helper, as the interpreter does).
fn iface_table(vm: &Vm) -> (Box<[u32]>, u32) {
    let slots = vm
        .module
        .interfaces
        .iter()
        .map(|i| usize::from(i.first_slot) + i.methods.len())
        .max()
        .unwrap_or(0);
    let classes = vm.itables.len();
    let Some(size) = classes.checked_mul(slots).filter(|&n| n > 0 && n <= MAX_IFACE_TABLE) else {
        return (Box::new([]), 0);
    };
    let Ok(slots32) = u32::try_from(slots) else {
        return (Box::new([]), 0);
    };
    let mut t = vec![u32::MAX; size];
    for (class, tables) in vm.itables.iter().enumerate() {
        for it in tables.iter() {
            for slot in it.first..it.end {
                let f = vm.itable_funcs[(it.base + slot - it.first) as usize];
                t[class * slots + slot as usize] = f;
            }
        }
    }
    (t.into_boxed_slice(), slots32)
}

/// Offsets of the VM state compiled code touches.
pub(crate) fn offsets() -> Offsets {
    let frames = offset_of!(Vm, frames);
    Offsets {
        ticks: offset_of!(Vm, ticks) as i32,
        frames_ptr: (frames + offset_of!(FrameStack, ptr)) as i32,
        frames_len: (frames + offset_of!(FrameStack, len)) as i32,
        frames_limit: (frames + offset_of!(FrameStack, limit)) as i32,
        native_limit: offset_of!(Vm, native_limit) as i32,
        marking: (offset_of!(Vm, heap) + heap::marking_offset()) as i32,
        frame_size: std::mem::size_of::<Frame>() as i32,
        frame_base: offset_of!(Frame, base) as i32,
        frame_func: offset_of!(Frame, func) as i32,
        frame_pc: offset_of!(Frame, pc) as i32,
        frame_dst: offset_of!(Frame, dst) as i32,
        map_live: offset_of!(MapObj, live) as i32,
    }
}

macro_rules! addrs {
    ($($name:ident),*) => {
        Helpers { $($name: $name as *const () as usize,)* }
    };
}

fn helpers() -> Helpers {
    addrs!(
        refuel,
        window,
        frames_grow,
        raise,
        unwind,
        iface,
        native,
        new_object,
        new_array,
        array_fill,
        push,
        pop,
        sort,
        new_map,
        map_get,
        map_set,
        map_has,
        map_remove,
        map_keys,
        new_cell,
        closure,
        concat,
        tostr,
        str_eq,
        str_cmp,
        throw,
        try_begin,
        try_end,
        leave,
        barrier,
        fmod,
        zero
    )
}

impl Vm {
    /// Starts the JIT if the configuration asks for it (and the machine
    /// allows it: Cranelift supports it and the VM's stack can be reserved).
    pub(crate) fn start_jit(&mut self) {
        // Tracing shows every instruction: the interpreter's job.
        if self.config.jit == JitMode::Off || self.config.trace.is_some() {
            return;
        }
        // 512 bytes per frame allowed, within bounds; address space only.
        let want = self.config.max_depth.saturating_mul(512).clamp(16 << 20, 256 << 20);
        let size = want.min((self.config.max_heap / 2).max(16 << 20));
        let Some(stack) = NativeStack::new(size) else {
            if self.config.jit_log {
                eprintln!("[jit] off: no address space for the VM's stack ({size} bytes)");
            }
            return;
        };
        match JitState::new(self) {
            Ok(st) => {
                self.jit = Some(st);
                self.native_stack = Some(stack);
            }
            Err(e) => {
                if self.config.jit_log {
                    eprintln!("[jit] off: {e}");
                }
                return;
            }
        }
        if self.config.jit == JitMode::Always {
            for f in 0..self.module.functions.len() {
                self.jit_compile(f, Reason::Always);
            }
        }
    }

    /// Runs `f` on the VM's own machine stack when the JIT is on (see
    /// `native_stack`); a run already on it just continues.
    pub(crate) fn with_native_stack<R>(&mut self, f: impl FnOnce(&mut Vm) -> R) -> R {
        if self.native_limit != 0 {
            return f(self);
        }
        let Some(stack) = self.native_stack.take() else {
            return f(self);
        };
        self.native_limit = stack.limit();
        let r = catch_unwind(AssertUnwindSafe(|| stack.run(|| f(self))));
        self.native_limit = 0;
        self.native_stack = Some(stack);
        match r {
            Ok(v) => {
                // A host function's panic that crossed compiled code goes on.
                if let Some(p) = self.jit.as_mut().and_then(|st| st.panic.take()) {
                    resume_unwind(p);
                }
                v
            }
            Err(p) => resume_unwind(p),
        }
    }

    /// Whether the machine stack is too deep to enter pvm code again.
    pub(crate) fn native_stack_low(&self) -> bool {
        self.native_limit != 0 && stack_pointer() < self.native_limit
    }

    /// The entry of `f` if it is compiled, compiling it first if it just
    /// became hot (`why` says why, for the log). `None`: interpret it.
    pub(crate) fn jit_entry(&mut self, f: usize, why: Reason) -> Option<Entry> {
        let st = self.jit.as_mut()?;
        match st.tiers[f] {
            // SAFETY: the table holds compiled code of the entry signature.
            Tier::Compiled(_) => Some(unsafe { std::mem::transmute::<usize, Entry>(st.code[f]) }),
            Tier::Failed => None,
            Tier::Interpreted => self.jit_compile(f, why),
        }
    }

    /// Compiles function `f` now; `None` if the JIT cannot (it stays
    /// interpreted, and the log says why).
    fn jit_compile(&mut self, f: usize, why: Reason) -> Option<Entry> {
        let st = self.jit.as_mut()?;
        let rt = st.rt;
        let Ok(fid) = u16::try_from(f) else {
            return None;
        };
        match st.jit.compile(&self.module, &rt, fid) {
            Ok(c) => {
                let Compiled {
                    code,
                    bytecode_len,
                    ir_len,
                    code_len,
                    micros,
                    osr_entries,
                } = c;
                st.code[f] = code as usize;
                st.tiers[f] = Tier::Compiled(osr_entries.into_boxed_slice());
                st.counts[f] = st.threshold;
                st.compiled += 1;
                st.code_bytes += code_len as u64;
                st.compile_time += Duration::from_micros(micros);
                if st.log {
                    let reason = match why {
                        Reason::Calls => "called often".to_string(),
                        Reason::Loop(pc) => format!("loop at {pc}"),
                        Reason::Always => "--jit=always".to_string(),
                    };
                    eprintln!(
                        "[jit] {} ({reason}): {bytecode_len} instructions -> {ir_len} IR instructions -> {code_len} bytes of machine code in {micros} us",
                        self.module.functions[f].name
                    );
                }
                // SAFETY: the JIT made `code` with the entry signature.
                Some(unsafe { std::mem::transmute::<*const u8, Entry>(code) })
            }
            Err(e) => {
                if st.log {
                    eprintln!("[jit] {} stays interpreted: {e}", self.module.functions[f].name);
                }
                st.tiers[f] = Tier::Failed;
                st.counts[f] = 0;
                None
            }
        }
    }

    /// Calls compiled code for the frame on top (whose window is `regs`);
    /// the error it raised, if any.
    fn jit_call(&mut self, code: Entry, regs: *mut u64, entry: u32) -> Result<u64, Trap> {
        // SAFETY: `code` was compiled for this VM's module (or is the
        // interpreter's trampoline); `regs` is the window of the frame on
        // top of the stack, filled as the contract in `pvm_jit` requires;
        // the VM pointer is valid for the call and only used through it.
        if let Some(st) = self.jit.as_mut() {
            st.switch(true);
        }
        let r = unsafe { code(self as *mut Vm, regs, entry) };
        if let Some(st) = self.jit.as_mut() {
            st.switch(false);
        }
        if r.status == STATUS_OK as u64 {
            Ok(r.value)
        } else if r.status == STATUS_YIELD as u64 {
            Err(Trap::Yield)
        } else {
            Err(self.take_jit_trap())
        }
    }

    fn take_jit_trap(&mut self) -> Trap {
        self.jit_trap
            .take()
            .unwrap_or_else(|| Trap::Error("internal error: compiled code failed without an error".into()))
    }

    /// The interpreter is about to run the frame on top, just entered by a
    /// call of hot function `f`: runs it as compiled code instead if it is
    /// (or can be) compiled. `Some(result)` (0 for `void`) when it ran and
    /// returned, its frame popped; `None` to interpret it.
    #[inline(never)]
    pub(crate) fn jit_run_call(&mut self, f: usize) -> Result<Option<u64>, Trap> {
        let Some(code) = self.jit_entry(f, Reason::Calls) else {
            return Ok(None);
        };
        let regs = self.frames.last().map_or(std::ptr::null_mut(), |fr| fr.base);
        let v = self.jit_call(code, regs, ENTRY_NORMAL)?;
        Ok(Some(if self.funcs[f].returns { v } else { 0 }))
    }

    /// The interpreter is at loop header `pc` of the frame on top, a frame
    /// of hot function `f`: continues the frame in compiled code from there
    /// (on-stack replacement) if it can. `Some(result)` when the frame
    /// returned (popped), `None` to go on interpreting.
    #[inline(never)]
    pub(crate) fn jit_run_loop(&mut self, f: usize, pc: u32) -> Result<Option<u64>, Trap> {
        let Some(code) = self.jit_entry(f, Reason::Loop(pc)) else {
            return Ok(None);
        };
        let enterable = match self.jit.as_ref().map(|st| &st.tiers[f]) {
            Some(Tier::Compiled(headers)) => headers.binary_search(&pc).is_ok(),
            _ => false,
        };
        // Compiled code needs a little machine stack; without it, the
        // interpreter goes on (it does not recurse on it).
        if !enterable || self.native_stack_low() {
            return Ok(None);
        }
        let Some(top) = self.frames.last_mut() else {
            return Ok(None);
        };
        top.pc = pc;
        let regs = top.base;
        let v = self.jit_call(code, regs, pc)?;
        Ok(Some(if self.funcs[f].returns { v } else { 0 }))
    }

    /// Runs the frame just pushed for a call from outside pvm code (the
    /// host, `main`, a native's callback) to its return, compiled if it can
    /// be; the rest as [`Vm::run_frames`].
    pub(crate) fn jit_run_entry(&mut self, f: usize, depth0: usize, resumable: bool) -> Result<u64, Trap> {
        if self.native_stack_low() {
            self.frames.truncate(depth0);
            return Err(Trap::Error("stack overflow".into()));
        }
        let hot = self.jit.as_mut().is_some_and(|st| st.hot(f));
        if hot {
            match self.jit_run_call(f) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(t) => return self.settle(depth0, resumable, Some(Err(t))),
            }
        }
        self.run_frames(depth0, resumable)
    }

    /// What the JIT did so far.
    pub(crate) fn jit_stats(&self) -> JitStats {
        self.jit
            .as_ref()
            .map(|s| JitStats {
                compiled: s.compiled,
                compile_time: s.compile_time,
                code_bytes: s.code_bytes,
                compiled_time: s.clock.as_ref().map_or(Duration::ZERO, |c| c.compiled),
            })
            .unwrap_or_default()
    }

    /// Cranelift IR (`clif`) or machine code (`asm`) of every function, as
    /// text, for `pvm dis --clif` and `--asm`.
    pub fn jit_listing(&mut self, asm: bool) -> Result<String, String> {
        let st = self.jit.as_mut().ok_or("the JIT is off")?;
        let rt = st.rt;
        let mut out = String::new();
        for (i, f) in self.module.functions.iter().enumerate() {
            out.push_str(&format!("; fn #{i} {}\n", f.name));
            let text = if asm {
                st.jit.asm(&self.module, &rt, i as u16)?
            } else {
                st.jit.clif(&self.module, &rt, i as u16)?
            };
            out.push_str(&text);
            out.push('\n');
        }
        Ok(out)
    }
}

// ------------------------------------------------------------ helpers
//
// SAFETY (for every helper): compiled code calls these with the VM pointer
// it was given (valid and not otherwise in use during the call), with slot
// values whose types the verifier proved (a reference argument is nil or a
// live object of the static type), and with `out` pointing at the
// destination register's slot in the running frame's window.

fn vm<'a>(p: *mut Vm) -> &'a mut Vm {
    // SAFETY: see above.
    unsafe { &mut *p }
}

/// Stores a trap for compiled code to find; the status to return: 2 when
/// it stops the run (out of fuel, interrupted), 1 for an error.
fn fail(vm: &mut Vm, t: Trap) -> i64 {
    let s = match t {
        Trap::Yield => STATUS_YIELD,
        _ if t.suspends() => STATUS_SUSPENDED,
        _ => STATUS_TRAP,
    };
    vm.jit_trap = Some(t);
    s
}

/// Runs a safepoint: the result of an allocation is already in its slot.
fn safepoint(vm: &mut Vm) -> i64 {
    if vm.heap.wants_gc() {
        if let Err(t) = vm.gc_step() {
            return fail(vm, t);
        }
    }
    0
}

fn status(vm: &mut Vm, r: Result<(), Trap>) -> i64 {
    match r {
        Ok(()) => 0,
        Err(t) => fail(vm, t),
    }
}

/// The interpreter as a callee of compiled code: runs the frame the caller
/// pushed until it returns (or, when the callee has become hot, calls its
/// compiled code instead).
pub(crate) unsafe extern "C" fn interp_entry(p: *mut Vm, regs: *mut u64, entry: u32) -> Ret {
    let vm = vm(p);
    let depth0 = vm.frames.len() - 1;
    let f = vm.frames.last().map_or(0, |fr| fr.func as usize);
    if vm.native_stack_low() {
        return Ret::status(fail(vm, Trap::Error("stack overflow".into())));
    }
    if entry == ENTRY_NORMAL && vm.jit.as_mut().is_some_and(|st| st.hot(f)) {
        if let Some(code) = vm.jit_entry(f, Reason::Calls) {
            // SAFETY: as for any compiled call: the caller set up the frame.
            return unsafe { code(p, regs, entry) };
        }
    }
    if entry == ENTRY_NORMAL {
        // Compiled callers zero only reference registers; the interpreter
        // starts from all zeroes.
        let rt = &vm.funcs[f];
        let from = rt.nparams + rt.ncaps;
        // SAFETY: the window holds the callee's `nregs` registers.
        unsafe { std::ptr::write_bytes(regs.add(from), 0, rt.nregs - from) };
    }
    if let Some(st) = vm.jit.as_mut() {
        st.switch(false);
    }
    // A panic must not unwind through compiled code: it is kept, and
    // raised again where the run returns to Rust (`with_native_stack`).
    let r = catch_unwind(AssertUnwindSafe(|| vm.run_frames(depth0, true)));
    let vm = self::vm(p);
    if let Some(st) = vm.jit.as_mut() {
        st.switch(true);
    }
    match r {
        Ok(Ok(v)) => Ret {
            status: STATUS_OK as u64,
            value: v,
        },
        Ok(Err(t)) => Ret::status(fail(vm, t)),
        Err(panic) => Ret::status(panicked(vm, panic)),
    }
}

/// Keeps a panic for `with_native_stack` and stops the run.
fn panicked(vm: &mut Vm, panic: Box<dyn Any + Send>) -> i64 {
    if let Some(st) = vm.jit.as_mut() {
        st.panic.get_or_insert(panic);
    }
    fail(vm, Trap::Limit("a host function panicked".into()))
}

unsafe extern "C" fn refuel(p: *mut Vm) -> i64 {
    let vm = vm(p);
    let r = vm.refuel();
    status(vm, r)
}

unsafe extern "C" fn window(p: *mut Vm, base: *mut u64, caller_n: i64, n: i64) -> i64 {
    let vm = vm(p);
    let (used, max) = (vm.heap.bytes + vm.stack.bytes(), vm.heap.max);
    match vm
        .stack
        .next_window(base, caller_n as usize, n as usize, |more| used.saturating_add(more) <= max)
    {
        Some(nb) => nb as i64,
        None => {
            fail(vm, Trap::Error("stack overflow".into()));
            0
        }
    }
}

/// Makes room for one more frame record, or `stack overflow` at the depth limit.
unsafe extern "C" fn frames_grow(p: *mut Vm) -> i64 {
    let vm = vm(p);
    if vm.frames.len >= vm.frames.max {
        return fail(vm, Trap::Error("stack overflow".into()));
    }
    while vm.frames.len >= vm.frames.limit {
        vm.frames.grow();
    }
    0
}

unsafe extern "C" fn raise(p: *mut Vm, kind: i64, a: i64, b: i64) -> i64 {
    use pvm_jit::raise as k;
    let vm = vm(p);
    let msg = match kind {
        k::NIL => "nil reference".to_string(),
        k::DIV_ZERO => "division by zero".to_string(),
        k::INDEX => format!("index out of range: index {a} for length {b}"),
        k::STACK_OVERFLOW => "stack overflow".to_string(),
        k::FLOAT_TO_INT => format!(
            "invalid conversion: {} does not fit in an int",
            crate::format::float(f64::from_bits(a as u64))
        ),
        _ => "internal error: compiled code reached an impossible state".to_string(),
    };
    fail(vm, Trap::Error(msg))
}

/// After an error in compiled code at frame `depth`: a handler of that
/// frame catches it (its message goes to the handler's register, frames
/// above are dropped: returns the handler's pc), or -1 to pass it on.
unsafe extern "C" fn unwind(p: *mut Vm, depth: i64) -> i64 {
    let vm = vm(p);
    let depth = depth as usize;
    let trap = vm
        .jit_trap
        .take()
        .unwrap_or_else(|| Trap::Error("internal error: unwinding without an error".into()));
    if trap.catchable() {
        // Handlers of frames above this one are dead (those frames failed).
        while vm.handlers.last().is_some_and(|h| h.depth as usize > depth) {
            vm.handlers.pop();
        }
        if let Some(h) = vm.handlers.last().copied().filter(|h| h.depth as usize == depth) {
            vm.handlers.pop();
            vm.frames.truncate(depth + 1);
            vm.pending_trace.clear();
            if let Trap::Error(msg) = &trap {
                let s = vm.new_str(msg);
                if let Some(top) = vm.frames.last_mut() {
                    // SAFETY: the verifier proved the handler's register is in
                    // the frame's window.
                    unsafe { *top.base.add(h.reg as usize) = s };
                }
            }
            return i64::from(h.target);
        }
    }
    vm.jit_trap = Some(trap);
    -1
}

unsafe extern "C" fn iface(p: *mut Vm, class: i64, slot: i64) -> i64 {
    let vm = vm(p);
    let slot = slot as u32;
    // The verifier proved the receiver's class implements the slot.
    vm.itables[class as usize]
        .iter()
        .find(|t| t.first <= slot && slot < t.end)
        .map(|t| i64::from(vm.itable_funcs[(t.base + slot - t.first) as usize]))
        .unwrap_or(0)
}

unsafe extern "C" fn native(p: *mut Vm, idx: i64, args: *const u64, out: *mut u64) -> i64 {
    let vm = vm(p);
    // SAFETY: `args` is the call's argument window, spilled to memory.
    let r = catch_unwind(AssertUnwindSafe(|| unsafe { vm.call_native(idx as u16, args) }));
    let vm = self::vm(p);
    let r = match r {
        Ok(r) => r,
        Err(panic) => return panicked(vm, panic),
    };
    match r {
        Ok(v) => {
            if let Some(v) = v {
                // SAFETY: `out` is the destination register's slot.
                unsafe { *out = v };
            }
            safepoint(vm)
        }
        // Stopped inside a callback: compiled code records the call's own
        // pc, so it runs again, whole, when the run resumes.
        Err(t) => fail(vm, t),
    }
}

/// Writes a new object's slot and runs the safepoint.
fn made(vm: &mut Vm, out: *mut u64, v: u64) -> i64 {
    // SAFETY: `out` is the destination register's slot.
    unsafe { *out = v };
    safepoint(vm)
}

unsafe extern "C" fn new_object(p: *mut Vm, class: i64, fields: *const u64, out: *mut u64) -> i64 {
    let vm = vm(p);
    let n = vm.heap.layouts.class_fields[class as usize] as usize;
    // SAFETY: the fields are the argument window, spilled to memory.
    let fields = unsafe { std::slice::from_raw_parts(fields, n) };
    let o = vm.heap.alloc_object(class as u32, fields) as u64;
    made(vm, out, o)
}

unsafe extern "C" fn new_array(p: *mut Vm, ty: i64, items: *const u64, n: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    // SAFETY: as for `new_object`.
    let items = unsafe { std::slice::from_raw_parts(items, n as usize) };
    let a = vm.heap.alloc_array(ty as u32, items) as u64;
    made(vm, out, a)
}

unsafe extern "C" fn array_fill(p: *mut Vm, ty: i64, n: i64, x: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    if n < 0 {
        return fail(vm, Trap::Error(format!("index out of range: negative array length {n}")));
    }
    let width = if vm.heap.layouts.elem_is_bool.get(ty as usize) == Some(&true) {
        1
    } else {
        8
    };
    let bytes = usize::try_from(n).unwrap_or(usize::MAX).saturating_mul(width);
    if let Err(t) = vm.gc_reserve(bytes) {
        return fail(vm, t);
    }
    let a = vm.heap.alloc_array_fill(ty as u32, n as usize, x as u64) as u64;
    made(vm, out, a)
}

fn nil<T>(vm: &mut Vm, v: u64, ok: impl FnOnce(&mut Vm) -> T) -> Result<T, i64> {
    if v == 0 {
        return Err(fail(vm, crate::nil()));
    }
    Ok(ok(vm))
}

unsafe extern "C" fn push(p: *mut Vm, a: i64, v: i64) -> i64 {
    let vm = vm(p);
    // SAFETY: `a` is a live array of the value's type.
    match nil(vm, a as u64, |vm| unsafe { vm.heap.array_push(a as *mut ArrayObj, v as u64) }) {
        Ok(()) => safepoint(vm),
        Err(s) => s,
    }
}

unsafe extern "C" fn pop(p: *mut Vm, a: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    // SAFETY: as for `push`.
    match nil(vm, a as u64, |vm| unsafe { vm.heap.array_pop(a as *mut ArrayObj) }) {
        Ok(Some(v)) => {
            // SAFETY: `out` is the destination register's slot.
            unsafe { *out = v };
            0
        }
        Ok(None) => fail(vm, Trap::Error("index out of range: pop from an empty array".into())),
        Err(s) => s,
    }
}

unsafe extern "C" fn sort(p: *mut Vm, a: i64) -> i64 {
    let vm = vm(p);
    if a == 0 {
        return fail(vm, crate::nil());
    }
    let r = vm.sort_array(a as *mut ArrayObj);
    status(vm, r)
}

unsafe extern "C" fn new_map(p: *mut Vm, ty: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    let m = vm.heap.alloc_map(ty as u32) as u64;
    made(vm, out, m)
}

/// The map and key after the `nil` checks (a `str` key must not be nil).
fn map_key(vm: &mut Vm, m: i64, k: i64) -> Result<*mut MapObj, i64> {
    let map = m as *mut MapObj;
    // SAFETY: a non-nil map slot points to a live map.
    if m == 0 || (k == 0 && unsafe { (*map).str_keys() }) {
        return Err(fail(vm, crate::nil()));
    }
    Ok(map)
}

unsafe extern "C" fn map_get(p: *mut Vm, m: i64, k: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    let map = match map_key(vm, m, k) {
        Ok(map) => map,
        Err(s) => return s,
    };
    // SAFETY: a live map; `k` a value of its key type.
    match unsafe { (*map).get(k as u64) } {
        Some(v) => {
            // SAFETY: `out` is the destination register's slot.
            unsafe { *out = v };
            0
        }
        None => {
            let t = vm.key_not_found(map, k as u64);
            fail(vm, t)
        }
    }
}

unsafe extern "C" fn map_set(p: *mut Vm, m: i64, k: i64, v: i64) -> i64 {
    let vm = vm(p);
    let map = match map_key(vm, m, k) {
        Ok(map) => map,
        Err(s) => return s,
    };
    // SAFETY: as for `map_get`.
    unsafe { vm.heap.map_insert(map, k as u64, v as u64) };
    safepoint(vm)
}

unsafe extern "C" fn map_has(p: *mut Vm, m: i64, k: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    let map = match map_key(vm, m, k) {
        Ok(map) => map,
        Err(s) => return s,
    };
    // SAFETY: as for `map_get`.
    unsafe { *out = u64::from((*map).find(k as u64).is_some()) };
    0
}

unsafe extern "C" fn map_remove(p: *mut Vm, m: i64, k: i64) -> i64 {
    let vm = vm(p);
    let map = match map_key(vm, m, k) {
        Ok(map) => map,
        Err(s) => return s,
    };
    // SAFETY: as for `map_get`.
    unsafe { vm.heap.map_remove(map, k as u64) };
    0
}

unsafe extern "C" fn map_keys(p: *mut Vm, m: i64, ty: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    if m == 0 {
        return fail(vm, crate::nil());
    }
    // SAFETY: a live map.
    let keys: Vec<u64> = unsafe { (*(m as *const MapObj)).iter().map(|e| e.key).collect() };
    let a = vm.heap.alloc_array(ty as u32, &keys) as u64;
    made(vm, out, a)
}

unsafe extern "C" fn new_cell(p: *mut Vm, holds_ref: i64, v: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    let c = vm.heap.alloc_cell(holds_ref != 0, v as u64) as u64;
    made(vm, out, c)
}

unsafe extern "C" fn closure(p: *mut Vm, f: i64, caps: *const u64, n: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    // SAFETY: the captures are the window, spilled to memory.
    let caps = unsafe { std::slice::from_raw_parts(caps, n as usize) };
    let c = vm.heap.alloc_closure(f as u32, caps) as u64;
    made(vm, out, c)
}

unsafe extern "C" fn concat(p: *mut Vm, a: i64, b: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    if a == 0 || b == 0 {
        return fail(vm, crate::nil());
    }
    // SAFETY: live strings.
    let (x, y) = unsafe { (heap::str_bytes(a as *const StrObj), heap::str_bytes(b as *const StrObj)) };
    let s = vm.heap.alloc_str_parts(&[x, y]) as u64;
    made(vm, out, s)
}

unsafe extern "C" fn tostr(p: *mut Vm, v: i64, ty: i64, out: *mut u64) -> i64 {
    let vm = vm(p);
    let s = vm.stringify(v as u64, ty as u16);
    made(vm, out, s)
}

unsafe extern "C" fn str_eq(a: i64, b: i64) -> i64 {
    if a == b {
        return 1;
    }
    if a == 0 || b == 0 {
        return 0;
    }
    // SAFETY: live strings.
    i64::from(unsafe { heap::str_bytes(a as *const StrObj) == heap::str_bytes(b as *const StrObj) })
}

/// 0 less, 1 equal, 2 greater, 3 a nil string (an error, stored).
unsafe extern "C" fn str_cmp(p: *mut Vm, a: i64, b: i64) -> i64 {
    let vm = vm(p);
    if a == 0 || b == 0 {
        fail(vm, crate::nil());
        return 3;
    }
    // SAFETY: live strings.
    let o = unsafe { heap::str_bytes(a as *const StrObj).cmp(heap::str_bytes(b as *const StrObj)) };
    o as i64 + 1
}

unsafe extern "C" fn throw(p: *mut Vm, s: i64) -> i64 {
    let vm = vm(p);
    if s == 0 {
        return fail(vm, crate::nil());
    }
    // SAFETY: a live string.
    let msg = String::from_utf8_lossy(unsafe { heap::str_bytes(s as *const StrObj) }).into_owned();
    fail(vm, Trap::Error(msg))
}

unsafe extern "C" fn try_begin(p: *mut Vm, depth: i64, target: i64, reg: i64) -> i64 {
    let vm = vm(p);
    if vm.handlers.len() >= crate::interp::MAX_HANDLERS {
        return fail(vm, Trap::Error("stack overflow".into()));
    }
    vm.handlers.push(Handler {
        depth: depth as u32,
        target: target as u32,
        reg: reg as u16,
    });
    0
}

unsafe extern "C" fn try_end(p: *mut Vm, depth: i64, count: i64) {
    let vm = vm(p);
    for _ in 0..count {
        if vm.handlers.last().is_none_or(|h| i64::from(h.depth) != depth) {
            break;
        }
        vm.handlers.pop();
    }
}

/// Returns from a compiled function with handlers: drops them and its frame.
unsafe extern "C" fn leave(p: *mut Vm, depth: i64) {
    let vm = vm(p);
    let depth = depth as usize;
    while vm.handlers.last().is_some_and(|h| h.depth as usize >= depth) {
        vm.handlers.pop();
    }
    vm.frames.truncate(depth);
}

unsafe extern "C" fn barrier(p: *mut Vm, old: i64) {
    vm(p).heap.write_barrier(old as u64);
}

extern "C" fn fmod(a: f64, b: f64) -> f64 {
    a % b
}

unsafe extern "C" fn zero(at: *mut u64, n: i64) {
    // SAFETY: compiled code passes the rest of a fresh window.
    unsafe { std::ptr::write_bytes(at, 0, n as usize) };
}
