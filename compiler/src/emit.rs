//! The emitter: typed HIR to register bytecode.
//!
//! Each function gets a frame of typed registers. Parameters come first,
//! then captured values, then locals and temporaries. A register's type
//! never changes, so temporaries are recycled through one free list per
//! type, and the function's register-type table is all the garbage
//! collector and the verifier need to know about a frame.
//!
//! Variables that a lambda captures *and* that are assigned after their
//! declaration live in heap cells (`NewCell`/`CellGet`/`CellSet`), so the
//! lambda and the enclosing function share them; all other captured
//! variables are copied into the closure, which is cheaper and
//! indistinguishable.
//!
//! Loops are laid out with the condition at the bottom (one jump per
//! iteration), `for i in a..b` uses the `ForLoop` instruction as its back
//! edge, and conditions compile to fused compare-and-jump instructions.

use crate::bytecode::{self as bc, Const, Instr, Module, Reg, Type, TypeId};
use crate::check::Checked;
use crate::hir::{self, Bin, ExprKind, Op, Place, Stmt, Un, VarId};
use crate::types::{self, TypeTable, BOOL, INT, STR, VOID};
use rustc_hash::FxHashMap;

/// Array literals longer than this are built by pushes, not in one window
/// of consecutive registers.
const ARRAY_WINDOW: usize = 256;

/// Module-wide tables filled while emitting functions.
struct ModBuilder {
    types: TypeTable,
    consts: Vec<Const>,
    const_index: FxHashMap<ConstKey, u32>,
    natives: Vec<bc::NativeImport>,
    native_index: FxHashMap<hir::NativeCall, u16>,
    sigs: Vec<(Vec<TypeId>, TypeId)>,
    iface_slots: Vec<(Vec<TypeId>, TypeId)>,
    /// The first limit of the bytecode format the program exceeds: the
    /// file and line, and what.
    too_big: Option<(u16, u32, String)>,
}

#[derive(Hash, PartialEq, Eq)]
enum ConstKey {
    Int(i64),
    Float(u64),
    Str(String),
}

impl ModBuilder {
    fn constant(&mut self, c: Const) -> u32 {
        let key = match &c {
            Const::Int(i) => ConstKey::Int(*i),
            Const::Float(f) => ConstKey::Float(f.to_bits()),
            Const::Str(s) => ConstKey::Str(s.clone()),
        };
        if let Some(&k) = self.const_index.get(&key) {
            return k;
        }
        let k = self.consts.len() as u32;
        self.consts.push(c);
        self.const_index.insert(key, k);
        k
    }

    /// The import index of a native at a signature, and its parameter types.
    fn native(&mut self, call: &hir::NativeCall) -> (u16, Vec<TypeId>) {
        let ps = match self.types.get(call.sig) {
            Type::Func(ps, _) => ps.clone(),
            _ => unreachable!("the checker gives natives function types"),
        };
        if let Some(&i) = self.native_index.get(call) {
            return (i, ps);
        }
        let Ok(i) = u16::try_from(self.natives.len()) else {
            self.too_big
                .get_or_insert_with(|| (0, 0, "the program imports more than 65535 native functions".into()));
            return (0, ps);
        };
        self.natives.push(bc::NativeImport {
            name: call.name.clone(),
            sig: call.sig,
        });
        self.native_index.insert(call.clone(), i);
        (i, ps)
    }
}

/// Turns a checked program into a module.
pub fn emit(c: Checked, files: Vec<String>) -> Result<Module, (u16, u32, String)> {
    let mut mb = ModBuilder {
        types: c.types,
        consts: Vec::new(),
        const_index: FxHashMap::default(),
        natives: Vec::new(),
        native_index: FxHashMap::default(),
        sigs: Vec::new(),
        iface_slots: Vec::new(),
        too_big: None,
    };
    // Signatures by function id: parameter types from the variables.
    for f in &c.funcs {
        let ps = f.params.iter().map(|&v| c.vars[v as usize].ty).collect();
        mb.sigs.push((ps, f.ret));
    }
    for i in &c.ifaces {
        for (_, ps, r) in &i.methods {
            mb.iface_slots.push((ps.clone(), *r));
        }
    }
    let mut functions = Vec::with_capacity(c.funcs.len());
    for f in &c.funcs {
        functions.push(FnEmitter::new(&mut mb, &c.vars).function(f));
    }
    if let Some(e) = mb.too_big {
        return Err(e);
    }
    let mut interfaces = Vec::new();
    for i in &c.ifaces {
        let methods = i
            .methods
            .iter()
            .map(|(n, ps, r)| (n.clone(), mb.types.func(ps.clone(), *r)))
            .collect();
        interfaces.push(bc::Interface {
            name: i.name.clone(),
            methods,
            first_slot: i.first_slot,
        });
    }
    let classes = c
        .classes
        .iter()
        .map(|k| bc::Class {
            name: k.name.clone(),
            fields: k.fields.iter().map(|(n, t)| bc::Field { name: n.clone(), ty: *t }).collect(),
            methods: k.methods.clone(),
            interfaces: k.ifaces.clone(),
        })
        .collect();
    let globals = c
        .globals
        .iter()
        .map(|g| bc::Global {
            name: g.name.clone(),
            ty: g.ty.unwrap_or(types::ERROR),
        })
        .collect();
    Ok(Module {
        types: mb.types.types,
        consts: mb.consts,
        functions,
        classes,
        interfaces,
        globals,
        natives: mb.natives,
        files,
        inits: c.inits,
        main: c.main,
    })
}

struct Loop {
    breaks: Vec<usize>,
    continues: Vec<usize>,
    try_depth: u16,
}

