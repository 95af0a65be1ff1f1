//! The interpreter: a register machine over verified bytecode.
//!
//! All registers of all active calls live in the register stack
//! (`crate::stack`: 64-bit slots in 1 MiB chunks that never move). A call's
//! frame is a window starting at its `base`; `R[x]` is `base[x]`. A call
//! puts the callee's window right after the caller's (or at the start of
//! the next chunk), copies the arguments into its first registers and
//! zeroes the rest (zero is `0`, `0.0`, `false` and `nil` alike, and the
//! collector must never see stale pointers).
//!
//! Every active call also has a [`Frame`] record in `Vm::frames`
//! (`crate::frames`), the running one on top: which function, where its
//! registers start, and the instruction it is at (written back when it
//! calls, or stops). Compiled code uses the same records. The interpreter
//! never recurses on the native stack for a pvm call: depth is bounded by
//! `max_depth`, and exceeding it is the catchable error `stack overflow`.
//! With the JIT on, calls and loop back edges count towards their function
//! and hot code moves to machine code (`tier_up_call!`, `tier_up_loop!`,
//! and `crate::jit_glue`).
//!
//! The dispatch loop keeps the hot state (`code`, `pc`, `regs`) in locals and
//! reads registers without bounds checks; the verifier has proved every
//! index in range. Errors travel as `Err(Trap)` out of the loop to
//! [`Vm::run_frames`], which either jumps to the innermost `try` handler
//! (unwinding the frames above it) or gives the error to its caller.
//!
//! **Re-entry.** A native (such as `sort_by`) or a host function may call
//! pvm code: [`Vm::invoke`] pushes a frame above the running ones and runs
//! a nested loop until it returns. The nested activation only unwinds its
//! own frames; an error it does not catch leaves through the native, into
//! the pvm code that called it.
//!
//! **Checkpoints.** Function entries (the call instructions) and loop back
//! edges (a jump to an earlier instruction) cost one tick of fuel; every
//! [`crate::FUEL_CHUNK`] ticks the VM looks at its interrupt flag. When
//! the fuel runs out or an interrupt arrives, the instruction has not run
//! yet: its frame records its own index, and the run is *suspended* with
//! every frame intact, to be resumed later from exactly there.
//!
//! The loop is compiled twice through a const generic: once plain, once
//! counting instructions for `--stats`/`--trace`, so the fast path pays
//! nothing for instrumentation.

use crate::error::{TraceLine, Trap};
use crate::heap::{closure_caps, field_ptr, str_bytes, ArrayObj, CellObj, ClosureObj, Header, MapObj, Obj, StrObj};
use crate::natives::{Imp, MAX_NATIVE_ARGS};
use crate::{TraceMode, Vm};
use pvm_bytecode::{Instr, Type};
use std::cmp::Ordering;

/// Active `try` blocks at most, over all frames.
pub(crate) const MAX_HANDLERS: usize = 1 << 20;

pub use crate::frames::{Frame, Handler};

fn nil() -> Trap {
    Trap::Error("nil reference".into())
}

/// Java's `Double.compare`: -0.0 before 0.0, NaN after everything.
fn float_order(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.total_cmp(&b),
    }
}

/// Java's `Math.min`/`Math.max` on doubles.
fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else if a < b {
        a
    } else {
        b
    }
}

fn fmax(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        if a.is_sign_negative() {
            b
        } else {
            a
        }
    } else if a > b {
        a
    } else {
        b
    }
}

impl Vm {
    /// Calls function `f` with `args` above the running frames and runs it
    /// to its return. Used for the initialisers and `main`, for calls from
    /// the host, and re-entrantly by natives and host functions.
    pub(crate) fn invoke(&mut self, f: u16, args: &[u64]) -> Result<u64, Trap> {
        let depth0 = self.frames.len();
        let nregs = self.funcs[f as usize].nregs;
        if depth0 >= self.config.max_depth {
            return Err(Trap::Error("stack overflow".into()));
        }
        #[cfg(feature = "jit")]
        if self.native_stack_low() {
            return Err(Trap::Error("stack overflow".into()));
        }
        let base = match self.frames.last().copied() {
            None => self.stack.bottom(),
            Some(fr) => self.window_after(fr, nregs).ok_or_else(|| Trap::Error("stack overflow".into()))?,
        };
        let rt = &self.funcs[f as usize];
        let n = args.len().min(rt.nparams + rt.ncaps);
        // SAFETY: the window `[base, base + nregs)` lies in one chunk of the
        // register stack, above every active frame's window.
        unsafe {
            std::ptr::copy_nonoverlapping(args.as_ptr(), base, n);
            std::ptr::write_bytes(base.add(n), 0, nregs - n);
        }
        self.frames.push(Frame {
            func: u32::from(f),
            pc: 0,
            base,
            dst: 0,
        });
        #[cfg(feature = "jit")]
        if self.jit.is_some() {
            return self.with_native_stack(|vm| vm.jit_run_entry(f as usize, depth0, depth0 == 0));
        }
        self.run_frames(depth0, depth0 == 0)
    }

    /// The window for a callee of `n` registers above frame `fr`: `None`
    /// when the stack would need memory past the heap limit.
    pub(crate) fn window_after(&mut self, fr: Frame, n: usize) -> Option<*mut u64> {
        let caller_n = self.funcs[fr.func as usize].nregs;
        let (used, max) = (self.heap.bytes + self.stack.bytes(), self.heap.max);
        self.stack
            .next_window(fr.base, caller_n, n, |more| used.saturating_add(more) <= max)
    }

