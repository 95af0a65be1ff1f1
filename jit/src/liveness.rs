//! Which scalar registers are live where the run may stop.
//!
//! Compiled code keeps `int`, `float` and `bool` registers in machine
//! registers. When a run stops mid-function (out of fuel, interrupted) the
//! interpreter continues the frame later, so every register it may still
//! read must be written back to its slot first. Writing back *every*
//! register would keep them all alive everywhere (and spill them to the
//! machine stack); this classic backward data-flow analysis finds the ones
//! that matter at each stopping point: calls, natives and loop back edges.
//!
//! A register is live at an instruction if some path from there reads it
//! before writing it. Handlers make it simpler than it sounds: a `try`
//! handler can be reached from anywhere in its function, so what is live
//! at any handler counts as live at every stopping point.

use crate::translate::iface_method;
use pvm_bytecode::opcodes::{OperandKind, TABLE};
use pvm_bytecode::{Function, Instr, Module, Type};
use std::collections::HashMap;

/// Most bits (blocks × scalar registers) the analysis may use; past it,
/// every scalar counts as live everywhere (correct, just slower code).
const MAX_BITS: usize = 1 << 24;

/// A fixed-size bit set.
#[derive(Clone, PartialEq)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn union(&mut self, o: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a |= b;
        }
    }
    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .enumerate()
            .flat_map(|(w, &bits)| (0..64).filter(move |b| bits >> b & 1 == 1).map(move |b| w * 64 + b))
    }
}

/// Registers an instruction reads and writes (every register; the caller
/// keeps the scalars). `None` when an operand range cannot be sized (not
/// in verified code).
pub(crate) fn uses_defs(m: &Module, f: &Function, ins: &Instr) -> Option<(Vec<u16>, Vec<u16>)> {
    let info = TABLE.get(ins.opcode() as usize)?;
    let vals = ins.operands();
    let mut uses = Vec::new();
    let mut defs = Vec::new();
    let func_params = |t: u16| match m.types.get(f.regs.get(t as usize).copied()? as usize) {
        Some(Type::Func(ps, _)) => Some(ps.len()),
        _ => None,
    };
    // The length of a register range operand.
    let count = || -> Option<usize> {
        Some(match *ins {
            Instr::Call { func, .. } | Instr::CallMethod { func, .. } => m.functions.get(func as usize)?.params as usize,
            Instr::CallIface { slot, .. } => iface_method(m, slot)?.0 + 1,
            Instr::CallClosure { clo, .. } => func_params(clo)?,
            Instr::CallNative { native, .. } => match m.types.get(m.natives.get(native as usize)?.sig as usize) {
                Some(Type::Func(ps, _)) => ps.len(),
                _ => return None,
            },
            Instr::New { class, .. } => m.classes.get(class as usize)?.fields.len(),
            Instr::NewArray { n, .. } | Instr::MakeClosure { n, .. } => n as usize,
            _ => return None,
        })
    };
    for ((name, kind), (_, v)) in info.operands.iter().zip(&vals) {
        if *kind != OperandKind::Reg {
            continue;
        }
        let r = u16::try_from(*v).ok()?;
        match *name {
            "dst" => defs.push(r),
            "ctr" => {
                uses.push(r);
                defs.push(r);
            }
            // The handler's message register is written when it catches.
            "reg" if matches!(ins, Instr::TryBegin { .. }) => {}
            "args" | "caps" => {
                let n = count()?;
                for k in 0..n {
                    uses.push(u16::try_from(usize::from(r) + k).ok()?);
                }
            }
            _ => uses.push(r),
        }
    }
    Some((uses, defs))
}

/// For each stopping point (by pc), the scalar registers to write back.
pub(crate) struct Live {
    at: HashMap<u32, Vec<u16>>,
    /// Every scalar register: used where the analysis was skipped.
    all: Vec<u16>,
    analysed: bool,
}

impl Live {
    /// The scalars to write back when the run stops at `pc`.
    pub(crate) fn at(&self, pc: u32) -> &[u16] {
        if !self.analysed {
            return &self.all;
        }
        self.at.get(&pc).map_or(&[], Vec::as_slice)
    }
}