struct FnEmitter<'m> {
    m: &'m mut ModBuilder,
    vars: &'m [hir::Var],
    code: Vec<Instr>,
    lines: Vec<u32>,
    regs: Vec<TypeId>,
    temp: Vec<bool>,
    free: FxHashMap<TypeId, Vec<Reg>>,
    windows: FxHashMap<Vec<TypeId>, Vec<Reg>>,
    var_reg: FxHashMap<VarId, Reg>,
    /// Constants used in loops: (kind, bits, type) -> register loaded in the preamble.
    hoisted: FxHashMap<(std::mem::Discriminant<ExprKind>, u64, TypeId), Reg>,
    preamble: Vec<(Instr, u32)>,
    loop_depth: u32,
    /// Variables declared in each open scope, innermost last.
    scopes: Vec<Vec<VarId>>,
    loops: Vec<Loop>,
    try_depth: u16,
    line: u32,
    name: String,
}

impl<'m> FnEmitter<'m> {
    fn new(m: &'m mut ModBuilder, vars: &'m [hir::Var]) -> Self {
        FnEmitter {
            m,
            vars,
            code: Vec::new(),
            lines: Vec::new(),
            regs: Vec::new(),
            temp: Vec::new(),
            free: FxHashMap::default(),
            windows: FxHashMap::default(),
            var_reg: FxHashMap::default(),
            hoisted: FxHashMap::default(),
            preamble: Vec::new(),
            loop_depth: 0,
            scopes: Vec::new(),
            loops: Vec::new(),
            try_depth: 0,
            line: 0,
            name: String::new(),
        }
    }

    fn function(mut self, f: &hir::Func) -> bc::Function {
        self.name = f.name.clone();
        // Parameters, then captures, in the registers the VM fills on a call.
        for &p in &f.params {
            let r = self.new_reg(self.vars[p as usize].ty, false);
            self.var_reg.insert(p, r);
        }
        for &(_, inner) in &f.captures {
            let t = self.var_ty(inner);
            let r = self.new_reg(t, false);
            self.var_reg.insert(inner, r);
        }
        // A parameter captured by reference moves into a cell on entry.
        for &p in &f.params {
            if self.boxed(p) {
                let raw = self.var_reg[&p];
                let t = self.var_ty(p);
                let cell = self.new_reg(t, false);
                self.line = f.end_line;
                self.emit(Instr::NewCell { dst: cell, src: raw });
                self.var_reg.insert(p, cell);
            }
        }
        self.block(&f.body);
        self.line = f.end_line;
        // Every function ends in a terminator, so control never runs off the end.
        if f.ret == VOID {
            self.emit(Instr::RetVoid {});
        } else if !matches!(self.code.last(), Some(Instr::Ret { .. } | Instr::Throw { .. } | Instr::Jmp { .. })) || self.ends_reachable() {
            let r = self.new_reg(f.ret, false);
            self.emit(Instr::Ret { src: r });
        }
        self.prepend_preamble();
        if self.regs.len() > u16::MAX as usize {
            let msg = format!(
                "function `{}` needs more than 65535 registers (split it into smaller functions)",
                self.name
            );
            self.m.too_big.get_or_insert((f.file, f.end_line, msg));
        }
        let params = f.params.len() as u16;
        let captures = f.captures.len() as u16;
        bc::Function {
            name: f.name.clone(),
            kind: f.kind,
            file: f.file,
            params,
            captures,
            regs: self.regs,
            ret: f.ret,
            code: self.code,
            lines: self.lines,
        }
    }

    /// Puts the hoisted constant loads in front of the code, moving every
    /// jump target by their number.
    fn prepend_preamble(&mut self) {
        if self.preamble.is_empty() {
            return;
        }
        let k = self.preamble.len() as u32;
        for ins in &mut self.code {
            if let Some(l) = ins.label_mut() {
                *l += k;
            }
        }
        let (code, lines): (Vec<Instr>, Vec<u32>) = std::mem::take(&mut self.preamble).into_iter().unzip();
        self.code.splice(0..0, code);
        self.lines.splice(0..0, lines);
    }

    /// Whether some jump targets the end of the code (then a final terminator is needed).
    fn ends_reachable(&mut self) -> bool {
        let end = self.code.len() as u32;
        self.code.iter_mut().any(|i| i.label_mut().map(|l| *l == end).unwrap_or(false))
    }

    // ------------------------------------------------------------ registers

    fn var_ty(&mut self, v: VarId) -> TypeId {
        let t = self.vars[v as usize].ty;
        if self.boxed(v) {
            self.m.types.cell(t)
        } else {
            t
        }
    }

    fn boxed(&self, v: VarId) -> bool {
        let o = &self.vars[self.vars[v as usize].origin as usize];
        o.captured && o.assigned
    }

    fn new_reg(&mut self, ty: TypeId, temp: bool) -> Reg {
        let r = self.regs.len();
        self.regs.push(ty);
        self.temp.push(temp);
        r.min(u16::MAX as usize) as Reg
    }

    fn temp(&mut self, ty: TypeId) -> Reg {
        if let Some(r) = self.free.get_mut(&ty).and_then(|v| v.pop()) {
            return r;
        }
        self.new_reg(ty, true)
    }

    fn release(&mut self, r: Reg) {
        // r65535 stands for every register past the limit (`new_reg`); the
        // function is refused at its end, so its registers are not reused.
        if r == Reg::MAX {
            return;
        }
        if self.temp.get(r as usize).copied().unwrap_or(false) {
            let ty = self.regs[r as usize];
            let list = self.free.entry(ty).or_default();
            debug_assert!(!list.contains(&r), "register r{r} released twice");
            list.push(r);
        }
    }