    /// Calls a closure value with `args` (for natives such as `sort_by`).
    pub(crate) fn call_closure(&mut self, clo: u64, args: &[u64]) -> Result<u64, Trap> {
        if clo == 0 {
            return Err(super::nil());
        }
        // SAFETY: `clo` is a live closure: natives pass a `fn` argument,
        // which the linker matched against a function type.
        let c = clo as *const ClosureObj;
        // SAFETY: as above; the header's `aux` of a closure is its function.
        let f = unsafe { (*(clo as *const Header)).aux };
        let mut all = args.to_vec();
        // SAFETY: as above.
        all.extend_from_slice(unsafe { closure_caps(c) });
        self.invoke(f as u16, &all)
    }

    /// Continues the suspended frames (see [`Vm::run_frames`]).
    pub(crate) fn resume_raw(&mut self) -> Result<u64, Trap> {
        #[cfg(feature = "jit")]
        if self.jit.is_some() {
            return self.with_native_stack(|vm| vm.run_frames(0, true));
        }
        self.run_frames(0, true)
    }

    /// Runs frames from `frames[depth0]` (the entry of this activation)
    /// until it returns, catching errors with this activation's handlers.
    /// On an error no handler catches, this activation's frames are gone
    /// and their trace lines added to `pending_trace`. On a suspension every
    /// frame stays for resuming when `resumable`: at the top, or under
    /// compiled code (which can write its own state back), but not under a
    /// native, whose Rust frames cannot be suspended.
    pub(crate) fn run_frames(&mut self, depth0: usize, resumable: bool) -> Result<u64, Trap> {
        self.settle(depth0, resumable, None)
    }

    /// [`Vm::run_frames`], when the first result may be known already
    /// (compiled code ran the entry frame).
    pub(crate) fn settle(&mut self, depth0: usize, resumable: bool, mut first: Option<Result<u64, Trap>>) -> Result<u64, Trap> {
        loop {
            let r = match first.take() {
                Some(r) => r,
                None if self.config.count_instructions || self.config.trace.is_some() => self.exec::<true>(depth0),
                None => self.exec::<false>(depth0),
            };
            let trap = match r {
                Ok(v) => return Ok(v),
                Err(Trap::Yield) => continue,
                Err(t) => t,
            };
            if self.tracer.as_ref().is_some_and(|t| t.events()) {
                let h = self.handlers.last().filter(|h| trap.catchable() && h.depth as usize >= depth0);
                let handler = h.map(|h| (h.depth as usize, h.target));
                self.trace_trap(&trap, handler, trap.suspends() && resumable, depth0);
            }
            if trap.catchable() {
                if let Some(h) = self.handlers.last().copied().filter(|h| h.depth as usize >= depth0) {
                    self.handlers.pop();
                    self.frames.truncate(h.depth as usize + 1);
                    self.pending_trace.clear();
                    if let Trap::Error(msg) = &trap {
                        let s = self.new_str(msg);
                        let top = self.frames.last_mut().expect("a handler's frame is active");
                        top.pc = h.target;
                        // SAFETY: the verifier proved the handler's register is
                        // in its function's window.
                        unsafe { *top.base.add(h.reg as usize) = s };
                        self.trace_caught(h.reg, msg);
                    }
                    continue;
                }
            }
            if trap.suspends() && resumable {
                return Err(trap);
            }
            let lines: Vec<TraceLine> = self.frames[depth0..].iter().rev().map(|fr| self.frame_line(fr)).collect();
            self.pending_trace.extend(lines);
            self.frames.truncate(depth0);
            let keep = self.handlers.iter().take_while(|h| (h.depth as usize) < depth0).count();
            self.handlers.truncate(keep);
            return Err(trap);
        }
    }

    fn frame_line(&self, fr: &Frame) -> TraceLine {
        let f = &self.module.functions[fr.func as usize];
        // `pc` is past the instruction that called or failed.
        let line = f.lines.get((fr.pc as usize).saturating_sub(1)).copied().unwrap_or(0);
        TraceLine {
            function: f.name.clone(),
            file: self.module.files.get(f.file as usize).cloned().unwrap_or_default(),
            line,
        }
    }

    /// One slice of collector work at a safepoint. The roots are every
    /// active frame's reference registers (every frame is in `frames`),
    /// the globals, the constants and natives' temporary roots.
    #[inline(never)]
    pub(crate) fn gc_step(&mut self) -> Result<(), Trap> {
        let traced = self
            .tracer
            .as_ref()
            .is_some_and(|t| t.events())
            .then(|| (self.heap.bytes, self.heap.phase, web_time::Instant::now()));
        let Vm {
            heap,
            globals,
            global_refs,
            permanent,
            roots,
            frames,
            funcs,
            ..
        } = self;
        let mut each_root = |f: &mut dyn FnMut(u64)| {
            for &g in global_refs.iter() {
                f(globals[g]);
            }
            for &v in permanent.iter().chain(roots.iter()) {
                f(v);
            }
            for fr in frames.iter() {
                for &r in funcs[fr.func as usize].ref_regs.iter() {
                    // SAFETY: every reference register of an active frame is
                    // inside its window.
                    f(unsafe { *fr.base.add(r as usize) });
                }
            }
        };
        let ok = heap.step(&mut each_root);
        if let Some((before, phase, t0)) = traced {
            self.trace_gc(before, phase, t0.elapsed(), false);
        }
        if ok {
            Ok(())
        } else {
            Err(self.heap_limit_trap())
        }
    }