/// Whether the run may stop at this instruction (and resume there or after it).
pub(crate) fn is_stop(pc: usize, ins: &Instr) -> bool {
    match *ins {
        Instr::Call { .. } | Instr::CallMethod { .. } | Instr::CallIface { .. } | Instr::CallClosure { .. } | Instr::CallNative { .. } => {
            true
        }
        _ => {
            let mut i = *ins;
            !matches!(ins, Instr::TryBegin { .. }) && i.label_mut().is_some_and(|t| (*t as usize) <= pc)
        }
    }
}

/// Analyses function `f`; `scalar[r]` says whether register `r` is kept in
/// a machine register, `leaders` where basic blocks start.
pub(crate) fn analyse(m: &Module, f: &Function, scalar: &[bool], leaders: &[bool]) -> Live {
    let all: Vec<u16> = (0..scalar.len()).filter(|&r| scalar[r]).map(|r| r as u16).collect();
    let skip = Live {
        at: HashMap::new(),
        all: all.clone(),
        analysed: false,
    };
    let n = f.code.len();
    let starts: Vec<usize> = (0..n).filter(|&pc| leaders[pc]).collect();
    let nregs = scalar.len();
    if starts.len().saturating_mul(nregs) > MAX_BITS || all.is_empty() {
        return skip;
    }
    let mut block_of = vec![0usize; n];
    for (b, &s) in starts.iter().enumerate() {
        let end = starts.get(b + 1).copied().unwrap_or(n);
        block_of[s..end].fill(b);
    }
    let mut ud = Vec::with_capacity(n);
    for ins in &f.code {
        match uses_defs(m, f, ins) {
            Some(x) => ud.push(x),
            None => return skip,
        }
    }
    // Successors of each block (by block index).
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); starts.len()];
    let mut handler_blocks = Vec::new();
    for (b, &s) in starts.iter().enumerate() {
        let end = starts.get(b + 1).copied().unwrap_or(n);
        let last = &f.code[end - 1];
        let mut l = *last;
        if let Some(t) = l.label_mut() {
            if let Some(&tb) = block_of.get(*t as usize) {
                if matches!(last, Instr::TryBegin { .. }) {
                    handler_blocks.push(tb);
                } else {
                    succ[b].push(tb);
                }
            }
        }
        let falls = !matches!(
            last,
            Instr::Jmp { .. } | Instr::Ret { .. } | Instr::RetVoid {} | Instr::Throw { .. }
        );
        if falls && end < n {
            succ[b].push(block_of[end]);
        }
        let _ = s;
    }
    // Backward through one block from `out`, calling `each(pc, in, out)`.
    let step = |pc: usize, live: &mut Bits| {
        let (uses, defs) = &ud[pc];
        // (A call of a `void` function names no real destination.)
        for &d in defs {
            if scalar.get(d as usize) == Some(&true) {
                live.clear(d as usize);
            }
        }
        for &u in uses {
            if scalar.get(u as usize) == Some(&true) {
                live.set(u as usize);
            }
        }
    };
    let mut live_in = vec![Bits::new(nregs); starts.len()];
    let mut live_out = vec![Bits::new(nregs); starts.len()];
    let mut changed = true;
    while changed {
        changed = false;
        for b in (0..starts.len()).rev() {
            let mut out = Bits::new(nregs);
            for &sb in &succ[b] {
                out.union(&live_in[sb]);
            }
            let end = starts.get(b + 1).copied().unwrap_or(n);
            let mut cur = out.clone();
            for pc in (starts[b]..end).rev() {
                step(pc, &mut cur);
            }
            if cur != live_in[b] {
                live_in[b] = cur;
                changed = true;
            }
            live_out[b] = out;
        }
    }
    let mut handlers = Bits::new(nregs);
    for hb in handler_blocks {
        handlers.union(&live_in[hb]);
    }
    let mut at = HashMap::new();
    for (b, &s) in starts.iter().enumerate() {
        let end = starts.get(b + 1).copied().unwrap_or(n);
        let mut cur = live_out[b].clone();
        for pc in (s..end).rev() {
            let after = cur.clone();
            step(pc, &mut cur);
            if is_stop(pc, &f.code[pc]) {
                // Resumed at the instruction (it runs again) or after it.
                let mut both = after;
                both.union(&cur);
                both.union(&handlers);
                at.insert(pc as u32, both.ones().map(|r| r as u16).collect());
            }
        }
    }
    Live { at, all, analysed: true }
}