    /// Consecutive registers for call arguments of the given types.
    fn window(&mut self, tys: &[TypeId]) -> Reg {
        if let Some(base) = self.windows.get_mut(tys).and_then(|v| v.pop()) {
            return base;
        }
        let base = self.regs.len() as Reg;
        for &t in tys {
            self.new_reg(t, false);
        }
        base
    }

    fn release_window(&mut self, tys: Vec<TypeId>, base: Reg) {
        if !tys.is_empty() {
            self.windows.entry(tys).or_default().push(base);
        }
    }

    // ------------------------------------------------------------ code

    /// Whether array register `arr` holds a `[bool]` (one byte per element,
    /// read and written by their own instructions).
    fn bool_array(&self, arr: Reg) -> bool {
        self.m.types.elem(self.regs[arr as usize]) == Some(BOOL)
    }

    fn array_get(&mut self, dst: Reg, arr: Reg, idx: Reg) {
        if self.bool_array(arr) {
            self.emit(Instr::ArrayGetB { dst, arr, idx });
        } else {
            self.emit(Instr::ArrayGet { dst, arr, idx });
        }
    }

    fn array_set(&mut self, arr: Reg, idx: Reg, src: Reg) {
        if self.bool_array(arr) {
            self.emit(Instr::ArraySetB { arr, idx, src });
        } else {
            self.emit(Instr::ArraySet { arr, idx, src });
        }
    }

    fn emit(&mut self, i: Instr) -> usize {
        self.code.push(i);
        self.lines.push(self.line);
        self.code.len() - 1
    }

    fn here(&self) -> usize {
        self.code.len()
    }

    fn patch(&mut self, jumps: &[usize], target: usize) {
        for &j in jumps {
            if let Some(l) = self.code[j].label_mut() {
                *l = target as u32;
            }
        }
    }

    fn block(&mut self, stmts: &[Stmt]) {
        self.open_scope();
        for s in stmts {
            self.stmt(s);
        }
        self.close_scope();
    }

    fn open_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    /// Ends the innermost scope: its variables' registers go back to the free lists.
    fn close_scope(&mut self) {
        for v in self.scopes.pop().unwrap_or_default() {
            if let Some(r) = self.var_reg.remove(&v) {
                self.unpin(r);
            }
        }
    }

    /// Emits a loop body; `continue` jumps land right after it. Returns the
    /// loop's pending `break` jumps for the caller to patch.
    fn loop_body(&mut self, body: &[Stmt]) -> Vec<usize> {
        self.loops.push(Loop {
            breaks: vec![],
            continues: vec![],
            try_depth: self.try_depth,
        });
        self.loop_depth += 1;
        self.block(body);
        self.loop_depth -= 1;
        let lp = self.loops.pop().expect("pushed above");
        let cont = self.here();
        self.patch(&lp.continues, cont);
        lp.breaks
    }