    /// Makes room for one allocation of `bytes` (an array of a computed
    /// size): collects fully if that is what it takes, else the heap limit.
    #[inline(never)]
    pub(crate) fn gc_reserve(&mut self, bytes: usize) -> Result<(), Trap> {
        let traced = self
            .tracer
            .as_ref()
            .is_some_and(|t| t.events())
            .then(|| (self.heap.bytes, self.heap.phase, self.heap.progress().0, web_time::Instant::now()));
        let Vm {
            heap,
            globals,
            global_refs,
            permanent,
            roots,
            frames,
            funcs,
            ..
        } = self;
        let mut each_root = |f: &mut dyn FnMut(u64)| {
            for &g in global_refs.iter() {
                f(globals[g]);
            }
            for &v in permanent.iter().chain(roots.iter()) {
                f(v);
            }
            for fr in frames.iter() {
                for &r in funcs[fr.func as usize].ref_regs.iter() {
                    // SAFETY: every reference register of an active frame is
                    // inside its window.
                    f(unsafe { *fr.base.add(r as usize) });
                }
            }
        };
        let ok = heap.reserve(bytes, &mut each_root);
        if let Some((before, phase, cycle, t0)) = traced {
            if self.heap.progress().0 != cycle {
                // The instruction has not written its result yet: its
                // event stays held.
                self.trace_gc(before, phase, t0.elapsed(), true);
            }
        }
        if ok {
            Ok(())
        } else {
            Err(self.heap_limit_trap())
        }
    }

    /// `str(v)` for a value of type `ty`.
    #[inline(never)]
    pub(crate) fn stringify(&mut self, v: u64, ty: u16) -> u64 {
        match self.module.types.get(ty as usize) {
            Some(Type::Str) if v != 0 => v,
            Some(Type::Int) => {
                let buf = itoa_buf(v as i64);
                self.heap.alloc_str(buf.as_str()) as u64
            }
            _ => {
                let mut s = String::new();
                crate::format::value(&self.module, ty, v, false, &mut s);
                self.heap.alloc_str(&s) as u64
            }
        }
    }

    /// Calls native `native` with the arguments at `args`; its result, if
    /// it returns one.
    /// # Safety
    /// `args` points to the call's argument registers, as many as the
    /// native takes (the verifier checked the window).
    #[inline(never)]
    pub(crate) unsafe fn call_native(&mut self, native: u16, args: *const u64) -> Result<Option<u64>, Trap> {
        // SAFETY: the verifier checked the import index; the native table
        // is never changed after linking (nothing replaces `self.natives`
        // while the VM lives), so the entry stays valid while the native
        // borrows the VM mutably.
        let nat = unsafe { &*self.natives.as_ptr().add(native as usize) };
        let n = nat.sig.params.len();
        let mut a = [0u64; MAX_NATIVE_ARGS];
        // SAFETY: the caller's promise; `n <= MAX_NATIVE_ARGS` (checked at link).
        unsafe { std::ptr::copy_nonoverlapping(args, a.as_mut_ptr(), n) };
        let v = match &nat.imp {
            Imp::Builtin(f) => f(self, &a[..n], &nat.sig)?,
            Imp::Host(f) => f(self, &a[..n], &nat.sig.params, nat.sig.ret)?,
        };
        Ok(nat.returns.then_some(v))
    }

    /// `sort(a)` on a live `[int]`, `[float]` or `[str]` (the verifier
    /// allows no other element type: 8-byte slots).
    pub(crate) fn sort_array(&mut self, a: *mut ArrayObj) -> Result<(), Trap> {
        // SAFETY: the caller's promise: a live array of one of those types.
        unsafe {
            let el = match self.module.types.get((*a).hdr.aux as usize) {
                Some(Type::Array(e)) => self.module.types.get(*e as usize),
                _ => None,
            };
            let xs = (*a).slots();
            match el {
                Some(Type::Int) => xs.sort_unstable_by_key(|v| *v as i64),
                Some(Type::Float) => xs.sort_by(|x, y| float_order(f64::from_bits(*x), f64::from_bits(*y))),
                _ => {
                    if xs.contains(&0) {
                        return Err(nil());
                    }
                    xs.sort_by(|x, y| str_bytes(*x as *const StrObj).cmp(str_bytes(*y as *const StrObj)));
                    self.heap.array_reordered(a);
                }
            }
        }
        Ok(())
    }

    /// The error of a missing key `k` in live map `m`.
    #[cold]
    pub(crate) fn key_not_found(&self, m: *const MapObj, k: u64) -> Trap {
        let mut s = String::new();
        // SAFETY: the caller's promise: a live map.
        let aux = unsafe { (*m).hdr.aux };
        let kt = match self.module.types.get(aux as usize) {
            Some(Type::Map(k, _)) => *k,
            _ => 0,
        };
        crate::format::value(&self.module, kt, k, true, &mut s);
        Trap::Error(format!("key not found: {s}"))
    }

