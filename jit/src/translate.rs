//! Bytecode to Cranelift IR, one function at a time.
//!
//! Each bytecode instruction becomes a few IR instructions: arithmetic and
//! comparisons on Cranelift variables (the function's `int`, `float` and
//! `bool` registers), loads and stores for references (always in their
//! memory slots), and calls of the VM's helpers for anything bigger. Every
//! jump target is an IR block; the frontend builds SSA form from the
//! variables.
//!
//! Four pieces of plumbing run through it:
//! * **Checkpoints.** A call and a jump backwards first take one fuel tick
//!   (`vm.ticks`); when the ticks run out a helper pays for more or stops
//!   the run (fuel, interrupt) before the instruction does anything.
//! * **Calls.** The caller pushes the callee's frame record and window just
//!   as the interpreter does, then calls the callee's entry in the code
//!   table, compiled or not.
//! * **Errors.** A failing check or helper goes to the *fail* block, which
//!   records the instruction in the frame record, then to the *unwind*
//!   block, which asks the VM for a `try` handler of this frame (and jumps
//!   to it) or returns status 1.
//! * **Suspension.** When the run stops for fuel or an interrupt (at a
//!   checkpoint, or inside a callee or a native), the stopping site writes
//!   back the scalar registers the interpreter may read (`liveness`),
//!   records where to continue and returns status 2; the interpreter
//!   continues the frame exactly there.
//!
//! Small leaf functions are compiled into their callers (`T::inlinable`).

use crate::liveness::{self, Live};
use crate::{Runtime, ENTRY_NORMAL, STATUS_SUSPENDED, STATUS_YIELD};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, FuncRef, Function, InstBuilder, MemFlagsData as MemFlags, SigRef, Signature, Type as IrType, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Switch, Variable};
use pvm_bytecode::layout as L;
use pvm_bytecode::{Const, Function as BcFunction, Instr, Module, Type, TypeId};
use std::collections::HashMap;

/// Error kinds the `raise` helper formats (the interpreter's messages).
pub mod raise {
    pub const NIL: i64 = 0;
    pub const DIV_ZERO: i64 = 1;
    /// `a` index, `b` length.
    pub const INDEX: i64 = 2;
    pub const STACK_OVERFLOW: i64 = 3;
    /// `a` the float's bits.
    pub const FLOAT_TO_INT: i64 = 4;
    pub const INTERNAL: i64 = 5;
}

/// How a register lives in compiled code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `int` or `bool`: an I64 variable.
    Int,
    /// `float`: an F64 variable.
    Float,
    /// A reference: its memory slot.
    Ref,
}

fn kind_of(m: &Module, t: TypeId) -> Kind {
    match m.types.get(t as usize) {
        Some(Type::Int | Type::Bool) => Kind::Int,
        Some(Type::Float) => Kind::Float,
        _ => Kind::Ref,
    }
}

/// Which instructions start a block: the first, every jump target, every
/// handler, and every instruction after one that ends a block.
fn leaders(f: &BcFunction) -> Vec<bool> {
    let n = f.code.len();
    let mut lead = vec![false; n + 1];
    lead[0] = true;
    for (pc, ins) in f.code.iter().enumerate() {
        let mut ins = *ins;
        if let Some(t) = ins.label_mut() {
            if let Some(l) = lead.get_mut(*t as usize) {
                *l = true;
            }
            lead[pc + 1] = true;
        }
        if matches!(ins, Instr::Ret { .. } | Instr::RetVoid {} | Instr::Throw { .. }) {
            lead[pc + 1] = true;
        }
    }
    lead.truncate(n);
    lead
}