    /// Gives a variable a register. The register is pinned (not a
    /// temporary) while the variable lives, so consumers of `expr` that
    /// release what they were handed never free it.
    fn declare(&mut self, v: VarId) -> Reg {
        let t = self.var_ty(v);
        let r = self.temp(t);
        self.pin(r);
        self.var_reg.insert(v, r);
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(v);
        }
        r
    }

    fn pin(&mut self, r: Reg) {
        if let Some(t) = self.temp.get_mut(r as usize) {
            *t = false;
        }
    }

    /// Unpins a register taken with `temp` + `pin` and frees it.
    fn unpin(&mut self, r: Reg) {
        if let Some(t) = self.temp.get_mut(r as usize) {
            *t = true;
        }
        self.release(r);
    }

    fn stmt(&mut self, s: &Stmt) {
        stacker::maybe_grow(crate::check::RED_ZONE, crate::check::STACK_SEGMENT, || self.stmt_at(s))
    }

    fn stmt_at(&mut self, s: &Stmt) {
        match s {
            Stmt::Let(v, e) => {
                self.line = e.line;
                if self.boxed(*v) {
                    let x = self.expr(e);
                    let cell = self.declare(*v);
                    self.line = e.line;
                    self.emit(Instr::NewCell { dst: cell, src: x });
                    self.release(x);
                } else {
                    // The new variable has its own id, so an initialiser reading an
                    // outer variable of the same name still reads the outer one.
                    let r = self.declare(*v);
                    self.expr_into(e, r);
                }
            }
            Stmt::Assign(place, e, line) => self.assign(place, e, *line),
            Stmt::Compound(place, bin, e, line) => self.compound(place, *bin, e, *line),
            Stmt::Expr(e) => {
                let r = self.expr(e);
                self.release(r);
            }
            Stmt::If(c, t, e) => {
                let to_else = self.cond_jump(c, false);
                self.block(t);
                if e.is_empty() {
                    let h = self.here();
                    self.patch(&to_else, h);
                } else {
                    let to_end = self.emit(Instr::Jmp { target: 0 });
                    let h = self.here();
                    self.patch(&to_else, h);
                    self.block(e);
                    let h = self.here();
                    self.patch(&[to_end], h);
                }
            }
            Stmt::While(c, body) => {
                self.line = c.line;
                let to_cond = self.emit(Instr::Jmp { target: 0 });
                let top = self.here();
                let breaks = self.loop_body(body);
                let cond = self.here();
                self.patch(&[to_cond], cond);
                // The condition runs every iteration too.
                self.loop_depth += 1;
                let back = self.cond_jump(c, true);
                self.loop_depth -= 1;
                self.patch(&back, top);
                let exit = self.here();
                self.patch(&breaks, exit);
            }
            Stmt::ForRange { var, start, end, body } => {
                self.line = start.line;
                // Both ends are evaluated once, into the loop's own registers.
                let ctr = self.temp(INT);
                self.pin(ctr);
                self.expr_into(start, ctr);
                let lim = self.temp(INT);
                self.pin(lim);
                self.expr_into(end, lim);
                let skip = self.emit(Instr::JLeI { a: lim, b: ctr, target: 0 });
                let top = self.here();
                let v = &self.vars[*var as usize];
                let alias = !v.assigned && !v.captured;
                self.open_scope();
                let vreg = if alias {
                    self.var_reg.insert(*var, ctr);
                    ctr
                } else {
                    self.declare(*var)
                };
                if !alias {
                    if self.boxed(*var) {
                        self.emit(Instr::NewCell { dst: vreg, src: ctr });
                    } else {
                        self.emit(Instr::Move { dst: vreg, src: ctr });
                    }
                }
                let breaks = self.loop_body(body);
                self.line = start.line;
                self.emit(Instr::ForLoop {
                    ctr,
                    end: lim,
                    target: top as u32,
                });
                let exit = self.here();
                self.patch(&breaks, exit);
                self.patch(&[skip], exit);
                self.close_scope();
                self.var_reg.remove(var);
                self.unpin(ctr);
                self.unpin(lim);
            }
            Stmt::ForArray { var, arr, body } => {
                let a = self.expr(arr);
                let at = arr.ty;
                let held = self.temp(at);
                self.emit(Instr::Move { dst: held, src: a });
                self.release(a);
                self.index_loop(*var, held, body, arr.line);
                self.release(held);
            }
            Stmt::ForMap { var, map, keys_ty, body } => {
                let mreg = self.expr(map);
                let keys = self.temp(*keys_ty);
                self.line = map.line;
                self.emit(Instr::MapKeys {
                    dst: keys,
                    map: mreg,
                    ty: *keys_ty,
                });
                self.release(mreg);
                self.index_loop(*var, keys, body, map.line);
                self.release(keys);
            }
            Stmt::Break(line) | Stmt::Continue(line) => {
                self.line = *line;
                let Some(depth) = self.loops.last().map(|l| l.try_depth) else {
                    return;
                };
                if self.try_depth > depth {
                    self.emit(Instr::TryEnd {
                        count: self.try_depth - depth,
                    });
                }
                let j = self.emit(Instr::Jmp { target: 0 });
                if let Some(lp) = self.loops.last_mut() {
                    if matches!(s, Stmt::Break(_)) {
                        lp.breaks.push(j);
                    } else {
                        lp.continues.push(j);
                    }
                }
            }
            Stmt::Return(e, line) => match e {
                Some(e) => {
                    let r = self.expr(e);
                    self.line = *line;
                    self.emit(Instr::Ret { src: r });
                    self.release(r);
                }
                None => {
                    self.line = *line;
                    self.emit(Instr::RetVoid {});
                }
            },
            Stmt::Block(b) => self.block(b),
            Stmt::Try { body, var, handler, line } => {
                self.line = *line;
                let boxed = self.boxed(*var);
                self.open_scope();
                let msg = if boxed { self.temp(STR) } else { self.declare(*var) };
                let begin = self.emit(Instr::TryBegin { handler: 0, reg: msg });
                self.try_depth += 1;
                self.block(body);
                self.try_depth -= 1;
                self.line = *line;
                self.emit(Instr::TryEnd { count: 1 });
                let to_end = self.emit(Instr::Jmp { target: 0 });
                let h = self.here();
                self.patch(&[begin], h);
                if boxed {
                    let cell = self.declare(*var);
                    self.emit(Instr::NewCell { dst: cell, src: msg });
                    self.release(msg);
                }
                self.block(handler);
                let end = self.here();
                self.patch(&[to_end], end);
                self.close_scope();
            }
            Stmt::Throw(e, line) => {
                let r = self.expr(e);
                self.line = *line;
                self.emit(Instr::Throw { src: r });
                self.release(r);
            }
            Stmt::Assert(c, msg, line) => {
                let ok = self.cond_jump(c, true);
                self.line = *line;
                let r = match msg {
                    Some(m) => self.expr(m),
                    None => {
                        let r = self.temp(STR);
                        let k = self.m.constant(Const::Str("assertion failed".into()));
                        self.emit(Instr::LoadK { dst: r, k });
                        r
                    }
                };
                self.line = *line;
                self.emit(Instr::Throw { src: r });
                self.release(r);
                let h = self.here();
                self.patch(&ok, h);
            }
        }
    }

    /// `for v in seq` over an array held in `seq`: by index while index < len.
    fn index_loop(&mut self, var: VarId, seq: Reg, body: &[Stmt], line: u32) {
        self.line = line;
        let idx = self.temp(INT);
        let len = self.temp(INT);
        self.emit(Instr::LoadI { dst: idx, imm: 0 });
        let to_check = self.emit(Instr::Jmp { target: 0 });
        let top = self.here();
        self.open_scope();
        let vreg = self.declare(var);
        if self.boxed(var) {
            let et = self.vars[var as usize].ty;
            let t = self.temp(et);
            self.array_get(t, seq, idx);
            self.emit(Instr::NewCell { dst: vreg, src: t });
            self.release(t);
        } else {
            self.array_get(vreg, seq, idx);
        }
        let breaks = self.loop_body(body);
        self.line = line;
        self.emit(Instr::AddIImm { dst: idx, a: idx, imm: 1 });
        let check = self.here();
        self.patch(&[to_check], check);
        self.emit(Instr::ArrayLen { dst: len, arr: seq });
        self.emit(Instr::JLtI {
            a: idx,
            b: len,
            target: top as u32,
        });
        let exit = self.here();
        self.patch(&breaks, exit);
        self.close_scope();
        self.release(idx);
        self.release(len);
    }

    fn assign(&mut self, place: &Place, e: &hir::Expr, line: u32) {
        match place {
            Place::Var(v) if !self.boxed(*v) => {
                let r = self.var_reg[v];
                self.expr_into(e, r);
            }
            Place::Var(v) => {
                let x = self.expr(e);
                self.line = line;
                let cell = self.var_reg[v];
                self.emit(Instr::CellSet { cell, src: x });
                self.release(x);
            }
            Place::Global(g) => {
                let x = self.expr(e);
                self.line = line;
                self.emit(Instr::SetGlobal { g: *g, src: x });
                self.release(x);
            }
            Place::Index(a, i) => {
                let ra = self.expr(a);
                let ri = self.expr(i);
                let x = self.expr(e);
                self.line = line;
                self.array_set(ra, ri, x);
                self.release(x);
                self.release(ri);
                self.release(ra);
            }
            Place::MapKey(m, k) => {
                let rm = self.expr(m);
                let rk = self.expr(k);
                let x = self.expr(e);
                self.line = line;
                self.emit(Instr::MapSet { map: rm, key: rk, src: x });
                self.release(x);
                self.release(rk);
                self.release(rm);
            }
            Place::Field(o, f) => {
                let ro = self.expr(o);
                let x = self.expr(e);
                self.line = line;
                self.emit(Instr::SetField {
                    obj: ro,
                    field: *f,
                    src: x,
                });
                self.release(x);
                self.release(ro);
            }
        }
    }

    fn compound(&mut self, place: &Place, bin: Bin, e: &hir::Expr, line: u32) {
        let ty = e.ty;
        match place {
            Place::Var(v) if !self.boxed(*v) => {
                let r = self.var_reg[v];
                self.binary_into(bin, r, e, r, line);
            }
            Place::Var(v) => {
                let cell = self.var_reg[v];
                let t = self.temp(ty);
                self.line = line;
                self.emit(Instr::CellGet { dst: t, cell });
                self.binary_into(bin, t, e, t, line);
                self.emit(Instr::CellSet { cell, src: t });
                self.release(t);
            }
            Place::Global(g) => {
                let t = self.temp(ty);
                self.line = line;
                self.emit(Instr::GetGlobal { dst: t, g: *g });
                self.binary_into(bin, t, e, t, line);
                self.emit(Instr::SetGlobal { g: *g, src: t });
                self.release(t);
            }
            Place::Index(a, i) => {
                let ra = self.expr(a);
                let ri = self.expr(i);
                let t = self.temp(ty);
                self.line = line;
                self.array_get(t, ra, ri);
                self.binary_into(bin, t, e, t, line);
                self.array_set(ra, ri, t);
                self.release(t);
                self.release(ri);
                self.release(ra);
            }
            Place::MapKey(m, k) => {
                let rm = self.expr(m);
                let rk = self.expr(k);
                let t = self.temp(ty);
                self.line = line;
                self.emit(Instr::MapGet { dst: t, map: rm, key: rk });
                self.binary_into(bin, t, e, t, line);
                self.emit(Instr::MapSet { map: rm, key: rk, src: t });
                self.release(t);
                self.release(rk);
                self.release(rm);
            }
            Place::Field(o, f) => {
                let ro = self.expr(o);
                let t = self.temp(ty);
                self.line = line;
                self.emit(Instr::GetField {
                    dst: t,
                    obj: ro,
                    field: *f,
                });
                self.binary_into(bin, t, e, t, line);
                self.emit(Instr::SetField {
                    obj: ro,
                    field: *f,
                    src: t,
                });
                self.release(t);
                self.release(ro);
            }
        }
    }

    /// `dst := a <bin> e`, where `a` is already in a register.
    fn binary_into(&mut self, bin: Bin, a: Reg, e: &hir::Expr, dst: Reg, line: u32) {
        if let Some(imm) = self.imm_operand(bin, e) {
            self.line = line;
            self.emit(Instr::AddIImm { dst, a, imm });
            return;
        }
        let b = self.expr(e);
        self.line = line;
        self.emit(bin_instr(bin, dst, a, b));
        self.release(b);
    }

    /// `x + c` / `x - c` with a small constant use `AddIImm`.
    fn imm_operand(&self, bin: Bin, e: &hir::Expr) -> Option<i32> {
        let ExprKind::Int(v) = e.kind else { return None };
        match bin {
            Bin::AddI => i32::try_from(v).ok(),
            Bin::SubI => v.checked_neg().and_then(|n| i32::try_from(n).ok()),
            _ => None,
        }
    }

    // ------------------------------------------------------------ expressions

    /// The instruction loading constant `e` into `dst` (`None` if `e` is not a constant).
    fn constant(&mut self, e: &hir::Expr, dst: Reg) -> Option<Instr> {
        Some(match &e.kind {
            ExprKind::Int(v) => match i32::try_from(*v) {
                Ok(imm) => Instr::LoadI { dst, imm },
                Err(_) => Instr::LoadK {
                    dst,
                    k: self.m.constant(Const::Int(*v)),
                },
            },
            ExprKind::Float(f) => Instr::LoadK {
                dst,
                k: self.m.constant(Const::Float(*f)),
            },
            ExprKind::Str(s) => Instr::LoadK {
                dst,
                k: self.m.constant(Const::Str(s.clone())),
            },
            ExprKind::Bool(b) => Instr::LoadBool { dst, v: *b as u16 },
            ExprKind::Nil => Instr::LoadNil { dst },
            _ => return None,
        })
    }

    /// Inside a loop, a constant operand lives in a register loaded once at
    /// function entry (the preamble) instead of being reloaded every iteration.
    fn hoisted(&mut self, e: &hir::Expr) -> Option<Reg> {
        let bits = match &e.kind {
            ExprKind::Int(v) => *v as u64,
            ExprKind::Float(f) => f.to_bits(),
            ExprKind::Str(s) => self.m.constant(Const::Str(s.clone())) as u64,
            ExprKind::Nil => 0,
            _ => return None,
        };
        let key = (std::mem::discriminant(&e.kind), bits, e.ty);
        if let Some(&r) = self.hoisted.get(&key) {
            return Some(r);
        }
        let r = self.new_reg(e.ty, false);
        let ins = self.constant(e, r)?;
        self.preamble.push((ins, e.line));
        self.hoisted.insert(key, r);
        Some(r)
    }

    /// Evaluates `e` into some register: a variable's own register, a
    /// hoisted constant, or a temporary the caller must `release`.
    fn expr(&mut self, e: &hir::Expr) -> Reg {
        if self.loop_depth > 0 {
            if let Some(r) = self.hoisted(e) {
                return r;
            }
        }
        if let ExprKind::Var(v) = e.kind {
            if !self.boxed(v) {
                return self.var_reg[&v];
            }
        }
        if e.ty == VOID {
            // A call returning nothing: no destination register is needed.
            self.expr_into(e, Reg::MAX);
            return Reg::MAX;
        }
        let d = self.temp(e.ty);
        self.expr_into(e, d);
        d
    }

    /// Evaluates `e` into `dst`. Sub-expressions never write `dst` before
    /// the last instruction, so `x = f(x) + x` reads the old `x` throughout.
    fn expr_into(&mut self, e: &hir::Expr, dst: Reg) {
        // Nesting is bounded by the checker; the native stack grows as needed.
        stacker::maybe_grow(crate::check::RED_ZONE, crate::check::STACK_SEGMENT, || self.expr_into_at(e, dst))
    }

    fn expr_into_at(&mut self, e: &hir::Expr, dst: Reg) {
        let line = e.line;
        self.line = line;
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) | ExprKind::Nil => {
                if let Some(ins) = self.constant(e, dst) {
                    self.emit(ins);
                }
            }
            ExprKind::Var(v) => {
                let r = self.var_reg[v];
                if self.boxed(*v) {
                    self.emit(Instr::CellGet { dst, cell: r });
                } else if r != dst {
                    self.emit(Instr::Move { dst, src: r });
                }
            }
            ExprKind::Global(g) => {
                self.emit(Instr::GetGlobal { dst, g: *g });
            }
            ExprKind::Func(f) => {
                self.emit(Instr::LoadFunc { dst, func: *f });
            }
            ExprKind::Unary(op, x) => {
                let r = self.expr(x);
                self.line = line;
                self.emit(match op {
                    Un::NegI => Instr::NegI { dst, a: r },
                    Un::NegF => Instr::NegF { dst, a: r },
                    Un::Not => Instr::Not { dst, a: r },
                    Un::BitNot => Instr::BitNot { dst, a: r },
                });
                self.release(r);
            }
            ExprKind::Binary(op, a, b) => {
                let ra = self.expr(a);
                self.binary_into(*op, ra, b, dst, line);
                self.release(ra);
            }
            ExprKind::And(..) | ExprKind::Or(..) => {
                // Built in a temporary: `dst` may be a variable the right side reads.
                let t = self.temp(BOOL);
                let falls = self.cond_jump(e, false);
                self.line = line;
                self.emit(Instr::LoadBool { dst: t, v: 1 });
                let to_end = self.emit(Instr::Jmp { target: 0 });
                let f = self.here();
                self.patch(&falls, f);
                self.emit(Instr::LoadBool { dst: t, v: 0 });
                let end = self.here();
                self.patch(&[to_end], end);
                self.emit(Instr::Move { dst, src: t });
                self.release(t);
            }
            ExprKind::Call(f, args) => {
                let ps = self.m.sigs[*f as usize].0.clone();
                self.windowed(ps, args, line, |base| Instr::Call { dst, func: *f, args: base });
            }
            ExprKind::CallMethod(f, args) => {
                let ps = self.m.sigs[*f as usize].0.clone();
                self.windowed(ps, args, line, |base| Instr::CallMethod { dst, func: *f, args: base });
            }
            ExprKind::CallIface(slot, args) => {
                let mut ps = self.m.iface_slots[*slot as usize].0.clone();
                ps.insert(0, args[0].ty);
                self.windowed(ps, args, line, |base| Instr::CallIface {
                    dst,
                    slot: *slot,
                    args: base,
                });
            }
            ExprKind::CallClosure(f, args) => {
                let clo = self.expr(f);
                let ps = match self.m.types.get(f.ty) {
                    Type::Func(ps, _) => ps.clone(),
                    _ => args.iter().map(|a| a.ty).collect(),
                };
                self.windowed(ps, args, line, |base| Instr::CallClosure { dst, clo, args: base });
                self.release(clo);
            }
            ExprKind::CallNative(call, args) => {
                let (native, ps) = self.m.native(call);
                self.windowed(ps, args, line, |base| Instr::CallNative { dst, native, args: base });
            }
            ExprKind::New(c, args) => {
                let ps = args.iter().map(|a| a.ty).collect();
                self.windowed(ps, args, line, |base| Instr::New {
                    dst,
                    class: *c,
                    args: base,
                });
            }
            ExprKind::Field(o, f) => {
                let r = self.expr(o);
                self.line = line;
                self.emit(Instr::GetField { dst, obj: r, field: *f });
                self.release(r);
            }
            ExprKind::Index(a, i) => {
                let ra = self.expr(a);
                let ri = self.expr(i);
                self.line = line;
                self.array_get(dst, ra, ri);
                self.release(ri);
                self.release(ra);
            }
            ExprKind::MapGet(m, k) => {
                let rm = self.expr(m);
                let rk = self.expr(k);
                self.line = line;
                self.emit(Instr::MapGet { dst, map: rm, key: rk });
                self.release(rk);
                self.release(rm);
            }
            ExprKind::Array(items) if items.len() > ARRAY_WINDOW => {
                // A long literal: an empty array, then one push per element,
                // so it needs one register rather than one per element.
                let ty = e.ty;
                self.line = line;
                let a = self.temp(ty);
                self.emit(Instr::NewArray { dst: a, ty, args: 0, n: 0 });
                for item in items {
                    let x = self.expr(item);
                    self.line = line;
                    self.emit(Instr::Push { arr: a, src: x });
                    self.release(x);
                }
                self.emit(Instr::Move { dst, src: a });
                self.release(a);
            }
            ExprKind::Array(items) => {
                let el = self.m.types.elem(e.ty).unwrap_or(types::ERROR);
                let ps = vec![el; items.len()];
                let (ty, n) = (e.ty, items.len() as u16);
                self.windowed(ps, items, line, |base| Instr::NewArray { dst, ty, args: base, n });
            }
            ExprKind::Map(items) => {
                let t = self.temp(e.ty);
                self.emit(Instr::NewMap { dst: t, ty: e.ty });
                for (k, v) in items {
                    let rk = self.expr(k);
                    let rv = self.expr(v);
                    self.line = line;
                    self.emit(Instr::MapSet { map: t, key: rk, src: rv });
                    self.release(rv);
                    self.release(rk);
                }
                self.emit(Instr::Move { dst, src: t });
                self.release(t);
            }
            ExprKind::Lambda(f, outer) => {
                let tys: Vec<TypeId> = outer.iter().map(|&v| self.var_ty(v)).collect();
                let base = self.window(&tys);
                for (i, &v) in outer.iter().enumerate() {
                    // A boxed variable passes its cell; any other its current value.
                    let r = self.var_reg[&v];
                    self.emit(Instr::Move {
                        dst: base + i as Reg,
                        src: r,
                    });
                }
                self.line = line;
                self.emit(Instr::MakeClosure {
                    dst,
                    func: *f,
                    caps: base,
                    n: outer.len() as u16,
                });
                self.release_window(tys, base);
            }
            ExprKind::Op(op, args) => self.op(*op, args, dst, e.ty, line),
        }
    }

    /// Evaluates `args` into a window of consecutive registers of types
    /// `tys`, emits the instruction `make` builds for the window's base (a
    /// call, a constructor...), then frees the window for reuse.
    fn windowed(&mut self, tys: Vec<TypeId>, args: &[hir::Expr], line: u32, make: impl FnOnce(Reg) -> Instr) {
        let base = self.window(&tys);
        for (i, a) in args.iter().enumerate() {
            self.expr_into(a, base + i as Reg);
        }
        self.line = line;
        self.emit(make(base));
        self.release_window(tys, base);
    }

    fn op(&mut self, op: Op, args: &[hir::Expr], dst: Reg, ty: TypeId, line: u32) {
        let regs: Vec<Reg> = args.iter().map(|a| self.expr(a)).collect();
        self.line = line;
        let r = |i: usize| regs[i];
        self.emit(match op {
            Op::ArrayLen => Instr::ArrayLen { dst, arr: r(0) },
            Op::StrLen => Instr::StrLen { dst, s: r(0) },
            Op::MapLen => Instr::MapLen { dst, map: r(0) },
            Op::Push => Instr::Push { arr: r(0), src: r(1) },
            Op::Pop => Instr::Pop { dst, arr: r(0) },
            Op::Sort => Instr::Sort { arr: r(0) },
            Op::Has => Instr::MapHas { dst, map: r(0), key: r(1) },
            Op::Remove => Instr::MapRemove { map: r(0), key: r(1) },
            Op::Keys => Instr::MapKeys { dst, map: r(0), ty },
            Op::Fill => Instr::ArrayFill { dst, ty, n: r(0), x: r(1) },
            Op::IntToFloat => Instr::IntToFloat { dst, a: r(0) },
            Op::FloatToInt => Instr::FloatToInt { dst, a: r(0) },
            Op::AbsI => Instr::AbsI { dst, a: r(0) },
            Op::AbsF => Instr::AbsF { dst, a: r(0) },
            Op::MinI => Instr::MinI { dst, a: r(0), b: r(1) },
            Op::MaxI => Instr::MaxI { dst, a: r(0), b: r(1) },
            Op::MinF => Instr::MinF { dst, a: r(0), b: r(1) },
            Op::MaxF => Instr::MaxF { dst, a: r(0), b: r(1) },
            Op::Sqrt => Instr::SqrtF { dst, a: r(0) },
            Op::ToStr => Instr::ToStr {
                dst,
                src: r(0),
                ty: args[0].ty,
            },
        });
        for x in regs.into_iter().rev() {
            self.release(x);
        }
    }

    /// Emits jumps taken when `e` evaluates to `when`; returns them for patching.
    fn cond_jump(&mut self, e: &hir::Expr, when: bool) -> Vec<usize> {
        self.line = e.line;
        match &e.kind {
            ExprKind::Bool(b) => {
                if *b == when {
                    vec![self.emit(Instr::Jmp { target: 0 })]
                } else {
                    vec![]
                }
            }
            ExprKind::Unary(Un::Not, x) => self.cond_jump(x, !when),
            ExprKind::And(a, b) => {
                if when {
                    let skip = self.cond_jump(a, false);
                    let j = self.cond_jump(b, true);
                    let h = self.here();
                    self.patch(&skip, h);
                    j
                } else {
                    let mut j = self.cond_jump(a, false);
                    j.extend(self.cond_jump(b, false));
                    j
                }
            }
            ExprKind::Or(a, b) => {
                if when {
                    let mut j = self.cond_jump(a, true);
                    j.extend(self.cond_jump(b, true));
                    j
                } else {
                    let skip = self.cond_jump(a, true);
                    let j = self.cond_jump(b, false);
                    let h = self.here();
                    self.patch(&skip, h);
                    j
                }
            }
            ExprKind::Binary(op, a, b) if fused(*op) => {
                let ra = self.expr(a);
                let rb = self.expr(b);
                self.line = e.line;
                use Bin::*;
                let ins = match (op, when) {
                    (LtI, true) => Instr::JLtI { a: ra, b: rb, target: 0 },
                    (LeI, true) => Instr::JLeI { a: ra, b: rb, target: 0 },
                    (GtI, true) => Instr::JLtI { a: rb, b: ra, target: 0 },
                    (GeI, true) => Instr::JLeI { a: rb, b: ra, target: 0 },
                    (EqI, true) => Instr::JEqI { a: ra, b: rb, target: 0 },
                    (NeI, true) => Instr::JNeI { a: ra, b: rb, target: 0 },
                    (LtI, false) => Instr::JLeI { a: rb, b: ra, target: 0 },
                    (LeI, false) => Instr::JLtI { a: rb, b: ra, target: 0 },
                    (GtI, false) => Instr::JLeI { a: ra, b: rb, target: 0 },
                    (GeI, false) => Instr::JLtI { a: ra, b: rb, target: 0 },
                    (EqI, false) => Instr::JNeI { a: ra, b: rb, target: 0 },
                    (NeI, false) => Instr::JEqI { a: ra, b: rb, target: 0 },
                    (LtF, true) => Instr::JLtF { a: ra, b: rb, target: 0 },
                    (LeF, true) => Instr::JLeF { a: ra, b: rb, target: 0 },
                    (GtF, true) => Instr::JLtF { a: rb, b: ra, target: 0 },
                    (GeF, true) => Instr::JLeF { a: rb, b: ra, target: 0 },
                    (LtF, false) => Instr::JNLtF { a: ra, b: rb, target: 0 },
                    (LeF, false) => Instr::JNLeF { a: ra, b: rb, target: 0 },
                    (GtF, false) => Instr::JNLtF { a: rb, b: ra, target: 0 },
                    _ => Instr::JNLeF { a: rb, b: ra, target: 0 },
                };
                let j = self.emit(ins);
                self.release(rb);
                self.release(ra);
                vec![j]
            }
            _ => {
                let r = self.expr(e);
                self.line = e.line;
                let j = if when {
                    self.emit(Instr::JmpIf { cond: r, target: 0 })
                } else {
                    self.emit(Instr::JmpIfNot { cond: r, target: 0 })
                };
                self.release(r);
                vec![j]
            }
        }
    }
}