    /// The dispatch loop: runs the top frame until the entry frame of this
    /// activation (`frames[depth0]`) returns its value.
    // `!(a < b)` is deliberate for floats: it is true for NaN, unlike `a >= b`.
    #[allow(clippy::too_many_lines, clippy::neg_cmp_op_on_partial_ord)]
    fn exec<const INSTR: bool>(&mut self, depth0: usize) -> Result<u64, Trap> {
        // Only the three values every instruction uses live in locals:
        // `code`, `pc` and `regs`. The running function and its frame's
        // base are in its record (the top of `frames`), read on calls and
        // returns; fewer locals keep the hot three in machine registers.
        let top = *self.frames.last().expect("exec runs a pushed frame");
        let mut pc = top.pc as usize;
        // SAFETY (for every raw access below): `funcs` is not modified while
        // running, so `code` stays valid; the verifier proved each register
        // index < nregs and each jump target < code length, and a call checks
        // that base + nregs fits in the stack before entering a frame; each
        // reference register holds nil or a live object of its static type
        // (the collector keeps everything reachable from registers alive).
        let mut code: *const Instr = self.funcs[top.func as usize].code.as_ptr();
        let mut regs: *mut u64 = top.base;
        // The running frame's record.
        macro_rules! top {
            () => {
                // SAFETY: `frames` holds at least this activation's entry frame.
                *self.frames.ptr.add(self.frames.len - 1)
            };
        }
        macro_rules! r {
            ($x:expr) => {
                *regs.add($x as usize)
            };
        }
        macro_rules! ri {
            ($x:expr) => {
                (*regs.add($x as usize) as i64)
            };
        }
        macro_rules! rf {
            ($x:expr) => {
                f64::from_bits(*regs.add($x as usize))
            };
        }
        macro_rules! set_i {
            ($d:expr, $v:expr) => {
                *regs.add($d as usize) = ($v) as u64
            };
        }
        macro_rules! set_f {
            ($d:expr, $v:expr) => {
                *regs.add($d as usize) = f64::to_bits($v)
            };
        }
        macro_rules! set_b {
            ($d:expr, $v:expr) => {
                *regs.add($d as usize) = ($v) as u64
            };
        }
        // Writes the running frame's position back to its record, for
        // anything outside this loop that may look at it.
        macro_rules! save {
            () => {{
                top!().pc = pc as u32;
            }};
        }
        macro_rules! throw {
            ($e:expr) => {{
                save!();
                return Err($e);
            }};
        }
        macro_rules! err {
            ($($t:tt)*) => { throw!(Trap::Error(format!($($t)*))) };
        }
        // A checkpoint: one tick of fuel. When the fuel or the chunk runs
        // out, the instruction (at pc - 1) has not run yet; suspending
        // records it, so a resumed run executes it again from the start.
        macro_rules! checkpoint {
            () => {{
                self.ticks -= 1;
                if self.ticks < 0 {
                    if let Err(t) = self.refuel() {
                        pc -= 1;
                        throw!(t);
                    }
                }
            }};
        }
        // With the JIT on, a loop's back edge counts towards its function;
        // once the function is hot (and compiled), the frame moves to the
        // compiled code at the loop header `pc` (on-stack replacement), and
        // here it is as if the frame returned.
        macro_rules! tier_up_loop {
            () => {{
                #[cfg(feature = "jit")]
                if let Some(st) = self.jit.as_mut() {
                    let done = top!();
                    let f = done.func as usize;
                    if st.hot(f) {
                        match self.jit_run_loop(f, pc as u32) {
                            Ok(None) => {}
                            Ok(Some(v)) => {
                                if self.frames.len() == depth0 {
                                    return Ok(v);
                                }
                                let fr = top!();
                                pc = fr.pc as usize;
                                code = self.funcs[fr.func as usize].code.as_ptr();
                                regs = fr.base;
                                if self.funcs[f].returns {
                                    *regs.add(done.dst as usize) = v;
                                }
                            }
                            // The frames above the caller's hold their pcs.
                            Err(t) => return Err(t),
                        }
                    }
                }
            }};
        }
        // A jump; one to an earlier instruction is a loop's back edge.
        macro_rules! jump {
            ($target:expr) => {{
                let t = $target as usize;
                if t < pc {
                    checkpoint!();
                    pc = t;
                    tier_up_loop!();
                } else {
                    pc = t;
                }
            }};
        }
        macro_rules! safepoint {
            () => {
                if self.heap.wants_gc() {
                    save!();
                    if let Err(t) = self.gc_step() {
                        throw!(t);
                    }
                }
            };
        }
        // Enters `callee`: checks the stack, saves the caller's position and
        // pushes the callee's record. Its registers are filled by the caller.
        macro_rules! enter {
            ($callee:expr, $dst:expr) => {{
                checkpoint!();
                let callee = $callee as usize;
                let n = self.funcs[callee].nregs;
                let caller = top!();
                let fits = crate::stack::fits(caller.base, self.funcs[caller.func as usize].nregs, n);
                let nb = match fits {
                    Some(nb) if self.frames.len() < self.config.max_depth => nb,
                    _ => match self.window_after(caller, n) {
                        Some(nb) if self.frames.len() < self.config.max_depth => nb,
                        _ => throw!(Trap::Error("stack overflow".into())),
                    },
                };
                top!().pc = pc as u32;
                self.frames.push(Frame {
                    func: callee as u32,
                    pc: 0,
                    base: nb,
                    dst: $dst,
                });
                pc = 0;
                code = self.funcs[callee].code.as_ptr();
                regs = nb;
            }};
        }
        // With the JIT on, a call counts towards its callee; a hot callee
        // runs as compiled code from the frame just entered, and returns
        // with that frame popped.
        macro_rules! tier_up_call {
            ($callee:expr, $dst:expr) => {{
                #[cfg(feature = "jit")]
                if let Some(st) = self.jit.as_mut() {
                    let callee = $callee as usize;
                    if st.hot(callee) {
                        match self.jit_run_call(callee) {
                            Ok(None) => {}
                            Ok(Some(v)) => {
                                let fr = top!();
                                pc = fr.pc as usize;
                                code = self.funcs[fr.func as usize].code.as_ptr();
                                regs = fr.base;
                                if self.funcs[callee].returns {
                                    *regs.add($dst as usize) = v;
                                }
                            }
                            // The callee's frames hold their pcs: no `save!`.
                            Err(t) => return Err(t),
                        }
                    }
                }
            }};
        }
        // Enters `callee` with its arguments copied from R[args..] and the
        // rest of its frame zeroed.
        macro_rules! call {
            ($callee:expr, $dst:expr, $args:expr) => {{
                let cf = &self.funcs[$callee as usize];
                let (np, n) = (cf.nparams, cf.nregs);
                let src = regs.add($args as usize);
                enter!($callee, $dst);
                std::ptr::copy_nonoverlapping(src, regs, np);
                std::ptr::write_bytes(regs.add(np), 0, n - np);
                tier_up_call!($callee, $dst);
            }};
        }
        // Drops the running frame and its handlers and returns to its
        // caller, storing `v` in the caller's destination register; leaves
        // the loop when the entry frame of this activation returns.
        macro_rules! leave {
            ($v:expr) => {{
                let v: Option<u64> = $v;
                let done = top!();
                let len = self.frames.len() - 1;
                self.frames.len = len;
                while self.handlers.last().is_some_and(|h| h.depth as usize >= len) {
                    self.handlers.pop();
                }
                if len == depth0 {
                    return Ok(v.unwrap_or(0));
                }
                // `len > depth0`: the caller's record is on top now.
                let fr = top!();
                pc = fr.pc as usize;
                code = self.funcs[fr.func as usize].code.as_ptr();
                regs = fr.base;
                if let Some(v) = v {
                    *regs.add(done.dst as usize) = v;
                }
            }};
        }
        macro_rules! str_of {
            ($v:expr) => {{
                let v = $v;
                if v == 0 {
                    throw!(nil());
                }
                str_bytes(v as *const StrObj)
            }};
        }
        macro_rules! array {
            ($v:expr) => {{
                let v = $v;
                if v == 0 {
                    throw!(nil());
                }
                v as *mut ArrayObj
            }};
        }
        macro_rules! map {
            ($v:expr) => {{
                let v = $v;
                if v == 0 {
                    throw!(nil());
                }
                v as *mut MapObj
            }};
        }
        // A map key: a `str` key must not be nil.
        macro_rules! key {
            ($m:expr, $k:expr) => {{
                let k = $k;
                if k == 0 && (*$m).str_keys() {
                    throw!(nil());
                }
                k
            }};
        }
        macro_rules! index {
            ($a:expr, $i:expr) => {{
                let i = $i;
                let len = (*$a).len;
                if i < 0 || i as u64 >= len as u64 {
                    err!("index out of range: index {} for length {}", i, len);
                }
                i as usize
            }};
        }
        macro_rules! key_not_found {
            ($m:expr, $k:expr) => {{
                throw!(self.key_not_found($m, $k));
            }};
        }
        unsafe {
            loop {
                // Matching on the instruction in place (not a copy) lets each
                // arm load only the operands it uses, after the dispatch jump.
                let ip = code.add(pc);
                if INSTR {
                    self.instructions += 1;
                    match self.config.trace {
                        None => {}
                        Some(TraceMode::Instr) => {
                            let f = top!().func as usize;
                            self.trace_instr(f, pc, &*ip);
                        }
                        Some(_) => self.trace_step(pc, regs, &*ip),
                    }
                }
                pc += 1;
                match *ip {
                    Instr::Nop {} => {}
                    Instr::Move { dst, src } => r!(dst) = r!(src),
                    Instr::LoadI { dst, imm } => set_i!(dst, imm as i64),
                    Instr::LoadK { dst, k } => r!(dst) = *self.consts.get_unchecked(k as usize),
                    Instr::LoadBool { dst, v } => r!(dst) = v as u64,
                    Instr::LoadNil { dst } => r!(dst) = 0,
                    Instr::LoadFunc { dst, func: f } => r!(dst) = self.static_closures[f as usize],
                    Instr::GetGlobal { dst, g } => r!(dst) = *self.globals.get_unchecked(g as usize),
                    Instr::SetGlobal { g, src } => *self.globals.get_unchecked_mut(g as usize) = r!(src),

                    Instr::AddI { dst, a, b } => set_i!(dst, ri!(a).wrapping_add(ri!(b))),
                    Instr::SubI { dst, a, b } => set_i!(dst, ri!(a).wrapping_sub(ri!(b))),
                    Instr::MulI { dst, a, b } => set_i!(dst, ri!(a).wrapping_mul(ri!(b))),
                    Instr::DivI { dst, a, b } => {
                        let d = ri!(b);
                        if d == 0 {
                            throw!(Trap::Error("division by zero".into()));
                        }
                        set_i!(dst, ri!(a).wrapping_div(d));
                    }
                    Instr::ModI { dst, a, b } => {
                        let d = ri!(b);
                        if d == 0 {
                            throw!(Trap::Error("division by zero".into()));
                        }
                        set_i!(dst, ri!(a).wrapping_rem(d));
                    }
                    Instr::AddIImm { dst, a, imm } => set_i!(dst, ri!(a).wrapping_add(imm as i64)),
                    Instr::BitAnd { dst, a, b } => set_i!(dst, ri!(a) & ri!(b)),
                    Instr::BitOr { dst, a, b } => set_i!(dst, ri!(a) | ri!(b)),
                    Instr::BitXor { dst, a, b } => set_i!(dst, ri!(a) ^ ri!(b)),
                    Instr::Shl { dst, a, b } => set_i!(dst, ri!(a).wrapping_shl((ri!(b) & 63) as u32)),
                    Instr::Shr { dst, a, b } => set_i!(dst, ri!(a).wrapping_shr((ri!(b) & 63) as u32)),
                    Instr::NegI { dst, a } => set_i!(dst, ri!(a).wrapping_neg()),
                    Instr::BitNot { dst, a } => set_i!(dst, !ri!(a)),
                    Instr::EqI { dst, a, b } => set_b!(dst, ri!(a) == ri!(b)),
                    Instr::NeI { dst, a, b } => set_b!(dst, ri!(a) != ri!(b)),
                    Instr::LtI { dst, a, b } => set_b!(dst, ri!(a) < ri!(b)),
                    Instr::LeI { dst, a, b } => set_b!(dst, ri!(a) <= ri!(b)),

                    Instr::AddF { dst, a, b } => set_f!(dst, rf!(a) + rf!(b)),
                    Instr::SubF { dst, a, b } => set_f!(dst, rf!(a) - rf!(b)),
                    Instr::MulF { dst, a, b } => set_f!(dst, rf!(a) * rf!(b)),
                    Instr::DivF { dst, a, b } => set_f!(dst, rf!(a) / rf!(b)),
                    Instr::ModF { dst, a, b } => set_f!(dst, rf!(a) % rf!(b)),
                    Instr::NegF { dst, a } => set_f!(dst, -rf!(a)),
                    Instr::EqF { dst, a, b } => set_b!(dst, rf!(a) == rf!(b)),
                    Instr::NeF { dst, a, b } => set_b!(dst, rf!(a) != rf!(b)),
                    Instr::LtF { dst, a, b } => set_b!(dst, rf!(a) < rf!(b)),
                    Instr::LeF { dst, a, b } => set_b!(dst, rf!(a) <= rf!(b)),

                    Instr::Not { dst, a } => r!(dst) = r!(a) ^ 1,
                    Instr::EqB { dst, a, b } | Instr::EqRef { dst, a, b } => set_b!(dst, r!(a) == r!(b)),
                    Instr::NeB { dst, a, b } | Instr::NeRef { dst, a, b } => set_b!(dst, r!(a) != r!(b)),
                    Instr::Concat { dst, a, b } => {
                        let x = str_of!(r!(a));
                        let y = str_of!(r!(b));
                        r!(dst) = self.heap.alloc_str_parts(&[x, y]) as u64;
                        safepoint!();
                    }
                    Instr::EqS { dst, a, b } | Instr::NeS { dst, a, b } => {
                        let (x, y) = (r!(a), r!(b));
                        let eq = x == y || (x != 0 && y != 0 && str_bytes(x as *const StrObj) == str_bytes(y as *const StrObj));
                        set_b!(dst, eq == matches!(*ip, Instr::EqS { .. }));
                    }
                    Instr::LtS { dst, a, b } => {
                        let x = str_of!(r!(a));
                        let y = str_of!(r!(b));
                        set_b!(dst, x < y);
                    }
                    Instr::LeS { dst, a, b } => {
                        let x = str_of!(r!(a));
                        let y = str_of!(r!(b));
                        set_b!(dst, x <= y);
                    }

                    Instr::IntToFloat { dst, a } => set_f!(dst, ri!(a) as f64),
                    Instr::FloatToInt { dst, a } => {
                        let x = rf!(a);
                        // i64 covers [-2^63, 2^63); NaN fails both comparisons.
                        if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
                            err!("invalid conversion: {} does not fit in an int", crate::format::float(x));
                        }
                        set_i!(dst, x as i64);
                    }
                    Instr::AbsI { dst, a } => set_i!(dst, ri!(a).wrapping_abs()),
                    Instr::AbsF { dst, a } => set_f!(dst, rf!(a).abs()),
                    Instr::MinI { dst, a, b } => set_i!(dst, ri!(a).min(ri!(b))),
                    Instr::MaxI { dst, a, b } => set_i!(dst, ri!(a).max(ri!(b))),
                    Instr::MinF { dst, a, b } => set_f!(dst, fmin(rf!(a), rf!(b))),
                    Instr::MaxF { dst, a, b } => set_f!(dst, fmax(rf!(a), rf!(b))),
                    Instr::SqrtF { dst, a } => set_f!(dst, rf!(a).sqrt()),
                    Instr::ToStr { dst, src, ty } => {
                        r!(dst) = self.stringify(r!(src), ty);
                        safepoint!();
                    }

                    Instr::Jmp { target } => jump!(target),
                    Instr::JmpIf { cond, target } => {
                        if r!(cond) != 0 {
                            jump!(target);
                        }
                    }
                    Instr::JmpIfNot { cond, target } => {
                        if r!(cond) == 0 {
                            jump!(target);
                        }
                    }
                    Instr::JLtI { a, b, target } => {
                        if ri!(a) < ri!(b) {
                            jump!(target);
                        }
                    }
                    Instr::JLeI { a, b, target } => {
                        if ri!(a) <= ri!(b) {
                            jump!(target);
                        }
                    }
                    Instr::JEqI { a, b, target } => {
                        if ri!(a) == ri!(b) {
                            jump!(target);
                        }
                    }
                    Instr::JNeI { a, b, target } => {
                        if ri!(a) != ri!(b) {
                            jump!(target);
                        }
                    }
                    Instr::JLtF { a, b, target } => {
                        if rf!(a) < rf!(b) {
                            jump!(target);
                        }
                    }
                    Instr::JLeF { a, b, target } => {
                        if rf!(a) <= rf!(b) {
                            jump!(target);
                        }
                    }
                    Instr::JNLtF { a, b, target } => {
                        if !(rf!(a) < rf!(b)) {
                            jump!(target);
                        }
                    }
                    Instr::JNLeF { a, b, target } => {
                        if !(rf!(a) <= rf!(b)) {
                            jump!(target);
                        }
                    }
                    Instr::ForLoop { ctr, end, target } => {
                        let c = ri!(ctr).wrapping_add(1);
                        if c < ri!(end) {
                            if (target as usize) < pc {
                                // The checkpoint comes before the counter moves,
                                // so a suspended loop resumes without skipping.
                                checkpoint!();
                                set_i!(ctr, c);
                                pc = target as usize;
                                tier_up_loop!();
                            } else {
                                set_i!(ctr, c);
                                pc = target as usize;
                            }
                        } else {
                            set_i!(ctr, c);
                        }
                    }

                    Instr::Call { dst, func: f, args } => call!(f, dst, args),
                    Instr::CallMethod { dst, func: f, args } => {
                        if r!(args) == 0 {
                            throw!(nil());
                        }
                        call!(f, dst, args);
                    }
                    Instr::CallIface { dst, slot, args } => {
                        let recv = r!(args);
                        if recv == 0 {
                            throw!(nil());
                        }
                        let class = (*(recv as *const Header)).aux as usize;
                        let slot = u32::from(slot);
                        // The verifier proved the receiver's class implements the
                        // slot's interface, so one of its itables covers the slot.
                        let Some(t) = self.itables.get_unchecked(class).iter().find(|t| t.first <= slot && slot < t.end) else {
                            err!("internal error: no method for interface slot {slot}");
                        };
                        // The itable of a verified class lists every method.
                        let f = *self.itable_funcs.get_unchecked((t.base + slot - t.first) as usize);
                        call!(f, dst, args);
                    }
                    Instr::CallClosure { dst, clo, args } => {
                        let c = r!(clo);
                        if c == 0 {
                            throw!(nil());
                        }
                        let c = c as *const ClosureObj;
                        let f = (*(c as *const Header)).aux;
                        let cf = &self.funcs[f as usize];
                        let (np, nc, n) = (cf.nparams, cf.ncaps, cf.nregs);
                        let src = regs.add(args as usize);
                        enter!(f, dst);
                        std::ptr::copy_nonoverlapping(src, regs, np);
                        let caps = closure_caps(c);
                        std::ptr::copy_nonoverlapping(caps.as_ptr(), regs.add(np), nc);
                        std::ptr::write_bytes(regs.add(np + nc), 0, n - np - nc);
                        tier_up_call!(f, dst);
                    }
                    Instr::CallNative { dst, native, args } => {
                        save!();
                        match self.call_native(native, regs.add(args as usize)) {
                            Ok(Some(v)) => r!(dst) = v,
                            Ok(None) => {}
                            Err(t) => {
                                if t.suspends() {
                                    // Suspended inside a callback: the call runs
                                    // again, whole, when the run resumes.
                                    pc -= 1;
                                    save!();
                                }
                                return Err(t);
                            }
                        }
                        safepoint!();
                    }
                    Instr::Ret { src } => leave!(Some(r!(src))),
                    Instr::RetVoid {} => leave!(None),
                    Instr::Throw { src } => {
                        let s = str_of!(r!(src));
                        throw!(Trap::Error(String::from_utf8_lossy(s).into_owned()));
                    }
                    Instr::TryBegin { handler, reg } => {
                        // Well-formed code pops what it pushes; a module that
                        // pushes handlers in a loop meets this bound.
                        if self.handlers.len() >= MAX_HANDLERS {
                            throw!(Trap::Error("stack overflow".into()));
                        }
                        self.handlers.push(Handler {
                            depth: (self.frames.len() - 1) as u32,
                            target: handler,
                            reg,
                        });
                    }
                    Instr::TryEnd { count } => {
                        // Only this frame's own handlers.
                        let depth = (self.frames.len() - 1) as u32;
                        for _ in 0..count {
                            if self.handlers.last().is_none_or(|h| h.depth != depth) {
                                break;
                            }
                            self.handlers.pop();
                        }
                    }

                    Instr::New { dst, class, args } => {
                        let n = self.heap.layouts.class_fields[class as usize] as usize;
                        let fields = std::slice::from_raw_parts(regs.add(args as usize), n);
                        r!(dst) = self.heap.alloc_object(class as u32, fields) as u64;
                        safepoint!();
                    }
                    Instr::GetField { dst, obj, field } => {
                        let o = r!(obj);
                        if o == 0 {
                            throw!(nil());
                        }
                        r!(dst) = *field_ptr(o as *mut Obj, field as usize);
                    }
                    Instr::SetField { obj, field, src } => {
                        let o = r!(obj);
                        if o == 0 {
                            throw!(nil());
                        }
                        self.heap.set_field(o as *mut Obj, field as usize, r!(src));
                    }
                    Instr::NewArray { dst, ty, args, n } => {
                        let items = std::slice::from_raw_parts(regs.add(args as usize), n as usize);
                        r!(dst) = self.heap.alloc_array(u32::from(ty), items) as u64;
                        safepoint!();
                    }
                    Instr::ArrayFill { dst, ty, n, x } => {
                        let len = ri!(n);
                        if len < 0 {
                            err!("index out of range: negative array length {}", len);
                        }
                        let width = if self.heap.layouts.elem_is_bool.get_unchecked(ty as usize) == &true {
                            1
                        } else {
                            8
                        };
                        save!();
                        let bytes = usize::try_from(len).unwrap_or(usize::MAX).saturating_mul(width);
                        if let Err(t) = self.gc_reserve(bytes) {
                            throw!(t);
                        }
                        r!(dst) = self.heap.alloc_array_fill(u32::from(ty), len as usize, r!(x)) as u64;
                        safepoint!();
                    }
                    Instr::ArrayGet { dst, arr, idx } => {
                        let a = array!(r!(arr));
                        let i = index!(a, ri!(idx));
                        // 8-byte elements: the verifier keeps [bool] to ArrayGetB.
                        r!(dst) = *(*a).data.cast::<u64>().add(i);
                    }
                    Instr::ArraySet { arr, idx, src } => {
                        let a = array!(r!(arr));
                        let i = index!(a, ri!(idx));
                        self.heap.array_set_slot(a, i, r!(src));
                    }
                    Instr::ArrayGetB { dst, arr, idx } => {
                        let a = array!(r!(arr));
                        let i = index!(a, ri!(idx));
                        r!(dst) = u64::from(*(*a).data.add(i));
                    }
                    Instr::ArraySetB { arr, idx, src } => {
                        let a = array!(r!(arr));
                        let i = index!(a, ri!(idx));
                        // A bool register holds 0 or 1.
                        *(*a).data.add(i) = r!(src) as u8;
                    }
                    Instr::ArrayLen { dst, arr } => {
                        let a = array!(r!(arr));
                        set_i!(dst, (*a).len as i64);
                    }
                    Instr::StrLen { dst, s } => {
                        let b = str_of!(r!(s));
                        set_i!(dst, b.len() as i64);
                    }
                    Instr::MapLen { dst, map } => {
                        let m = map!(r!(map));
                        set_i!(dst, i64::from((*m).live));
                    }
                    Instr::Push { arr, src } => {
                        let a = array!(r!(arr));
                        self.heap.array_push(a, r!(src));
                        safepoint!();
                    }
                    Instr::Pop { dst, arr } => {
                        let a = array!(r!(arr));
                        match self.heap.array_pop(a) {
                            Some(v) => r!(dst) = v,
                            None => err!("index out of range: pop from an empty array"),
                        }
                    }
                    Instr::Sort { arr } => {
                        let a = array!(r!(arr));
                        if let Err(t) = self.sort_array(a) {
                            throw!(t);
                        }
                    }
                    Instr::NewMap { dst, ty } => {
                        r!(dst) = self.heap.alloc_map(u32::from(ty)) as u64;
                        safepoint!();
                    }
                    Instr::MapGet { dst, map, key } => {
                        let m = map!(r!(map));
                        let k = key!(m, r!(key));
                        match (*m).get(k) {
                            Some(v) => r!(dst) = v,
                            None => key_not_found!(m, k),
                        }
                    }
                    Instr::MapSet { map, key, src } => {
                        let m = map!(r!(map));
                        let k = key!(m, r!(key));
                        self.heap.map_insert(m, k, r!(src));
                        safepoint!();
                    }
                    Instr::MapHas { dst, map, key } => {
                        let m = map!(r!(map));
                        let k = key!(m, r!(key));
                        set_b!(dst, (*m).find(k).is_some());
                    }
                    Instr::MapRemove { map, key } => {
                        let m = map!(r!(map));
                        let k = key!(m, r!(key));
                        self.heap.map_remove(m, k);
                    }
                    Instr::MapKeys { dst, map, ty } => {
                        let m = map!(r!(map));
                        let keys: Vec<u64> = (*m).iter().map(|e| e.key).collect();
                        r!(dst) = self.heap.alloc_array(u32::from(ty), &keys) as u64;
                        safepoint!();
                    }
                    Instr::NewCell { dst, src } => {
                        let cell_ty = *self.module.functions[top!().func as usize].regs.get_unchecked(dst as usize);
                        let holds_ref = *self.heap.layouts.elem_is_ref.get_unchecked(cell_ty as usize);
                        r!(dst) = self.heap.alloc_cell(holds_ref, r!(src)) as u64;
                        safepoint!();
                    }
                    Instr::CellGet { dst, cell } => {
                        let c = r!(cell);
                        if c == 0 {
                            throw!(nil());
                        }
                        r!(dst) = (*(c as *const CellObj)).value;
                    }
                    Instr::CellSet { cell, src } => {
                        let c = r!(cell);
                        if c == 0 {
                            throw!(nil());
                        }
                        self.heap.cell_set(c as *mut CellObj, r!(src));
                    }
                    Instr::MakeClosure { dst, func: f, caps, n } => {
                        let c = std::slice::from_raw_parts(regs.add(caps as usize), n as usize);
                        r!(dst) = self.heap.alloc_closure(u32::from(f), c) as u64;
                        safepoint!();
                    }
                }
            }
        }
    }
}

/// Small helper so `str(int)` avoids the general formatter.
struct ItoaBuf {
    buf: [u8; 24],
    start: usize,
}

impl ItoaBuf {
    fn as_str(&self) -> &str {
        // SAFETY: only ASCII digits and '-' are written.
        unsafe { std::str::from_utf8_unchecked(&self.buf[self.start..]) }
    }
}

fn itoa_buf(v: i64) -> ItoaBuf {
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    let neg = v < 0;
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    ItoaBuf { buf, start: i }
}