/// Loop headers: targets of jumps to an earlier (or the same) instruction.
/// Compiled code can be entered there mid-run.
fn loop_headers(f: &BcFunction) -> Vec<u32> {
    let mut v: Vec<u32> = f
        .code
        .iter()
        .enumerate()
        .filter_map(|(pc, ins)| {
            let mut ins = *ins;
            if matches!(ins, Instr::TryBegin { .. }) {
                return None;
            }
            ins.label_mut().map(|t| *t).filter(|t| (*t as usize) <= pc)
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

struct T<'a, 'b> {
    b: FunctionBuilder<'b>,
    m: &'a Module,
    rt: &'a Runtime,
    f: &'a BcFunction,
    kinds: Vec<Kind>,
    vars: Vec<Option<Variable>>,
    blocks: Vec<Option<Block>>,
    vm: Value,
    regs: Value,
    /// This frame's index in the frame array (read on cold paths and by
    /// `try`).
    depth: Value,
    unwind: Block,
    /// Records the pc passed (the failing instruction + 1) in the frame
    /// record, then unwinds: the edge every failing helper call takes.
    fail: Block,
    /// Handler targets in this function (the unwind block's switch).
    handler_pcs: Vec<u32>,
    has_try: bool,
    sigs: HashMap<(Vec<IrType>, Option<IrType>), SigRef>,
    fn_sig: SigRef,
    /// Scalars to write back where the run may stop.
    live: Live,
    /// The instruction being translated.
    pc: u32,
    terminated: bool,
    /// The function being compiled.
    fid: u16,
    /// While translating an inlined callee: where its `Ret` goes.
    inline_exit: Option<Block>,
    /// This function, for direct recursive calls.
    self_ref: Option<FuncRef>,
    /// The fuel ticks left (`vm.ticks`), kept in a register: written back
    /// before anything else may read or change them (a helper, a call, a
    /// return) and read again after.
    ticks: Variable,
}

/// Callees of at most this many instructions may be inlined (see
/// [`T::inlinable`]).
const INLINE_MAX: usize = 40;

fn trusted() -> MemFlags {
    MemFlags::trusted()
}

pub(crate) fn translate(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
    m: &Module,
    rt: &Runtime,
    fid: u16,
    self_ref: Option<FuncRef>,
) -> Result<Vec<u32>, String> {
    let f = m.functions.get(fid as usize).ok_or("no such function")?;
    let mut b = FunctionBuilder::new(func, fctx);
    let kinds: Vec<Kind> = f.regs.iter().map(|t| kind_of(m, *t)).collect();
    let vars = kinds
        .iter()
        .map(|k| match k {
            Kind::Int => Some(b.declare_var(I64)),
            Kind::Float => Some(b.declare_var(F64)),
            Kind::Ref => None,
        })
        .collect();
    let lead = leaders(f);
    let blocks = lead.iter().map(|&l| l.then(|| b.create_block())).collect();
    let entry = b.create_block();
    let unwind = b.create_block();
    b.set_cold_block(unwind);
    let fail = b.create_block();
    b.set_cold_block(fail);
    b.append_block_param(fail, I32);
    let fn_sig = {
        let mut s = Signature::new(CallConv::SystemV);
        s.params.push(AbiParam::new(I64));
        s.params.push(AbiParam::new(I64));
        s.params.push(AbiParam::new(I32));
        s.returns.push(AbiParam::new(I64));
        s.returns.push(AbiParam::new(I64));
        b.import_signature(s)
    };
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let params = b.block_params(entry).to_vec();
    let (vm, regs, entry_arg) = (params[0], params[1], params[2]);
    let handler_pcs: Vec<u32> = f
        .code
        .iter()
        .filter_map(|i| match i {
            Instr::TryBegin { handler, .. } => Some(*handler),
            _ => None,
        })
        .collect();
    let has_try = !handler_pcs.is_empty();
    let zero = b.ins().iconst(I64, 0);
    let scalar: Vec<bool> = kinds.iter().map(|k| *k != Kind::Ref).collect();
    let live = liveness::analyse(m, f, &scalar, &lead);
    let ticks = b.declare_var(I64);
    let mut t = T {
        b,
        m,
        rt,
        f,
        kinds,
        vars,
        blocks,
        vm,
        regs,
        depth: zero,
        unwind,
        fail,
        handler_pcs,
        has_try,
        sigs: HashMap::new(),
        fn_sig,
        live,
        pc: 0,
        terminated: false,
        fid,
        inline_exit: None,
        self_ref,
        ticks,
    };
    let osr = t.prologue(entry_arg);
    // The prologue ends in jumps of its own.
    t.terminated = true;
    t.body()?;
    if !t.terminated {
        // The verifier proved the last instruction does not fall through.
        t.ret(crate::STATUS_TRAP, None);
    }
    t.unwind_block();
    t.b.seal_all_blocks();
    t.b.finalize(config);
    Ok(osr)
}

impl<'a> T<'a, '_> {
    /// Translates the instructions of the current function, in order.
    fn body(&mut self) -> Result<(), String> {
        let f = self.f;
        for pc in 0..f.code.len() {
            self.pc = pc as u32;
            if let Some(block) = self.blocks[pc] {
                if !self.terminated {
                    self.b.ins().jump(block, &[]);
                }
                self.b.switch_to_block(block);
                self.terminated = false;
            }
            if self.terminated {
                continue;
            }
            self.instr(f.code[pc])?;
        }
        Ok(())
    }

    // ------------------------------------------------------------ plumbing

    fn sig(&mut self, params: &[IrType], ret: Option<IrType>) -> SigRef {
        let key = (params.to_vec(), ret);
        if let Some(s) = self.sigs.get(&key) {
            return *s;
        }
        let mut s = Signature::new(CallConv::SystemV);
        s.params.extend(params.iter().map(|p| AbiParam::new(*p)));
        s.returns.extend(ret.map(AbiParam::new));
        let r = self.b.import_signature(s);
        self.sigs.insert(key, r);
        r
    }

    /// Calls a VM helper at `addr` with I64 arguments, returning an I64.
    /// (A helper may run pvm code, a native's callback, or pay for fuel:
    /// the ticks are written back around it.)
    fn helper(&mut self, addr: usize, args: &[Value]) -> Value {
        let tys: Vec<IrType> = args.iter().map(|a| self.b.func.dfg.value_type(*a)).collect();
        let sig = self.sig(&tys, Some(I64));
        let callee = self.b.ins().iconst(I64, addr as i64);
        self.store_ticks();
        let call = self.b.ins().call_indirect(sig, callee, args);
        self.load_ticks();
        self.b.inst_results(call)[0]
    }

    fn helper_void(&mut self, addr: usize, args: &[Value]) {
        let tys: Vec<IrType> = args.iter().map(|a| self.b.func.dfg.value_type(*a)).collect();
        let sig = self.sig(&tys, None);
        let callee = self.b.ins().iconst(I64, addr as i64);
        self.store_ticks();
        self.b.ins().call_indirect(sig, callee, args);
        self.load_ticks();
    }

    /// Writes the ticks variable back to `vm.ticks`.
    fn store_ticks(&mut self) {
        let t = self.b.use_var(self.ticks);
        self.b.ins().store(trusted(), t, self.vm, self.rt.off.ticks);
    }

    /// Reads `vm.ticks` into the ticks variable.
    fn load_ticks(&mut self) {
        let t = self.b.ins().load(I64, trusted(), self.vm, self.rt.off.ticks);
        self.b.def_var(self.ticks, t);
    }

    fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(I64, v)
    }

    fn slot_addr(&mut self, r: u16) -> Value {
        self.b.ins().iadd_imm_s(self.regs, i64::from(r) * 8)
    }

    /// The value of register `r`.
    fn get(&mut self, r: u16) -> Value {
        match self.kinds[r as usize] {
            Kind::Int | Kind::Float => self.b.use_var(self.vars[r as usize].expect("scalar registers have variables")),
            Kind::Ref => self.b.ins().load(I64, trusted(), self.regs, i32::from(r) * 8),
        }
    }

    /// The 64 bits of register `r` (a float's bits).
    fn get_bits(&mut self, r: u16) -> Value {
        let v = self.get(r);
        if self.kinds[r as usize] == Kind::Float {
            self.b.ins().bitcast(I64, MemFlags::new(), v)
        } else {
            v
        }
    }

    fn set(&mut self, r: u16, v: Value) {
        match self.kinds[r as usize] {
            Kind::Int | Kind::Float => self.b.def_var(self.vars[r as usize].expect("scalar registers have variables"), v),
            Kind::Ref => {
                self.b.ins().store(trusted(), v, self.regs, i32::from(r) * 8);
            }
        }
    }

    /// Writes a scalar register to its slot (before the VM reads the window).
    fn spill(&mut self, r: u16) {
        if self.kinds[r as usize] != Kind::Ref {
            let v = self.get(r);
            self.b.ins().store(trusted(), v, self.regs, i32::from(r) * 8);
        }
    }

    /// Reads a scalar register back from its slot (after a helper wrote it).
    fn reload(&mut self, r: u16) {
        let ty = match self.kinds[r as usize] {
            Kind::Int => I64,
            Kind::Float => F64,
            Kind::Ref => return,
        };
        let v = self.b.ins().load(ty, trusted(), self.regs, i32::from(r) * 8);
        self.set(r, v);
    }

    /// A typed load of a value of type `t` at `addr + off`.
    fn load_typed(&mut self, t: TypeId, addr: Value, off: i32) -> Value {
        let ty = if kind_of(self.m, t) == Kind::Float { F64 } else { I64 };
        self.b.ins().load(ty, trusted(), addr, off)
    }

    /// The address of this frame's record (the frame array may move).
    fn frame_addr(&mut self) -> Value {
        let o = self.rt.off;
        let ptr = self.b.ins().load(I64, trusted(), self.vm, o.frames_ptr);
        let depth = self.depth();
        let off = self.b.ins().imul_imm_s(depth, i64::from(o.frame_size));
        self.b.ins().iadd(ptr, off)
    }

    /// This frame's index in the frame array.
    fn depth(&mut self) -> Value {
        self.depth
    }

    /// Records `pc` in this frame's record: what a stack trace shows (the
    /// line of `pc - 1`) and where a suspended run continues.
    fn set_pc(&mut self, pc: u32) {
        let fp = self.frame_addr();
        let v = self.b.ins().iconst(I32, i64::from(pc));
        self.b.ins().store(trusted(), v, fp, self.rt.off.frame_pc);
    }

    /// Fails (see [`T::fail`]) when `status` (I64 or I32) is not 0. The pc
    /// is recorded only then: nothing reads it while the instruction runs.
    fn check(&mut self, status: Value) {
        let cont = self.b.create_block();
        let pc = self.b.ins().iconst(I32, i64::from(self.pc + 1));
        self.b.ins().brif(status, self.fail, &[pc.into()], cont, &[]);
        self.b.switch_to_block(cont);
    }

    /// Fails unconditionally (after a helper stored the error).
    fn fail_now(&mut self) {
        let pc = self.b.ins().iconst(I32, i64::from(self.pc + 1));
        self.b.ins().jump(self.fail, &[pc.into()]);
    }

    /// Raises error `kind` when `cond` holds (a cold path).
    /// `a` and `b` are the error's details (0 when `None`: the constant is
    /// made on the cold path, so nothing is kept live for it).
    fn raise_if(&mut self, cond: Value, kind: i64, a: Option<Value>, b: Option<Value>) {
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(cond, cold, &[], cont, &[]);
        self.b.switch_to_block(cold);
        let a = a.unwrap_or_else(|| self.iconst(0));
        let b = b.unwrap_or_else(|| self.iconst(0));
        let k = self.iconst(kind);
        let vm = self.vm;
        self.helper(self.rt.helpers.raise, &[vm, k, a, b]);
        self.fail_now();
        self.b.switch_to_block(cont);
    }

    /// `nil reference` when `v` is 0.
    fn nil_check(&mut self, v: Value) {
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
        self.raise_if(c, crate::translate::raise::NIL, None, None);
    }

    /// One fuel tick: a call or a loop's back edge. When the ticks run out,
    /// the VM pays for more or stops the run before this instruction does
    /// anything (the frame record then points at it). At a back edge the
    /// frame instead yields to the interpreter, which does that (see
    /// [`STATUS_YIELD`]): no call inside a loop.
    fn checkpoint(&mut self, back_edge: bool) {
        let t = self.b.use_var(self.ticks);
        let t1 = self.b.ins().iadd_imm_s(t, -1);
        self.b.def_var(self.ticks, t1);
        let low = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, t1, 0);
        let slow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(low, slow, &[], cont, &[]);
        self.b.switch_to_block(slow);
        if back_edge {
            // The interpreter takes this tick again.
            self.b.def_var(self.ticks, t);
            let s = self.iconst(STATUS_YIELD);
            self.suspend(self.pc, s);
            self.b.switch_to_block(cont);
            return;
        }
        let vm = self.vm;
        let s = self.helper(self.rt.helpers.refuel, &[vm]);
        let stop = self.b.create_block();
        self.b.set_cold_block(stop);
        self.b.ins().brif(s, stop, &[], cont, &[]);
        // Out of fuel or interrupted: the instruction runs again on resuming.
        self.b.switch_to_block(stop);
        let s = self.iconst(STATUS_SUSPENDED);
        self.suspend(self.pc, s);
        self.b.switch_to_block(cont);
    }

    /// Stops the run: writes back the registers the interpreter may read
    /// when it continues this frame at `resume_pc`, records that pc, and
    /// returns `status` ([`STATUS_SUSPENDED`]: the VM holds the reason, or
    /// [`STATUS_YIELD`]).
    fn suspend(&mut self, resume_pc: u32, status: Value) {
        // A call's destination is written before it is read, whichever way
        // the run resumes (the call again, or the callee's return), unless
        // the call fails after resuming and a handler reads the old value
        // (`x = f(x)` in a `try` whose `catch` reads `x`).
        let dst = match self.f.code.get(self.pc as usize).filter(|_| !self.has_try) {
            Some(
                Instr::Call { dst, .. }
                | Instr::CallMethod { dst, .. }
                | Instr::CallIface { dst, .. }
                | Instr::CallClosure { dst, .. }
                | Instr::CallNative { dst, .. },
            ) => Some(*dst),
            _ => None,
        };
        let regs: Vec<u16> = self.live.at(self.pc).iter().copied().filter(|r| Some(*r) != dst).collect();
        for r in regs {
            self.spill(r);
        }
        self.set_pc(resume_pc);
        self.ret_value(status, None);
    }

    /// After a call or a native: 0 goes on, 1 (an error) fails, 2 or 3 (the
    /// run stopped or yielded inside) suspends this frame too, to continue at
    /// `resume_pc`.
    fn check_stop(&mut self, status: Value, resume_pc: u32) {
        let bad = self.b.create_block();
        let stop = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(bad);
        self.b.set_cold_block(stop);
        self.b.ins().brif(status, bad, &[], cont, &[]);
        self.b.switch_to_block(bad);
        let is_stop = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, status, STATUS_SUSPENDED);
        let pc1 = self.b.ins().iconst(I32, i64::from(self.pc + 1));
        self.b.ins().brif(is_stop, stop, &[], self.fail, &[pc1.into()]);
        self.b.switch_to_block(stop);
        let s = if self.b.func.dfg.value_type(status) == I64 {
            status
        } else {
            self.b.ins().uextend(I64, status)
        };
        self.suspend(resume_pc, s);
        self.b.switch_to_block(cont);
    }

    fn block_at(&self, pc: u32) -> Block {
        self.blocks[pc as usize].expect("every jump target starts a block")
    }

    /// Jumps to `target`; a jump backwards is a loop's back edge.
    fn jump(&mut self, target: u32) {
        if target <= self.pc {
            self.checkpoint(true);
        }
        let blk = self.block_at(target);
        self.b.ins().jump(blk, &[]);
        self.terminated = true;
    }

    /// Branches to `target` when `cond` holds, else falls through.
    fn branch(&mut self, cond: Value, target: u32) {
        let next = self.block_at(self.pc + 1);
        if target <= self.pc {
            let taken = self.b.create_block();
            self.b.ins().brif(cond, taken, &[], next, &[]);
            self.b.switch_to_block(taken);
            self.jump(target);
        } else {
            let blk = self.block_at(target);
            self.b.ins().brif(cond, blk, &[], next, &[]);
        }
        self.terminated = true;
    }

    fn bool_of(&mut self, c: Value) -> Value {
        self.b.ins().uextend(I64, c)
    }

    /// The address of register `r`'s slot, for helpers that write results.
    fn out(&mut self, r: u16) -> Value {
        self.slot_addr(r)
    }

    /// The write barrier before overwriting the reference at `addr + off`.
    fn barrier(&mut self, addr: Value, off: i32) {
        let marking = self.b.ins().uload8(I64, trusted(), self.vm, self.rt.off.marking);
        let slow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(slow);
        self.b.ins().brif(marking, slow, &[], cont, &[]);
        self.b.switch_to_block(slow);
        let old = self.b.ins().load(I64, trusted(), addr, off);
        let vm = self.vm;
        self.helper_void(self.rt.helpers.barrier, &[vm, old]);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
    }

    // ------------------------------------------------------------ entry and exits

    /// Sets up the variables: from the arguments for a call, from every
    /// slot for a run entered at a loop header. Returns the loop headers.
    fn prologue(&mut self, entry_arg: Value) -> Vec<u32> {
        let o = self.rt.off;
        let len = self.b.ins().load(I64, trusted(), self.vm, o.frames_len);
        self.depth = self.b.ins().iadd_imm_s(len, -1);
        self.load_ticks();
        let headers = loop_headers(self.f);
        let normal = self.b.create_block();
        let osr = self.b.create_block();
        if headers.is_empty() {
            // No loop: the VM only ever calls it.
            self.b.ins().jump(normal, &[]);
        } else {
            let is_normal = self.b.ins().icmp_imm_s(IntCC::Equal, entry_arg, i64::from(ENTRY_NORMAL as i32));
            self.b.ins().brif(is_normal, normal, &[], osr, &[]);
        }

        // A call. First the native stack: deep recursion of compiled code
        // ends in the catchable `stack overflow`, never a crash. (A frame
        // entered at a loop header was running in the interpreter: the VM
        // checked the stack before moving it here.)
        self.b.switch_to_block(normal);
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.b.ins().load(I64, trusted(), self.vm, o.native_limit);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        let after = self.b.create_block();
        let cold = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(low, cold, &[], after, &[]);
        self.b.switch_to_block(cold);
        self.set_pc(1);
        let k = self.iconst(raise::STACK_OVERFLOW);
        let vm = self.vm;
        let z = self.iconst(0);
        self.helper(self.rt.helpers.raise, &[vm, k, z, z]);
        self.b.ins().jump(self.unwind, &[]);
        // Then parameters and captures from their slots, the rest 0.
        self.b.switch_to_block(after);
        let incoming = self.f.params as usize + self.f.captures as usize;
        for r in 0..self.kinds.len() {
            let v = match self.kinds[r] {
                Kind::Ref => continue,
                _ if r < incoming => {
                    self.reload(r as u16);
                    continue;
                }
                Kind::Int => self.b.ins().iconst(I64, 0),
                Kind::Float => self.b.ins().f64const(0.0),
            };
            self.set(r as u16, v);
        }
        let first = self.block_at(0);
        self.b.ins().jump(first, &[]);

        // On-stack replacement: every register from its slot, then the loop.
        self.b.switch_to_block(osr);
        if headers.is_empty() {
            let k = self.iconst(raise::INTERNAL);
            let vm = self.vm;
            let z = self.iconst(0);
            self.helper(self.rt.helpers.raise, &[vm, k, z, z]);
            self.b.ins().jump(self.unwind, &[]);
            return headers;
        }
        for r in 0..self.kinds.len() {
            self.reload(r as u16);
        }
        let bad = self.b.create_block();
        let mut sw = Switch::new();
        for h in &headers {
            sw.set_entry(u128::from(*h), self.block_at(*h));
        }
        let e = self.b.ins().uextend(I64, entry_arg);
        sw.emit(&mut self.b, e, bad);
        self.b.switch_to_block(bad);
        let k = self.iconst(raise::INTERNAL);
        let vm = self.vm;
        let z = self.iconst(0);
        self.helper(self.rt.helpers.raise, &[vm, k, z, z]);
        self.b.ins().jump(self.unwind, &[]);
        headers
    }

    /// The unwind block: a `try` of this frame catches (jump to its
    /// handler), or the run is suspended (write the variables back), or
    /// the error goes to the caller.
    fn unwind_block(&mut self) {
        self.b.switch_to_block(self.fail);
        let pc = self.b.block_params(self.fail)[0];
        let fp = self.frame_addr();
        self.b.ins().store(trusted(), pc, fp, self.rt.off.frame_pc);
        self.b.ins().jump(self.unwind, &[]);

        self.b.switch_to_block(self.unwind);
        let vm = self.vm;
        let depth = self.depth();
        let r = self.helper(self.rt.helpers.unwind, &[vm, depth]);
        let propagate = self.b.create_block();
        let mut sw = Switch::new();
        let mut pcs = self.handler_pcs.clone();
        pcs.sort_unstable();
        pcs.dedup();
        for pc in pcs {
            sw.set_entry(u128::from(pc), self.block_at(pc));
        }
        // -1 (no handler here) matches no entry.
        sw.emit(&mut self.b, r, propagate);
        self.b.switch_to_block(propagate);
        self.ret(crate::STATUS_TRAP, None);
    }

    /// Returns `status` and a result (the bits of a value, or 0).
    fn ret(&mut self, status: i64, value: Option<Value>) {
        let s = self.b.ins().iconst(I64, status);
        self.ret_value(s, value);
    }

    /// Returns the status held in `status` (I64), writing the ticks back.
    fn ret_value(&mut self, status: Value, value: Option<Value>) {
        self.store_ticks();
        let v = value.unwrap_or_else(|| self.b.ins().iconst(I64, 0));
        self.b.ins().return_(&[status, v]);
    }

    /// Returns from the function with `value`: pops its frame (and its
    /// handlers).
    fn leave(&mut self, value: Option<Value>) {
        if self.has_try {
            let vm = self.vm;
            let depth = self.depth();
            self.helper_void(self.rt.helpers.leave, &[vm, depth]);
        } else {
            // The callees have popped their records: ours is on top. (A
            // load here is cheaper than keeping `depth` in a register.)
            let o = self.rt.off.frames_len;
            let len = self.b.ins().load(I64, trusted(), self.vm, o);
            let depth = self.b.ins().iadd_imm_s(len, -1);
            self.b.ins().store(trusted(), depth, self.vm, o);
        }
        self.ret(crate::STATUS_OK, value);
        self.terminated = true;
    }

    // ------------------------------------------------------------ calls

    /// Calls the code at `callee_code` for the frame just pushed with
    /// window `nb`, then takes its result into `dst`.
    fn finish_call(&mut self, callee_code: Value, nb: Value, dst: u16, ret: TypeId) {
        // (The result comes back in a register, not in the callee's window.)
        let entry = self.b.ins().iconst(I32, i64::from(ENTRY_NORMAL as i32));
        let vm = self.vm;
        self.store_ticks();
        let call = self.b.ins().call_indirect(self.fn_sig, callee_code, &[vm, nb, entry]);
        self.load_ticks();
        let (status, value) = (self.b.inst_results(call)[0], self.b.inst_results(call)[1]);
        self.after_call(status, value, dst, ret);
    }

    /// Checks a callee's status and takes its result (`value`, the bits)
    /// into `dst`.
    fn after_call(&mut self, status: Value, value: Value, dst: u16, ret: TypeId) {
        self.check_stop(status, self.pc + 1);
        if !matches!(self.m.types.get(ret as usize), Some(Type::Void)) {
            let v = self.coerce(value, dst);
            self.set(dst, v);
        }
    }

    /// A value loaded for register `dst`: references and ints are I64,
    /// floats F64 (types match: the verifier checked them).
    fn coerce(&mut self, v: Value, dst: u16) -> Value {
        let want = if self.kinds[dst as usize] == Kind::Float { F64 } else { I64 };
        let have = self.b.func.dfg.value_type(v);
        if have == want {
            v
        } else if want == F64 {
            self.b.ins().bitcast(F64, MemFlags::new(), v)
        } else {
            self.b.ins().bitcast(I64, MemFlags::new(), v)
        }
    }

    /// The entry of function `callee` (an I64), from the code table.
    fn code_of(&mut self, callee: Value) -> Value {
        let table = self.iconst(self.rt.code_table as i64);
        let off = self.b.ins().ishl_imm_s(callee, 3);
        let at = self.b.ins().iadd(table, off);
        self.b.ins().load(I64, trusted(), at, 0)
    }

    /// The window for a callee of `n` registers (an I64): right after ours
    /// when it fits in this chunk of the register stack, else one the VM
    /// finds (the next chunk; failing at the memory limit).
    fn callee_window(&mut self, n: Value) -> Value {
        let my_n = self.f.regs.len() as i64;
        let nb_fast = self.b.ins().iadd_imm_s(self.regs, my_n * 8);
        // Fits when (offset of our window in its chunk) + 8 * (ours + the
        // callee's registers) <= chunk size.
        let chunk = self.rt.chunk_bytes as i64;
        let at = self.b.ins().band_imm_s(self.regs, chunk - 1);
        let bytes = self.b.ins().ishl_imm_s(n, 3);
        let need = self.b.ins().iadd(at, bytes);
        let over = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThan, need, chunk - my_n * 8);
        let slow = self.b.create_block();
        let merge = self.b.create_block();
        let nb = self.b.append_block_param(merge, I64);
        self.b.set_cold_block(slow);
        self.b.ins().brif(over, slow, &[], merge, &[nb_fast.into()]);
        self.b.switch_to_block(slow);
        let vm = self.vm;
        let my_n_v = self.iconst(my_n);
        let regs = self.regs;
        let w = self.helper(self.rt.helpers.window, &[vm, regs, my_n_v, n]);
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, w, 0);
        self.check(failed);
        self.b.ins().jump(merge, &[w.into()]);
        self.b.switch_to_block(merge);
        nb
    }

    /// Pushes the frame record of a call of `callee` (an I64) with window
    /// `nb`, as the interpreter does. The frame array has room up to its
    /// limit (its capacity, at most the depth limit); past it a helper
    /// grows it or raises `stack overflow`.
    fn push_frame(&mut self, nb: Value, callee: Value, dst: u16) {
        let o = self.rt.off;
        let len = self.b.ins().load(I64, trusted(), self.vm, o.frames_len);
        let limit = self.b.ins().load(I64, trusted(), self.vm, o.frames_limit);
        let full = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, len, limit);
        let grow = self.b.create_block();
        let pushed = self.b.create_block();
        self.b.set_cold_block(grow);
        self.b.ins().brif(full, grow, &[], pushed, &[]);
        self.b.switch_to_block(grow);
        let vm = self.vm;
        let s = self.helper(self.rt.helpers.frames_grow, &[vm]);
        self.check(s);
        self.b.ins().jump(pushed, &[]);
        self.b.switch_to_block(pushed);
        let ptr = self.b.ins().load(I64, trusted(), self.vm, o.frames_ptr);
        let off = self.b.ins().imul_imm_s(len, i64::from(o.frame_size));
        let rec = self.b.ins().iadd(ptr, off);
        self.b.ins().store(trusted(), nb, rec, o.frame_base);
        let func_v = self.b.ins().ireduce(I32, callee);
        self.b.ins().store(trusted(), func_v, rec, o.frame_func);
        let zero32 = self.b.ins().iconst(I32, 0);
        self.b.ins().store(trusted(), zero32, rec, o.frame_pc);
        let dst_v = self.b.ins().iconst(cranelift_codegen::ir::types::I16, i64::from(dst));
        self.b.ins().store(trusted(), dst_v, rec, o.frame_dst);
        let len1 = self.b.ins().iadd_imm_s(len, 1);
        self.b.ins().store(trusted(), len1, self.vm, o.frames_len);
    }

    /// Stores the arguments `args..args + np` in the callee's window.
    fn store_args(&mut self, nb: Value, args: u16, np: usize) {
        for k in 0..np {
            let v = self.get(args + k as u16);
            self.b.ins().store(trusted(), v, nb, (k * 8) as i32);
        }
    }

    /// A call of a function known here. Only the callee's reference
    /// registers are zeroed (the collector reads them); its scalars are set
    /// by its own code (the interpreter's trampoline zeroes them).
    fn static_call(&mut self, dst: u16, callee: u16, args: u16) {
        let g = &self.m.functions[callee as usize];
        let (np, ret) = (g.params as usize, g.ret);
        let refs: Vec<usize> = (np..g.regs.len()).filter(|&r| kind_of(self.m, g.regs[r]) == Kind::Ref).collect();
        self.checkpoint(false);
        let n = self.iconst(g.regs.len() as i64);
        let nb = self.callee_window(n);
        let callee_v = self.iconst(i64::from(callee));
        self.push_frame(nb, callee_v, dst);
        self.store_args(nb, args, np);
        if refs.len() <= 32 {
            let z = self.iconst(0);
            for r in refs {
                self.b.ins().store(trusted(), z, nb, (r * 8) as i32);
            }
        } else {
            let at = self.b.ins().iadd_imm_s(nb, (np * 8) as i64);
            let n = self.iconst((g.regs.len() - np) as i64);
            self.helper_void(self.rt.helpers.zero, &[at, n]);
        }
        match self.self_ref.filter(|_| callee == self.fid) {
            // Recursion: a direct call of this very code.
            Some(me) => {
                let entry = self.b.ins().iconst(I32, i64::from(ENTRY_NORMAL as i32));
                let vm = self.vm;
                self.store_ticks();
                let call = self.b.ins().call(me, &[vm, nb, entry]);
                self.load_ticks();
                let (status, value) = (self.b.inst_results(call)[0], self.b.inst_results(call)[1]);
                self.after_call(status, value, dst, ret);
            }
            None => {
                let code = self.code_of(callee_v);
                self.finish_call(code, nb, dst, ret);
            }
        }
    }

    /// Whether a call of `callee` can be compiled into the caller: a small
    /// leaf whose work stays in machine registers. It makes no calls, has
    /// no loops and no `try`, allocates nothing (so no collection can
    /// happen inside), writes only scalar registers, and its only
    /// references are its parameters (read from the caller's argument
    /// registers). What it can still do is fail (`nil`, an index, a
    /// division by zero): then it gets a frame record after all, so the
    /// error's stack trace is the one a real call gives.
    fn inlinable(&self, callee: u16) -> bool {
        if self.inline_exit.is_some() || callee == self.fid {
            return false;
        }
        let Some(g) = self.m.functions.get(callee as usize) else {
            return false;
        };
        if g.code.len() > INLINE_MAX || g.captures != 0 {
            return false;
        }
        let np = g.params as usize;
        let scalar = |r: u16| g.regs.get(r as usize).is_some_and(|t| kind_of(self.m, *t) != Kind::Ref);
        if (np..g.regs.len()).any(|r| !scalar(r as u16)) {
            return false;
        }
        g.code.iter().enumerate().all(|(pc, ins)| {
            let allowed = match *ins {
                Instr::LoadK { k, .. } => matches!(self.m.consts.get(k as usize), Some(Const::Int(_) | Const::Float(_))),
                Instr::Nop {}
                | Instr::Move { .. }
                | Instr::LoadI { .. }
                | Instr::LoadBool { .. }
                | Instr::GetGlobal { .. }
                | Instr::SetGlobal { .. }
                | Instr::AddI { .. }
                | Instr::SubI { .. }
                | Instr::MulI { .. }
                | Instr::DivI { .. }
                | Instr::ModI { .. }
                | Instr::AddIImm { .. }
                | Instr::BitAnd { .. }
                | Instr::BitOr { .. }
                | Instr::BitXor { .. }
                | Instr::Shl { .. }
                | Instr::Shr { .. }
                | Instr::NegI { .. }
                | Instr::BitNot { .. }
                | Instr::EqI { .. }
                | Instr::NeI { .. }
                | Instr::LtI { .. }
                | Instr::LeI { .. }
                | Instr::AddF { .. }
                | Instr::SubF { .. }
                | Instr::MulF { .. }
                | Instr::DivF { .. }
                | Instr::NegF { .. }
                | Instr::EqF { .. }
                | Instr::NeF { .. }
                | Instr::LtF { .. }
                | Instr::LeF { .. }
                | Instr::Not { .. }
                | Instr::EqB { .. }
                | Instr::NeB { .. }
                | Instr::EqRef { .. }
                | Instr::NeRef { .. }
                | Instr::IntToFloat { .. }
                | Instr::FloatToInt { .. }
                | Instr::AbsI { .. }
                | Instr::AbsF { .. }
                | Instr::MinI { .. }
                | Instr::MaxI { .. }
                | Instr::MinF { .. }
                | Instr::MaxF { .. }
                | Instr::SqrtF { .. }
                | Instr::Ret { .. }
                | Instr::RetVoid {}
                | Instr::GetField { .. }
                | Instr::SetField { .. }
                | Instr::ArrayGet { .. }
                | Instr::ArraySet { .. }
                | Instr::ArrayGetB { .. }
                | Instr::ArraySetB { .. }
                | Instr::ArrayLen { .. }
                | Instr::StrLen { .. }
                | Instr::MapLen { .. }
                | Instr::CellGet { .. }
                | Instr::CellSet { .. } => true,
                Instr::Jmp { .. }
                | Instr::JmpIf { .. }
                | Instr::JmpIfNot { .. }
                | Instr::JLtI { .. }
                | Instr::JLeI { .. }
                | Instr::JEqI { .. }
                | Instr::JNeI { .. }
                | Instr::JLtF { .. }
                | Instr::JLeF { .. }
                | Instr::JNLtF { .. }
                | Instr::JNLeF { .. } => {
                    // Forward only: no loop, so no checkpoint inside.
                    let mut i = *ins;
                    i.label_mut().is_some_and(|t| (*t as usize) > pc)
                }
                _ => false,
            };
            allowed && liveness::uses_defs(self.m, g, ins).is_some_and(|(_, defs)| defs.iter().all(|d| scalar(*d)))
        })
    }

    /// Compiles a call of small leaf `callee` into this function (see
    /// [`T::inlinable`]). The call still takes its fuel tick and checks the
    /// depth limit, as a real one does.
    fn inline_call(&mut self, dst: u16, callee: u16, args: u16) -> Result<(), String> {
        let m = self.m;
        let g = &m.functions[callee as usize];
        let call_pc = self.pc;
        self.checkpoint(false);
        // Room for the frame the callee would have (it gets one if it fails).
        let o = self.rt.off;
        let len = self.b.ins().load(I64, trusted(), self.vm, o.frames_len);
        let limit = self.b.ins().load(I64, trusted(), self.vm, o.frames_limit);
        let full = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, len, limit);
        let grow = self.b.create_block();
        let room = self.b.create_block();
        self.b.set_cold_block(grow);
        self.b.ins().brif(full, grow, &[], room, &[]);
        self.b.switch_to_block(grow);
        let vm = self.vm;
        let s = self.helper(self.rt.helpers.frames_grow, &[vm]);
        self.check(s);
        self.b.ins().jump(room, &[]);
        self.b.switch_to_block(room);

        // The callee's registers: scalars in fresh variables, parameters
        // from the arguments; references read where the caller keeps them.
        let np = g.params as usize;
        let g_kinds: Vec<Kind> = g.regs.iter().map(|t| kind_of(m, *t)).collect();
        let args_v: Vec<Option<Value>> = (0..np)
            .map(|p| (g_kinds[p] != Kind::Ref).then(|| self.get(args + p as u16)))
            .collect();
        let g_regs = self.b.ins().iadd_imm_s(self.regs, i64::from(args) * 8);
        let g_vars: Vec<Option<Variable>> = g_kinds
            .iter()
            .map(|k| match k {
                Kind::Int => Some(self.b.declare_var(I64)),
                Kind::Float => Some(self.b.declare_var(F64)),
                Kind::Ref => None,
            })
            .collect();
        let g_blocks: Vec<Option<Block>> = leaders(g).iter().map(|&l| l.then(|| self.b.create_block())).collect();
        let exit = self.b.create_block();
        let returns = !matches!(m.types.get(g.ret as usize), Some(Type::Void));
        let ret_v = returns.then(|| {
            let ty = if kind_of(m, g.ret) == Kind::Float { F64 } else { I64 };
            self.b.append_block_param(exit, ty)
        });
        let g_fail = self.b.create_block();
        self.b.set_cold_block(g_fail);
        let g_pc = self.b.append_block_param(g_fail, I32);

        let saved = (
            std::mem::replace(&mut self.f, g),
            std::mem::replace(&mut self.kinds, g_kinds),
            std::mem::replace(&mut self.vars, g_vars),
            std::mem::replace(&mut self.blocks, g_blocks),
            std::mem::replace(&mut self.regs, g_regs),
            std::mem::replace(&mut self.fail, g_fail),
            self.pc,
        );
        self.inline_exit = Some(exit);
        for r in 0..self.kinds.len() {
            let v = match (self.kinds[r], args_v.get(r)) {
                (Kind::Ref, _) => continue,
                (_, Some(Some(v))) => *v,
                (Kind::Int, _) => self.b.ins().iconst(I64, 0),
                (Kind::Float, _) => self.b.ins().f64const(0.0),
            };
            self.set(r as u16, v);
        }
        self.terminated = false;
        let r = self.body();
        if r.is_ok() && !self.terminated {
            // The verifier proved the last instruction does not fall through.
            let z = self.iconst(0);
            let k = self.iconst(raise::INTERNAL);
            let vm = self.vm;
            self.helper(self.rt.helpers.raise, &[vm, k, z, z]);
            self.fail_now();
        }
        self.inline_exit = None;
        self.f = saved.0;
        self.kinds = saved.1;
        self.vars = saved.2;
        self.blocks = saved.3;
        self.regs = saved.4;
        self.fail = saved.5;
        self.pc = saved.6;
        r?;

        // The callee failed at `g_pc`: the caller's record points after the
        // call, and the callee gets the record a real call would have made.
        self.b.switch_to_block(g_fail);
        self.set_pc(call_pc + 1);
        let len = self.b.ins().load(I64, trusted(), self.vm, o.frames_len);
        let ptr = self.b.ins().load(I64, trusted(), self.vm, o.frames_ptr);
        let off = self.b.ins().imul_imm_s(len, i64::from(o.frame_size));
        let rec = self.b.ins().iadd(ptr, off);
        self.b.ins().store(trusted(), g_regs, rec, o.frame_base);
        let func_v = self.b.ins().iconst(I32, i64::from(callee));
        self.b.ins().store(trusted(), func_v, rec, o.frame_func);
        self.b.ins().store(trusted(), g_pc, rec, o.frame_pc);
        let dst_v = self.b.ins().iconst(cranelift_codegen::ir::types::I16, i64::from(dst));
        self.b.ins().store(trusted(), dst_v, rec, o.frame_dst);
        let len1 = self.b.ins().iadd_imm_s(len, 1);
        self.b.ins().store(trusted(), len1, self.vm, o.frames_len);
        self.b.ins().jump(self.unwind, &[]);

        self.b.switch_to_block(exit);
        if let Some(v) = ret_v {
            let v = self.coerce(v, dst);
            self.set(dst, v);
        }
        self.terminated = false;
        Ok(())
    }

    /// A call whose callee is known only at run time (an interface method,
    /// a closure): its register and capture counts come from the function
    /// table; a closure's captures are copied after the arguments, and the
    /// rest of the window is zeroed.
    fn dynamic_call(&mut self, dst: u16, callee: Value, args: u16, np: usize, clo: Option<Value>, ret: TypeId) {
        self.checkpoint(false);
        let info_at = {
            let table = self.iconst(self.rt.fn_info as i64);
            let off = self.b.ins().ishl_imm_s(callee, 3);
            self.b.ins().iadd(table, off)
        };
        let info = self.b.ins().load(I64, trusted(), info_at, 0);
        let n = self.b.ins().band_imm_s(info, 0xffff_ffff);
        let nc = self.b.ins().ushr_imm_s(info, 32);
        let nb = self.callee_window(n);
        self.push_frame(nb, callee, dst);
        self.store_args(nb, args, np);
        // Captures: nb[np + k] = clo.caps[k] for k < nc.
        let first_free = match clo {
            Some(c) => {
                let head = self.b.create_block();
                let body = self.b.create_block();
                let done = self.b.create_block();
                let k = self.b.append_block_param(head, I64);
                let z = self.iconst(0);
                self.b.ins().jump(head, &[z.into()]);
                self.b.switch_to_block(head);
                let more = self.b.ins().icmp(IntCC::UnsignedLessThan, k, nc);
                self.b.ins().brif(more, body, &[], done, &[]);
                self.b.switch_to_block(body);
                let k8 = self.b.ins().ishl_imm_s(k, 3);
                let from = self.b.ins().iadd(c, k8);
                let v = self.b.ins().load(I64, trusted(), from, L::CLOSURE_CAPS as i32);
                let to = self.b.ins().iadd(nb, k8);
                self.b.ins().store(trusted(), v, to, (np * 8) as i32);
                let k1 = self.b.ins().iadd_imm_s(k, 1);
                self.b.ins().jump(head, &[k1.into()]);
                self.b.switch_to_block(done);
                self.b.ins().iadd_imm_s(nc, np as i64)
            }
            None => self.iconst(np as i64),
        };
        // Zeroes: nb[k] = 0 for first_free <= k < n.
        let head = self.b.create_block();
        let body = self.b.create_block();
        let done = self.b.create_block();
        let k = self.b.append_block_param(head, I64);
        self.b.ins().jump(head, &[first_free.into()]);
        self.b.switch_to_block(head);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, k, n);
        self.b.ins().brif(more, body, &[], done, &[]);
        self.b.switch_to_block(body);
        let k8 = self.b.ins().ishl_imm_s(k, 3);
        let to = self.b.ins().iadd(nb, k8);
        let z = self.iconst(0);
        self.b.ins().store(trusted(), z, to, 0);
        let k1 = self.b.ins().iadd_imm_s(k, 1);
        self.b.ins().jump(head, &[k1.into()]);
        self.b.switch_to_block(done);
        let code = self.code_of(callee);
        self.finish_call(code, nb, dst, ret);
    }

    // ------------------------------------------------------------ instructions

    #[allow(clippy::too_many_lines)]
    fn instr(&mut self, ins: Instr) -> Result<(), String> {
        let h = self.rt.helpers;
        let pc = self.pc;
        macro_rules! int2 {
            ($dst:expr, $a:expr, $b:expr, $op:ident) => {{
                let (x, y) = (self.get($a), self.get($b));
                let v = self.b.ins().$op(x, y);
                self.set($dst, v);
            }};
        }
        macro_rules! icmp {
            ($dst:expr, $a:expr, $b:expr, $cc:expr) => {{
                let (x, y) = (self.get($a), self.get($b));
                let c = self.b.ins().icmp($cc, x, y);
                let v = self.bool_of(c);
                self.set($dst, v);
            }};
        }
        macro_rules! fcmp {
            ($dst:expr, $a:expr, $b:expr, $cc:expr) => {{
                let (x, y) = (self.get($a), self.get($b));
                let c = self.b.ins().fcmp($cc, x, y);
                let v = self.bool_of(c);
                self.set($dst, v);
            }};
        }
        macro_rules! jcmp {
            ($a:expr, $b:expr, $cc:expr, $target:expr, icmp) => {{
                let (x, y) = (self.get($a), self.get($b));
                let c = self.b.ins().icmp($cc, x, y);
                self.branch(c, $target);
            }};
            ($a:expr, $b:expr, $cc:expr, $target:expr, fcmp) => {{
                let (x, y) = (self.get($a), self.get($b));
                let c = self.b.ins().fcmp($cc, x, y);
                self.branch(c, $target);
            }};
        }
        let vm = self.vm;
        match ins {
            Instr::Nop {} => {}
            Instr::Move { dst, src } => {
                let v = self.get(src);
                self.set(dst, v);
            }
            Instr::LoadI { dst, imm } => {
                let v = self.iconst(i64::from(imm));
                self.set(dst, v);
            }
            Instr::LoadK { dst, k } => {
                let v = match self.m.consts.get(k as usize) {
                    Some(Const::Int(i)) => self.iconst(*i),
                    Some(Const::Float(x)) => self.b.ins().f64const(*x),
                    _ => {
                        let at = self.iconst((self.rt.consts + 8 * k as usize) as i64);
                        self.b.ins().load(I64, trusted(), at, 0)
                    }
                };
                self.set(dst, v);
            }
            Instr::LoadBool { dst, v } => {
                let v = self.iconst(i64::from(v));
                self.set(dst, v);
            }
            Instr::LoadNil { dst } => {
                let v = self.iconst(0);
                self.set(dst, v);
            }
            Instr::LoadFunc { dst, func } => {
                let at = self.iconst((self.rt.static_closures + 8 * func as usize) as i64);
                let v = self.b.ins().load(I64, trusted(), at, 0);
                self.set(dst, v);
            }
            Instr::GetGlobal { dst, g } => {
                let at = self.iconst((self.rt.globals + 8 * g as usize) as i64);
                let ty = self.m.globals[g as usize].ty;
                let v = self.load_typed(ty, at, 0);
                self.set(dst, v);
            }
            Instr::SetGlobal { g, src } => {
                let at = self.iconst((self.rt.globals + 8 * g as usize) as i64);
                let v = self.get(src);
                self.b.ins().store(trusted(), v, at, 0);
            }
            Instr::AddI { dst, a, b } => int2!(dst, a, b, iadd),
            Instr::SubI { dst, a, b } => int2!(dst, a, b, isub),
            Instr::MulI { dst, a, b } => int2!(dst, a, b, imul),
            Instr::DivI { dst, a, b } | Instr::ModI { dst, a, b } => {
                let (x, y) = (self.get(a), self.get(b));
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
                self.raise_if(zero, raise::DIV_ZERO, None, None);
                // x / -1 wraps (x86 would fault on MIN / -1): negate instead.
                let minus1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let special = self.b.create_block();
                let general = self.b.create_block();
                let done = self.b.create_block();
                let r = self.b.append_block_param(done, I64);
                self.b.ins().brif(minus1, special, &[], general, &[]);
                self.b.switch_to_block(special);
                let s = if matches!(ins, Instr::DivI { .. }) {
                    self.b.ins().ineg(x)
                } else {
                    self.iconst(0)
                };
                self.b.ins().jump(done, &[s.into()]);
                self.b.switch_to_block(general);
                let g = if matches!(ins, Instr::DivI { .. }) {
                    self.b.ins().sdiv(x, y)
                } else {
                    self.b.ins().srem(x, y)
                };
                self.b.ins().jump(done, &[g.into()]);
                self.b.switch_to_block(done);
                self.set(dst, r);
            }
            Instr::AddIImm { dst, a, imm } => {
                let x = self.get(a);
                let v = self.b.ins().iadd_imm_s(x, i64::from(imm));
                self.set(dst, v);
            }
            Instr::BitAnd { dst, a, b } => int2!(dst, a, b, band),
            Instr::BitOr { dst, a, b } => int2!(dst, a, b, bor),
            Instr::BitXor { dst, a, b } => int2!(dst, a, b, bxor),
            // Cranelift shifts by the amount modulo the width, as pvm does.
            Instr::Shl { dst, a, b } => int2!(dst, a, b, ishl),
            Instr::Shr { dst, a, b } => int2!(dst, a, b, sshr),
            Instr::NegI { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().ineg(x);
                self.set(dst, v);
            }
            Instr::BitNot { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().bnot(x);
                self.set(dst, v);
            }
            Instr::EqI { dst, a, b } => icmp!(dst, a, b, IntCC::Equal),
            Instr::NeI { dst, a, b } => icmp!(dst, a, b, IntCC::NotEqual),
            Instr::LtI { dst, a, b } => icmp!(dst, a, b, IntCC::SignedLessThan),
            Instr::LeI { dst, a, b } => icmp!(dst, a, b, IntCC::SignedLessThanOrEqual),
            Instr::AddF { dst, a, b } => int2!(dst, a, b, fadd),
            Instr::SubF { dst, a, b } => int2!(dst, a, b, fsub),
            Instr::MulF { dst, a, b } => int2!(dst, a, b, fmul),
            Instr::DivF { dst, a, b } => int2!(dst, a, b, fdiv),
            Instr::ModF { dst, a, b } => {
                let (x, y) = (self.get(a), self.get(b));
                let sig = self.sig(&[F64, F64], Some(F64));
                let callee = self.iconst(h.fmod as i64);
                let call = self.b.ins().call_indirect(sig, callee, &[x, y]);
                let v = self.b.inst_results(call)[0];
                self.set(dst, v);
            }
            Instr::NegF { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().fneg(x);
                self.set(dst, v);
            }
            Instr::EqF { dst, a, b } => fcmp!(dst, a, b, FloatCC::Equal),
            Instr::NeF { dst, a, b } => fcmp!(dst, a, b, FloatCC::NotEqual),
            Instr::LtF { dst, a, b } => fcmp!(dst, a, b, FloatCC::LessThan),
            Instr::LeF { dst, a, b } => fcmp!(dst, a, b, FloatCC::LessThanOrEqual),
            Instr::Not { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().bxor_imm_s(x, 1);
                self.set(dst, v);
            }
            Instr::EqB { dst, a, b } | Instr::EqRef { dst, a, b } => icmp!(dst, a, b, IntCC::Equal),
            Instr::NeB { dst, a, b } | Instr::NeRef { dst, a, b } => icmp!(dst, a, b, IntCC::NotEqual),
            Instr::Concat { dst, a, b } => {
                let (x, y) = (self.get(a), self.get(b));
                let out = self.out(dst);
                let s = self.helper(h.concat, &[vm, x, y, out]);
                self.check(s);
            }
            Instr::EqS { dst, a, b } | Instr::NeS { dst, a, b } => {
                let (x, y) = (self.get(a), self.get(b));
                let eq = self.helper(h.str_eq, &[x, y]);
                let v = if matches!(ins, Instr::NeS { .. }) {
                    self.b.ins().bxor_imm_s(eq, 1)
                } else {
                    eq
                };
                self.set(dst, v);
            }
            Instr::LtS { dst, a, b } | Instr::LeS { dst, a, b } => {
                let (x, y) = (self.get(a), self.get(b));
                // 0 less, 1 equal, 2 greater, 3 an error (a nil string).
                let c = self.helper(h.str_cmp, &[vm, x, y]);
                let bad = self.b.ins().icmp_imm_s(IntCC::Equal, c, 3);
                self.check(bad);
                let cc = if matches!(ins, Instr::LtS { .. }) {
                    IntCC::Equal
                } else {
                    IntCC::UnsignedLessThanOrEqual
                };
                let r = if cc == IntCC::Equal {
                    self.b.ins().icmp_imm_s(IntCC::Equal, c, 0)
                } else {
                    self.b.ins().icmp_imm_s(cc, c, 1)
                };
                let v = self.bool_of(r);
                self.set(dst, v);
            }
            Instr::IntToFloat { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().fcvt_from_sint(F64, x);
                self.set(dst, v);
            }
            Instr::FloatToInt { dst, a } => {
                let x = self.get(a);
                // In range: -2^63 <= x < 2^63 (false for NaN).
                let lo = self.b.ins().f64const(-9_223_372_036_854_775_808.0);
                let hi = self.b.ins().f64const(9_223_372_036_854_775_808.0);
                let ge = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, lo);
                let lt = self.b.ins().fcmp(FloatCC::LessThan, x, hi);
                let ok = self.b.ins().band(ge, lt);
                let bad = self.b.ins().bxor_imm_s(ok, 1);
                let bits = self.b.ins().bitcast(I64, MemFlags::new(), x);
                self.raise_if(bad, raise::FLOAT_TO_INT, Some(bits), None);
                let v = self.b.ins().fcvt_to_sint(I64, x);
                self.set(dst, v);
            }
            Instr::AbsI { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().iabs(x);
                self.set(dst, v);
            }
            Instr::AbsF { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().fabs(x);
                self.set(dst, v);
            }
            Instr::MinI { dst, a, b } => int2!(dst, a, b, smin),
            Instr::MaxI { dst, a, b } => int2!(dst, a, b, smax),
            // NaN wins and -0.0 < 0.0: Java's rules, which Cranelift follows.
            Instr::MinF { dst, a, b } => int2!(dst, a, b, fmin),
            Instr::MaxF { dst, a, b } => int2!(dst, a, b, fmax),
            Instr::SqrtF { dst, a } => {
                let x = self.get(a);
                let v = self.b.ins().sqrt(x);
                self.set(dst, v);
            }
            Instr::ToStr { dst, src, ty } => {
                let v = self.get_bits(src);
                let t = self.iconst(i64::from(ty));
                let out = self.out(dst);
                let s = self.helper(h.tostr, &[vm, v, t, out]);
                self.check(s);
            }
            Instr::Jmp { target } => self.jump(target),
            Instr::JmpIf { cond, target } => {
                let c = self.get(cond);
                self.branch(c, target);
            }
            Instr::JmpIfNot { cond, target } => {
                let c = self.get(cond);
                let n = self.b.ins().icmp_imm_s(IntCC::Equal, c, 0);
                self.branch(n, target);
            }
            Instr::JLtI { a, b, target } => jcmp!(a, b, IntCC::SignedLessThan, target, icmp),
            Instr::JLeI { a, b, target } => jcmp!(a, b, IntCC::SignedLessThanOrEqual, target, icmp),
            Instr::JEqI { a, b, target } => jcmp!(a, b, IntCC::Equal, target, icmp),
            Instr::JNeI { a, b, target } => jcmp!(a, b, IntCC::NotEqual, target, icmp),
            Instr::JLtF { a, b, target } => jcmp!(a, b, FloatCC::LessThan, target, fcmp),
            Instr::JLeF { a, b, target } => jcmp!(a, b, FloatCC::LessThanOrEqual, target, fcmp),
            // !(a < b): true for NaN.
            Instr::JNLtF { a, b, target } => jcmp!(a, b, FloatCC::UnorderedOrGreaterThanOrEqual, target, fcmp),
            Instr::JNLeF { a, b, target } => jcmp!(a, b, FloatCC::UnorderedOrGreaterThan, target, fcmp),
            Instr::ForLoop { ctr, end, target } => {
                let c = self.get(ctr);
                let e = self.get(end);
                let c1 = self.b.ins().iadd_imm_s(c, 1);
                let more = self.b.ins().icmp(IntCC::SignedLessThan, c1, e);
                let again = self.b.create_block();
                let out = self.b.create_block();
                self.b.ins().brif(more, again, &[], out, &[]);
                // The checkpoint comes before the counter moves (as in the
                // interpreter), so a suspended loop resumes without skipping.
                self.b.switch_to_block(again);
                if target <= pc {
                    self.checkpoint(true);
                }
                self.set(ctr, c1);
                let tb = self.block_at(target);
                self.b.ins().jump(tb, &[]);
                self.b.switch_to_block(out);
                self.set(ctr, c1);
                let next = self.block_at(pc + 1);
                self.b.ins().jump(next, &[]);
                self.terminated = true;
            }
            Instr::Call { dst, func, args } => {
                if self.inlinable(func) {
                    self.inline_call(dst, func, args)?;
                } else {
                    self.static_call(dst, func, args);
                }
            }
            Instr::CallMethod { dst, func, args } => {
                let recv = self.get(args);
                self.nil_check(recv);
                if self.inlinable(func) {
                    self.inline_call(dst, func, args)?;
                } else {
                    self.static_call(dst, func, args);
                }
            }
            Instr::CallIface { dst, slot, args } => {
                let recv = self.get(args);
                self.nil_check(recv);
                let class = self.b.ins().uload32(trusted(), recv, L::HEADER_AUX as i32);
                let callee = self.iface_target(class, slot);
                // The verifier proved the method exists; the slot's type gives
                // the parameter count (with `self`) and the result.
                let (np, ret) = iface_method(self.m, slot).ok_or("bad interface slot")?;
                self.dynamic_call(dst, callee, args, np + 1, None, ret);
            }
            Instr::CallClosure { dst, clo, args } => {
                let c = self.get(clo);
                self.nil_check(c);
                let callee = self.b.ins().uload32(trusted(), c, L::HEADER_AUX as i32);
                let Some(Type::Func(ps, ret)) = self.m.types.get(self.f.regs[clo as usize] as usize) else {
                    return Err("a closure register without a function type".into());
                };
                let (np, ret) = (ps.len(), *ret);
                self.dynamic_call(dst, callee, args, np, Some(c), ret);
            }
            Instr::CallNative { dst, native, args } => {
                let imp = &self.m.natives[native as usize];
                let Some(Type::Func(ps, ret)) = self.m.types.get(imp.sig as usize) else {
                    return Err("a native without a function type".into());
                };
                let (np, returns) = (ps.len(), !matches!(self.m.types.get(*ret as usize), Some(Type::Void)));
                for k in 0..np {
                    self.spill(args + k as u16);
                }
                let idx = self.iconst(i64::from(native));
                let a = self.slot_addr(args);
                let out = if returns { self.out(dst) } else { self.iconst(0) };
                let s = self.helper(h.native, &[vm, idx, a, out]);
                // Stopped inside a callback: the call runs again, whole.
                self.check_stop(s, pc);
                if returns {
                    self.reload(dst);
                }
            }
            Instr::Ret { src } => {
                let v = self.get(src);
                if let Some(exit) = self.inline_exit {
                    self.b.ins().jump(exit, &[v.into()]);
                    self.terminated = true;
                } else {
                    let bits = self.get_bits(src);
                    self.leave(Some(bits));
                }
            }
            Instr::RetVoid {} => {
                if let Some(exit) = self.inline_exit {
                    self.b.ins().jump(exit, &[]);
                    self.terminated = true;
                } else {
                    self.leave(None);
                }
            }
            Instr::Throw { src } => {
                let s = self.get(src);
                self.helper(h.throw, &[vm, s]);
                self.fail_now();
                self.terminated = true;
            }
            Instr::TryBegin { handler, reg } => {
                let depth = self.depth();
                let t = self.iconst(i64::from(handler));
                let r = self.iconst(i64::from(reg));
                let s = self.helper(h.try_begin, &[vm, depth, t, r]);
                self.check(s);
            }
            Instr::TryEnd { count } => {
                let depth = self.depth();
                let c = self.iconst(i64::from(count));
                self.helper_void(h.try_end, &[vm, depth, c]);
            }
            Instr::New { dst, class, args } => {
                let n = self.m.classes[class as usize].fields.len();
                for k in 0..n {
                    self.spill(args + k as u16);
                }
                let c = self.iconst(i64::from(class));
                let a = self.slot_addr(args);
                let out = self.out(dst);
                let s = self.helper(h.new_object, &[vm, c, a, out]);
                self.check(s);
            }
            Instr::GetField { dst, obj, field } => {
                let o = self.get(obj);
                self.nil_check(o);
                let ty = self.field_type(obj, field)?;
                let v = self.load_typed(ty, o, (L::OBJ_FIELDS + 8 * field as usize) as i32);
                self.set(dst, v);
            }
            Instr::SetField { obj, field, src } => {
                let o = self.get(obj);
                self.nil_check(o);
                let ty = self.field_type(obj, field)?;
                let off = (L::OBJ_FIELDS + 8 * field as usize) as i32;
                if kind_of(self.m, ty) == Kind::Ref {
                    self.barrier(o, off);
                }
                let v = self.get(src);
                self.b.ins().store(trusted(), v, o, off);
            }
            Instr::NewArray { dst, ty, args, n } => {
                for k in 0..n {
                    self.spill(args + k);
                }
                let t = self.iconst(i64::from(ty));
                let a = self.slot_addr(args);
                let n = self.iconst(i64::from(n));
                let out = self.out(dst);
                let s = self.helper(h.new_array, &[vm, t, a, n, out]);
                self.check(s);
            }
            Instr::ArrayFill { dst, ty, n, x } => {
                let nv = self.get(n);
                let xv = self.get_bits(x);
                let t = self.iconst(i64::from(ty));
                let out = self.out(dst);
                let s = self.helper(h.array_fill, &[vm, t, nv, xv, out]);
                self.check(s);
            }
            Instr::ArrayGet { dst, arr, idx } | Instr::ArrayGetB { dst, arr, idx } => {
                let (data, i) = self.element(arr, idx);
                let v = if matches!(ins, Instr::ArrayGetB { .. }) {
                    let at = self.b.ins().iadd(data, i);
                    self.b.ins().uload8(I64, trusted(), at, 0)
                } else {
                    let off = self.b.ins().ishl_imm_s(i, 3);
                    let at = self.b.ins().iadd(data, off);
                    let el = self.elem_type(arr);
                    self.load_typed(el, at, 0)
                };
                self.set(dst, v);
            }
            Instr::ArraySet { arr, idx, src } | Instr::ArraySetB { arr, idx, src } => {
                let (data, i) = self.element(arr, idx);
                let v = self.get(src);
                if matches!(ins, Instr::ArraySetB { .. }) {
                    let at = self.b.ins().iadd(data, i);
                    self.b.ins().istore8(trusted(), v, at, 0);
                } else {
                    let off = self.b.ins().ishl_imm_s(i, 3);
                    let at = self.b.ins().iadd(data, off);
                    if kind_of(self.m, self.elem_type(arr)) == Kind::Ref {
                        self.barrier(at, 0);
                    }
                    self.b.ins().store(trusted(), v, at, 0);
                }
            }
            Instr::ArrayLen { dst, arr } => {
                let a = self.get(arr);
                self.nil_check(a);
                let v = self.b.ins().load(I64, trusted(), a, L::ARRAY_LEN as i32);
                self.set(dst, v);
            }
            Instr::StrLen { dst, s } => {
                let a = self.get(s);
                self.nil_check(a);
                let v = self.b.ins().load(I64, trusted(), a, L::STR_LEN as i32);
                self.set(dst, v);
            }
            Instr::MapLen { dst, map } => {
                let a = self.get(map);
                self.nil_check(a);
                let v = self.b.ins().uload32(trusted(), a, self.rt.off.map_live);
                self.set(dst, v);
            }
            Instr::Push { arr, src } => {
                let a = self.get(arr);
                let v = self.get_bits(src);
                let s = self.helper(h.push, &[vm, a, v]);
                self.check(s);
            }
            Instr::Pop { dst, arr } => {
                let a = self.get(arr);
                let out = self.out(dst);
                let s = self.helper(h.pop, &[vm, a, out]);
                self.check(s);
                self.reload(dst);
            }
            Instr::Sort { arr } => {
                let a = self.get(arr);
                let s = self.helper(h.sort, &[vm, a]);
                self.check(s);
            }
            Instr::NewMap { dst, ty } => {
                let t = self.iconst(i64::from(ty));
                let out = self.out(dst);
                let s = self.helper(h.new_map, &[vm, t, out]);
                self.check(s);
            }
            Instr::MapGet { dst, map, key } => {
                let m = self.get(map);
                let k = self.get_bits(key);
                let out = self.out(dst);
                let s = self.helper(h.map_get, &[vm, m, k, out]);
                self.check(s);
                self.reload(dst);
            }
            Instr::MapSet { map, key, src } => {
                let m = self.get(map);
                let k = self.get_bits(key);
                let v = self.get_bits(src);
                let s = self.helper(h.map_set, &[vm, m, k, v]);
                self.check(s);
            }
            Instr::MapHas { dst, map, key } => {
                let m = self.get(map);
                let k = self.get_bits(key);
                let out = self.out(dst);
                let s = self.helper(h.map_has, &[vm, m, k, out]);
                self.check(s);
                self.reload(dst);
            }
            Instr::MapRemove { map, key } => {
                let m = self.get(map);
                let k = self.get_bits(key);
                let s = self.helper(h.map_remove, &[vm, m, k]);
                self.check(s);
            }
            Instr::MapKeys { dst, map, ty } => {
                let m = self.get(map);
                let t = self.iconst(i64::from(ty));
                let out = self.out(dst);
                let s = self.helper(h.map_keys, &[vm, m, t, out]);
                self.check(s);
            }
            Instr::NewCell { dst, src } => {
                let v = self.get_bits(src);
                let holds_ref = match self.m.types.get(self.f.regs[dst as usize] as usize) {
                    Some(Type::Cell(t)) => kind_of(self.m, *t) == Kind::Ref,
                    _ => false,
                };
                let r = self.iconst(i64::from(holds_ref));
                let out = self.out(dst);
                let s = self.helper(h.new_cell, &[vm, r, v, out]);
                self.check(s);
            }
            Instr::CellGet { dst, cell } => {
                let c = self.get(cell);
                self.nil_check(c);
                let t = self.cell_type(cell)?;
                let v = self.load_typed(t, c, L::CELL_VALUE as i32);
                self.set(dst, v);
            }
            Instr::CellSet { cell, src } => {
                let c = self.get(cell);
                self.nil_check(c);
                let t = self.cell_type(cell)?;
                if kind_of(self.m, t) == Kind::Ref {
                    self.barrier(c, L::CELL_VALUE as i32);
                }
                let v = self.get(src);
                self.b.ins().store(trusted(), v, c, L::CELL_VALUE as i32);
            }
            Instr::MakeClosure { dst, func, caps, n } => {
                for k in 0..n {
                    self.spill(caps + k);
                }
                let fv = self.iconst(i64::from(func));
                let a = self.slot_addr(caps);
                let nv = self.iconst(i64::from(n));
                let out = self.out(dst);
                let s = self.helper(h.closure, &[vm, fv, a, nv, out]);
                self.check(s);
            }
        }
        Ok(())
    }

    /// The function implementing interface slot `slot` for class `class`
    /// (an I64): one load from the VM's class-by-slot table when it has
    /// one, else a helper's lookup. The verifier proved the class
    /// implements the slot's interface.
    fn iface_target(&mut self, class: Value, slot: u16) -> Value {
        if self.rt.iface_table != 0 {
            let row = self.b.ins().imul_imm_s(class, i64::from(self.rt.iface_slots) * 4);
            let table = self.iconst(self.rt.iface_table as i64 + i64::from(slot) * 4);
            let at = self.b.ins().iadd(table, row);
            self.b.ins().uload32(trusted(), at, 0)
        } else {
            let vm = self.vm;
            let slot_v = self.iconst(i64::from(slot));
            self.helper(self.rt.helpers.iface, &[vm, class, slot_v])
        }
    }

    /// The data pointer of array register `arr` and index register `idx`,
    /// after the `nil` and bounds checks.
    fn element(&mut self, arr: u16, idx: u16) -> (Value, Value) {
        let a = self.get(arr);
        self.nil_check(a);
        let i = self.get(idx);
        let len = self.b.ins().load(I64, trusted(), a, L::ARRAY_LEN as i32);
        // Unsigned: a negative index is out of range too.
        let out = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, i, len);
        self.raise_if(out, raise::INDEX, Some(i), Some(len));
        let data = self.b.ins().load(I64, trusted(), a, L::ARRAY_DATA as i32);
        (data, i)
    }

    fn elem_type(&self, arr: u16) -> TypeId {
        match self.m.types.get(self.f.regs[arr as usize] as usize) {
            Some(Type::Array(e)) => *e,
            _ => 0,
        }
    }

    fn field_type(&self, obj: u16, field: u16) -> Result<TypeId, String> {
        let Some(Type::Class(c)) = self.m.types.get(self.f.regs[obj as usize] as usize) else {
            return Err("a field of a register that is not an object".into());
        };
        self.m.classes[*c as usize]
            .fields
            .get(field as usize)
            .map(|f| f.ty)
            .ok_or_else(|| "no such field".into())
    }

    fn cell_type(&self, cell: u16) -> Result<TypeId, String> {
        match self.m.types.get(self.f.regs[cell as usize] as usize) {
            Some(Type::Cell(t)) => Ok(*t),
            _ => Err("a cell register that is not a cell".into()),
        }
    }
}

/// The parameter count (without `self`) and result of an interface method slot.
pub(crate) fn iface_method(m: &Module, slot: u16) -> Option<(usize, TypeId)> {
    for i in &m.interfaces {
        let Some(k) = (slot as usize).checked_sub(i.first_slot as usize) else {
            continue;
        };
        if let Some((_, t)) = i.methods.get(k) {
            if let Some(Type::Func(ps, r)) = m.types.get(*t as usize) {
                return Some((ps.len(), *r));
            }
        }
    }
    None
}