fn fused(op: Bin) -> bool {
    use Bin::*;
    matches!(op, LtI | LeI | GtI | GeI | EqI | NeI | LtF | LeF | GtF | GeF)
}

fn bin_instr(op: Bin, dst: Reg, a: Reg, b: Reg) -> Instr {
    use Bin::*;
    match op {
        AddI => Instr::AddI { dst, a, b },
        SubI => Instr::SubI { dst, a, b },
        MulI => Instr::MulI { dst, a, b },
        DivI => Instr::DivI { dst, a, b },
        ModI => Instr::ModI { dst, a, b },
        BitAnd => Instr::BitAnd { dst, a, b },
        BitOr => Instr::BitOr { dst, a, b },
        BitXor => Instr::BitXor { dst, a, b },
        Shl => Instr::Shl { dst, a, b },
        Shr => Instr::Shr { dst, a, b },
        EqI => Instr::EqI { dst, a, b },
        NeI => Instr::NeI { dst, a, b },
        LtI => Instr::LtI { dst, a, b },
        LeI => Instr::LeI { dst, a, b },
        GtI => Instr::LtI { dst, a: b, b: a },
        GeI => Instr::LeI { dst, a: b, b: a },
        AddF => Instr::AddF { dst, a, b },
        SubF => Instr::SubF { dst, a, b },
        MulF => Instr::MulF { dst, a, b },
        DivF => Instr::DivF { dst, a, b },
        ModF => Instr::ModF { dst, a, b },
        EqF => Instr::EqF { dst, a, b },
        NeF => Instr::NeF { dst, a, b },
        LtF => Instr::LtF { dst, a, b },
        LeF => Instr::LeF { dst, a, b },
        GtF => Instr::LtF { dst, a: b, b: a },
        GeF => Instr::LeF { dst, a: b, b: a },
        EqB => Instr::EqB { dst, a, b },
        NeB => Instr::NeB { dst, a, b },
        EqRef => Instr::EqRef { dst, a, b },
        NeRef => Instr::NeRef { dst, a, b },
        Concat => Instr::Concat { dst, a, b },
        EqS => Instr::EqS { dst, a, b },
        NeS => Instr::NeS { dst, a, b },
        LtS => Instr::LtS { dst, a, b },
        LeS => Instr::LeS { dst, a, b },
        GtS => Instr::LtS { dst, a: b, b: a },
        GeS => Instr::LeS { dst, a: b, b: a },
    }
}
