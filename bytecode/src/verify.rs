//! The bytecode verifier: nothing runs until this says yes.
//!
//! The interpreter reads registers without bounds checks and treats slot
//! bits as whatever the register's type says: an `AddI` adds two raw
//! integers, a `GetField` dereferences a pointer. That is only sound because
//! every module — freshly compiled or read from a `.pvmc` file somebody
//! else wrote — first passes this verifier, which proves for every
//! instruction that:
//!
//! * each register, constant, global, function, class, field, native and
//!   interface-method index is in range, and each jump lands inside the function;
//! * each operand register has the type the instruction needs, and each
//!   result type fits the destination register (a class value may go to an
//!   interface register it implements; `nil` to any reference register);
//! * call windows hold exactly the callee's parameter types, and results fit;
//! * every function ends in an instruction that does not fall through.
//!
//! It also checks the module's tables: types refer only to earlier types,
//! every class really implements the interfaces it claims (so interface
//! dispatch always finds a method), and `main` and the initialisers have
//! the right shape. All errors are collected, as Cranelift's verifier does.

use crate::{Const, FuncKind, Function, Instr, Module, Type, TypeId};

/// Verification failure: every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError(pub Vec<String>);

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid bytecode: {}",
            self.0.first().map(String::as_str).unwrap_or("unknown problem")
        )?;
        if self.0.len() > 1 {
            write!(f, " (and {} more problems)", self.0.len() - 1)?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

struct V<'m> {
    m: &'m Module,
    errors: Vec<String>,
    /// For each interface-method slot: (interface, method index).
    slots: Vec<(usize, usize)>,
    /// For each class, the id of its `Type::Class` entry, if the table has one.
    class_types: Vec<Option<TypeId>>,
    /// Stop after about this many problems.
    limit: usize,
}

/// For each class, the id of its `Type::Class` entry, if the table has
/// one: one pass over the types.
fn class_types(m: &Module) -> Vec<Option<TypeId>> {
    let mut out = vec![None; m.classes.len()];
    for (i, t) in m.types.iter().enumerate() {
        if let Type::Class(c) = t {
            if let Some(slot @ None) = out.get_mut(*c as usize) {
                *slot = TypeId::try_from(i).ok();
            }
        }
    }
    out
}

/// Registers a function may have: what a 16-bit register operand can
/// address. The VM's register windows are sized for this.
pub const MAX_REGISTERS: usize = 1 << 16;

type R = Result<(), String>;

/// Verifies a module. Stops collecting after about a hundred problems: the
/// VM only needs to know that there is one.
pub fn verify(m: &Module) -> Result<(), VerifyError> {
    let errors = collect(m, Some(100));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(VerifyError(errors))
    }
}

/// Every problem the verifier finds, one message each (`function 3 `main`:
/// at 7 (AddI): r2 must be Int`), for `pvm verify`. Empty when the module
/// verifies. Without limit, except one: when the tables (types, classes,
/// interfaces...) are broken, code is not checked against them, so only the
/// tables' problems are listed.
pub fn problems(m: &Module) -> Vec<String> {
    collect(m, None)
}

fn collect(m: &Module, limit: Option<usize>) -> Vec<String> {
    let mut v = V {
        m,
        errors: Vec::new(),
        slots: Vec::new(),
        class_types: class_types(m),
        limit: limit.unwrap_or(usize::MAX),
    };
    v.tables();
    if v.errors.is_empty() {
        for (i, f) in m.functions.iter().enumerate() {
            v.function(i, f);
            if v.errors.len() > v.limit {
                break;
            }
        }
    }
    v.errors
}

impl V<'_> {
    fn ty(&self, t: TypeId) -> Result<&Type, String> {
        self.m.types.get(t as usize).ok_or_else(|| format!("type index {t} out of range"))
    }

    fn is_ref(&self, t: TypeId) -> bool {
        self.ty(t).map(|t| t.is_ref()).unwrap_or(false)
    }

    /// Whether a value of type `from` may be stored in a slot of type `to`.
    fn fits(&self, from: TypeId, to: TypeId) -> bool {
        if from == to {
            return true;
        }
        match (self.ty(from), self.ty(to)) {
            (Ok(Type::Nil), Ok(t)) => t.is_ref(),
            (Ok(Type::Class(c)), Ok(Type::Interface(i))) => {
                self.m.classes.get(*c as usize).map(|k| k.interfaces.contains(i)).unwrap_or(false)
            }
            _ => false,
        }
    }

    fn tables(&mut self) {
        let m = self.m;
        for (i, t) in m.types.iter().enumerate() {
            let earlier = |x: &TypeId| (*x as usize) < i;
            let ok = match t {
                Type::Array(e) | Type::Cell(e) => earlier(e),
                Type::Map(k, v) => earlier(k) && earlier(v) && matches!(m.types[*k as usize], Type::Int | Type::Str | Type::Bool),
                Type::Func(ps, r) => ps.iter().all(earlier) && earlier(r),
                Type::Class(c) => (*c as usize) < m.classes.len(),
                Type::Interface(x) => (*x as usize) < m.interfaces.len(),
                _ => true,
            };
            if !ok {
                self.errors.push(format!("type {i} is malformed"));
            }
        }
        if !self.errors.is_empty() {
            return;
        }
        let value_type = |v: &Self, t: TypeId| v.ty(t).map(|t| !matches!(t, Type::Void | Type::Error)).unwrap_or(false);
        for (i, g) in m.globals.iter().enumerate() {
            if !value_type(self, g.ty) {
                self.errors.push(format!("global {i} has an invalid type"));
            }
        }
        for (i, n) in m.natives.iter().enumerate() {
            if !matches!(self.ty(n.sig), Ok(Type::Func(..))) {
                self.errors.push(format!("native {i} has an invalid signature"));
            }
        }
        for (ii, iface) in m.interfaces.iter().enumerate() {
            if iface.first_slot as usize != self.slots.len() {
                self.errors.push(format!("interface {ii} has inconsistent method slots"));
            }
            for (k, (_, t)) in iface.methods.iter().enumerate() {
                if !matches!(self.ty(*t), Ok(Type::Func(..))) {
                    self.errors.push(format!("interface {ii} method {k} has an invalid type"));
                }
                self.slots.push((ii, k));
            }
        }
        for (ci, c) in m.classes.iter().enumerate() {
            for f in &c.fields {
                if !value_type(self, f.ty) {
                    self.errors.push(format!("class {ci} has a field of invalid type"));
                }
            }
            // Method names and implemented interfaces are unique, so that
            // dispatch tables are proportional to what is declared.
            let mut by_name: std::collections::HashMap<&str, u16> = std::collections::HashMap::with_capacity(c.methods.len());
            for (name, fid) in &c.methods {
                if by_name.insert(name.as_str(), *fid).is_some() {
                    self.errors.push(format!("class {ci} has two methods named `{name}`"));
                }
            }
            let mut seen = std::collections::HashSet::with_capacity(c.interfaces.len());
            if let Some(i) = c.interfaces.iter().find(|i| !seen.insert(**i)) {
                self.errors.push(format!("class {ci} lists interface {i} twice"));
            }
            for (_, fid) in &c.methods {
                match m.functions.get(*fid as usize) {
                    Some(f)
                        if f.kind == FuncKind::Method
                            && f.params >= 1
                            && f.regs
                                .first()
                                .map(|t| matches!(self.ty(*t), Ok(Type::Class(x)) if *x as usize == ci))
                                .unwrap_or(false) => {}
                    _ => self.errors.push(format!("class {ci} lists an invalid method {fid}")),
                }
            }
            for i in &c.interfaces {
                let Some(iface) = m.interfaces.get(*i as usize) else {
                    self.errors.push(format!("class {ci} implements unknown interface {i}"));
                    continue;
                };
                for (name, t) in &iface.methods {
                    let Some(fid) = by_name.get(name.as_str()) else {
                        self.errors
                            .push(format!("class {} lacks method {} of interface {}", c.name, name, iface.name));
                        continue;
                    };
                    let Some(f) = m.functions.get(*fid as usize) else { continue };
                    let Ok(Type::Func(ps, r)) = self.ty(*t) else { continue };
                    let params = f.regs.get(1..f.params as usize).unwrap_or(&[]);
                    if params != ps.as_slice() || f.ret != *r {
                        self.errors
                            .push(format!("method {}.{} does not match interface {}", c.name, name, iface.name));
                    }
                }
            }
        }
        for &i in &m.inits {
            match m.functions.get(i as usize) {
                Some(f) if f.params == 0 && f.captures == 0 && matches!(self.ty(f.ret), Ok(Type::Void)) => {}
                _ => self.errors.push(format!("initialiser {i} is not a function without parameters")),
            }
        }
        if let Some(main) = m.main {
            match m.functions.get(main as usize) {
                Some(f) if f.params == 0 && f.captures == 0 && matches!(self.ty(f.ret), Ok(Type::Void)) => {}
                _ => self.errors.push("`main` is not a function `fn main()`".into()),
            }
        }
    }

    fn function(&mut self, index: usize, f: &Function) {
        let m = self.m;
        let mut errs = Vec::new();
        if f.file as usize >= m.files.len() {
            errs.push("file index out of range".to_string());
        }
        if f.params as usize + f.captures as usize > f.regs.len() {
            errs.push("more parameters and captures than registers".into());
        }
        if f.regs.len() > MAX_REGISTERS {
            errs.push(format!(
                "{} registers, more than the {MAX_REGISTERS} an operand can name",
                f.regs.len()
            ));
        }
        if let Some(r) = f
            .regs
            .iter()
            .position(|t| self.ty(*t).map(|t| matches!(t, Type::Void | Type::Error)).unwrap_or(true))
        {
            errs.push(format!("register r{r} has an invalid type"));
        }
        if self.ty(f.ret).map(|t| matches!(t, Type::Error)).unwrap_or(true) {
            errs.push("invalid return type".into());
        }
        if f.lines.len() != f.code.len() {
            errs.push("line table length differs from code length".into());
        }
        match f.code.last() {
            Some(Instr::Ret { .. } | Instr::RetVoid {} | Instr::Jmp { .. } | Instr::Throw { .. }) => {}
            _ => errs.push("code does not end in a return, jump or throw".into()),
        }
        if errs.is_empty() {
            for (pc, ins) in f.code.iter().enumerate() {
                if let Err(e) = self.instr(f, ins) {
                    errs.push(format!("at {pc} ({}): {e}", ins.name()));
                    if errs.len() >= self.limit {
                        break;
                    }
                }
            }
        }
        for e in errs {
            self.errors.push(format!("function {index} `{}`: {e}", f.name));
        }
    }

    fn instr(&self, f: &Function, ins: &Instr) -> R {
        let m = self.m;
        let reg =
            |r: u16| -> Result<TypeId, String> { f.regs.get(r as usize).copied().ok_or_else(|| format!("register r{r} out of range")) };
        let is = |r: u16, want: &Type| -> R {
            let t = reg(r)?;
            if self.ty(t)? == want {
                Ok(())
            } else {
                Err(format!("r{r} must be {want:?}"))
            }
        };
        // Types in messages, so a student reading them (`pvm verify`) sees
        // what clashed; rendering is bounded for hostile type tables.
        let tn = |t: TypeId| m.type_name(t);
        let write = |r: u16, t: TypeId| -> R {
            let rt = reg(r)?;
            if self.fits(t, rt) {
                Ok(())
            } else {
                Err(format!("result of type {} does not fit r{r} ({})", tn(t), tn(rt)))
            }
        };
        // A value stored from register `src` into a slot (global, field,
        // element...) of type `to`.
        let store = |src: u16, to: TypeId, what: &str| -> R {
            let st = reg(src)?;
            if self.fits(st, to) {
                Ok(())
            } else {
                Err(format!("r{src} ({}) does not fit the {what} ({})", tn(st), tn(to)))
            }
        };
        let target = |l: u32| -> R {
            if (l as usize) < f.code.len() {
                Ok(())
            } else {
                Err(format!("jump target {l} out of range"))
            }
        };
        // The registers from `start` (computed in usize: no wrapping) must
        // hold values of the types `ps`, in order.
        let window = |start: usize, ps: &mut dyn Iterator<Item = TypeId>| -> R {
            for (i, p) in ps.enumerate() {
                let r = start + i;
                let Ok(r) = u16::try_from(r) else {
                    return Err("argument window out of range".into());
                };
                let at = reg(r)?;
                if !self.fits(at, p) {
                    return Err(format!("argument {i} in r{r} ({}) does not fit the parameter ({})", tn(at), tn(p)));
                }
            }
            Ok(())
        };
        let result = |dst: u16, ret: TypeId| -> R {
            if matches!(self.ty(ret)?, Type::Void) {
                Ok(())
            } else {
                write(dst, ret)
            }
        };
        let func =
            |i: u16| -> Result<&Function, String> { m.functions.get(i as usize).ok_or_else(|| format!("function {i} out of range")) };
        // A function's parameter types (a slice of its registers: no copy).
        fn sig(g: &Function) -> &[TypeId] {
            g.regs.get(..g.params as usize).unwrap_or(&[])
        }
        let arr_elem = |r: u16| -> Result<TypeId, String> {
            match self.ty(reg(r)?)? {
                Type::Array(e) => Ok(*e),
                _ => Err(format!("r{r} must be an array")),
            }
        };
        let map_kv = |r: u16| -> Result<(TypeId, TypeId), String> {
            match self.ty(reg(r)?)? {
                Type::Map(k, v) => Ok((*k, *v)),
                _ => Err(format!("r{r} must be a map")),
            }
        };
        let class_of = |r: u16| -> Result<usize, String> {
            match self.ty(reg(r)?)? {
                Type::Class(c) => Ok(*c as usize),
                _ => Err(format!("r{r} must be an object")),
            }
        };
        let same3 = |d: u16, a: u16, b: u16, t: &Type, out: &Type| -> R {
            is(a, t)?;
            is(b, t)?;
            is(d, out)
        };
        use Instr::*;
        match *ins {
            Nop {} => Ok(()),
            Move { dst, src } => write(dst, reg(src)?),
            LoadI { dst, .. } => is(dst, &Type::Int),
            LoadK { dst, k } => match m.consts.get(k as usize) {
                Some(Const::Int(_)) => is(dst, &Type::Int),
                Some(Const::Float(_)) => is(dst, &Type::Float),
                Some(Const::Str(_)) => is(dst, &Type::Str),
                None => Err(format!("constant {k} out of range")),
            },
            LoadBool { dst, v } => {
                if v > 1 {
                    return Err("boolean immediate must be 0 or 1".into());
                }
                is(dst, &Type::Bool)
            }
            LoadNil { dst } => {
                if self.is_ref(reg(dst)?) {
                    Ok(())
                } else {
                    Err("nil needs a reference register".into())
                }
            }
            LoadFunc { dst, func: fi } => {
                let g = func(fi)?;
                if g.kind != FuncKind::Function || g.captures != 0 {
                    return Err("LoadFunc needs a top-level function".into());
                }
                match self.ty(reg(dst)?)? {
                    Type::Func(ps, r) if ps.as_slice() == sig(g) && *r == g.ret => Ok(()),
                    _ => Err("function type does not match the register".into()),
                }
            }
            GetGlobal { dst, g } => write(dst, m.globals.get(g as usize).ok_or("global out of range")?.ty),
            SetGlobal { g, src } => {
                let gt = m.globals.get(g as usize).ok_or("global out of range")?.ty;
                store(src, gt, "global")
            }
            AddI { dst, a, b }
            | SubI { dst, a, b }
            | MulI { dst, a, b }
            | DivI { dst, a, b }
            | ModI { dst, a, b }
            | BitAnd { dst, a, b }
            | BitOr { dst, a, b }
            | BitXor { dst, a, b }
            | Shl { dst, a, b }
            | Shr { dst, a, b }
            | MinI { dst, a, b }
            | MaxI { dst, a, b } => same3(dst, a, b, &Type::Int, &Type::Int),
            AddIImm { dst, a, .. } | NegI { dst, a } | BitNot { dst, a } | AbsI { dst, a } => {
                is(a, &Type::Int)?;
                is(dst, &Type::Int)
            }
            EqI { dst, a, b } | NeI { dst, a, b } | LtI { dst, a, b } | LeI { dst, a, b } => same3(dst, a, b, &Type::Int, &Type::Bool),
            AddF { dst, a, b }
            | SubF { dst, a, b }
            | MulF { dst, a, b }
            | DivF { dst, a, b }
            | ModF { dst, a, b }
            | MinF { dst, a, b }
            | MaxF { dst, a, b } => same3(dst, a, b, &Type::Float, &Type::Float),
            NegF { dst, a } | AbsF { dst, a } | SqrtF { dst, a } => {
                is(a, &Type::Float)?;
                is(dst, &Type::Float)
            }
            EqF { dst, a, b } | NeF { dst, a, b } | LtF { dst, a, b } | LeF { dst, a, b } => same3(dst, a, b, &Type::Float, &Type::Bool),
            Not { dst, a } => {
                is(a, &Type::Bool)?;
                is(dst, &Type::Bool)
            }
            EqB { dst, a, b } | NeB { dst, a, b } => same3(dst, a, b, &Type::Bool, &Type::Bool),
            EqRef { dst, a, b } | NeRef { dst, a, b } => {
                if !self.is_ref(reg(a)?) || !self.is_ref(reg(b)?) {
                    return Err("identity comparison needs references".into());
                }
                is(dst, &Type::Bool)
            }
            Concat { dst, a, b } => same3(dst, a, b, &Type::Str, &Type::Str),
            EqS { dst, a, b } | NeS { dst, a, b } | LtS { dst, a, b } | LeS { dst, a, b } => same3(dst, a, b, &Type::Str, &Type::Bool),
            IntToFloat { dst, a } => {
                is(a, &Type::Int)?;
                is(dst, &Type::Float)
            }
            FloatToInt { dst, a } => {
                is(a, &Type::Float)?;
                is(dst, &Type::Int)
            }
            ToStr { dst, src, ty } => {
                if reg(src)? != ty {
                    return Err("ToStr type does not match the register".into());
                }
                is(dst, &Type::Str)
            }
            Jmp { target: t } => target(t),
            JmpIf { cond, target: t } | JmpIfNot { cond, target: t } => {
                is(cond, &Type::Bool)?;
                target(t)
            }
            JLtI { a, b, target: t }
            | JLeI { a, b, target: t }
            | JEqI { a, b, target: t }
            | JNeI { a, b, target: t }
            | ForLoop { ctr: a, end: b, target: t } => {
                is(a, &Type::Int)?;
                is(b, &Type::Int)?;
                target(t)
            }
            JLtF { a, b, target: t } | JLeF { a, b, target: t } | JNLtF { a, b, target: t } | JNLeF { a, b, target: t } => {
                is(a, &Type::Float)?;
                is(b, &Type::Float)?;
                target(t)
            }
            Call { dst, func: fi, args } | CallMethod { dst, func: fi, args } => {
                let g = func(fi)?;
                let want = if matches!(ins, Call { .. }) {
                    FuncKind::Function
                } else {
                    FuncKind::Method
                };
                if g.kind != want || g.captures != 0 {
                    return Err("call target has the wrong kind".into());
                }
                // A method's receiver is its first parameter: the interpreter
                // reads R[args] to check it for nil.
                if want == FuncKind::Method && g.params == 0 {
                    return Err("a method takes its receiver as first parameter".into());
                }
                window(args as usize, &mut sig(g).iter().copied())?;
                result(dst, g.ret)
            }
            CallIface { dst, slot, args } => {
                let &(ii, k) = self.slots.get(slot as usize).ok_or("method slot out of range")?;
                match self.ty(reg(args)?)? {
                    Type::Interface(x) if *x as usize == ii => {}
                    _ => return Err("receiver is not of the method's interface".into()),
                }
                let Type::Func(ps, r) = self.ty(m.interfaces[ii].methods[k].1)? else {
                    return Err("bad method type".into());
                };
                window(args as usize + 1, &mut ps.iter().copied())?;
                result(dst, *r)
            }
            CallClosure { dst, clo, args } => {
                let Type::Func(ps, r) = self.ty(reg(clo)?)? else {
                    return Err(format!("r{clo} must be a function"));
                };
                window(args as usize, &mut ps.iter().copied())?;
                result(dst, *r)
            }
            CallNative { dst, native, args } => {
                let n = m.natives.get(native as usize).ok_or("native out of range")?;
                let Type::Func(ps, r) = self.ty(n.sig)? else {
                    return Err("bad native signature".into());
                };
                window(args as usize, &mut ps.iter().copied())?;
                result(dst, *r)
            }
            Ret { src } => {
                if matches!(self.ty(f.ret)?, Type::Void) || !self.fits(reg(src)?, f.ret) {
                    return Err(format!(
                        "returned r{src} ({}) does not fit the return type ({})",
                        tn(reg(src)?),
                        tn(f.ret)
                    ));
                }
                Ok(())
            }
            RetVoid {} => {
                if matches!(self.ty(f.ret)?, Type::Void) {
                    Ok(())
                } else {
                    Err("RetVoid in a function that returns a value".into())
                }
            }
            Throw { src } => is(src, &Type::Str),
            TryBegin { handler, reg: r } => {
                is(r, &Type::Str)?;
                target(handler)
            }
            TryEnd { count } => {
                if count == 0 {
                    Err("TryEnd of zero handlers".into())
                } else {
                    Ok(())
                }
            }
            New { dst, class, args } => {
                let c = m.classes.get(class as usize).ok_or("class out of range")?;
                window(args as usize, &mut c.fields.iter().map(|f| f.ty))?;
                let ct = self.class_types[class as usize].ok_or("class has no type")?;
                write(dst, ct)
            }
            GetField { dst, obj, field } => {
                let c = class_of(obj)?;
                let ft = m.classes[c].fields.get(field as usize).ok_or("field out of range")?.ty;
                write(dst, ft)
            }
            SetField { obj, field, src } => {
                let c = class_of(obj)?;
                let ft = m.classes[c].fields.get(field as usize).ok_or("field out of range")?.ty;
                store(src, ft, "field")
            }
            NewArray { dst, ty, args, n } => {
                let Type::Array(el) = self.ty(ty)? else {
                    return Err("NewArray needs an array type".into());
                };
                window(args as usize, &mut std::iter::repeat_n(*el, n as usize))?;
                write(dst, ty)
            }
            ArrayFill { dst, ty, n, x } => {
                let Type::Array(el) = self.ty(ty)? else {
                    return Err("ArrayFill needs an array type".into());
                };
                is(n, &Type::Int)?;
                if !self.fits(reg(x)?, *el) {
                    return Err(format!(
                        "fill value r{x} ({}) does not fit the element type ({})",
                        tn(reg(x)?),
                        tn(*el)
                    ));
                }
                write(dst, ty)
            }
            ArrayGet { dst, arr, idx } | ArrayGetB { dst, arr, idx } => {
                let el = arr_elem(arr)?;
                if (*self.ty(el)? == Type::Bool) != matches!(ins, ArrayGetB { .. }) {
                    return Err("ArrayGetB is for [bool] and ArrayGet for every other array".into());
                }
                is(idx, &Type::Int)?;
                write(dst, el)
            }
            ArraySet { arr, idx, src } | ArraySetB { arr, idx, src } => {
                let el = arr_elem(arr)?;
                if (*self.ty(el)? == Type::Bool) != matches!(ins, ArraySetB { .. }) {
                    return Err("ArraySetB is for [bool] and ArraySet for every other array".into());
                }
                is(idx, &Type::Int)?;
                store(src, el, "element type")
            }
            Push { arr, src } => {
                let el = arr_elem(arr)?;
                store(src, el, "element type")
            }
            ArrayLen { dst, arr } => {
                arr_elem(arr)?;
                is(dst, &Type::Int)
            }
            StrLen { dst, s } => {
                is(s, &Type::Str)?;
                is(dst, &Type::Int)
            }
            MapLen { dst, map } => {
                map_kv(map)?;
                is(dst, &Type::Int)
            }
            Pop { dst, arr } => {
                let el = arr_elem(arr)?;
                write(dst, el)
            }
            Sort { arr } => match self.ty(arr_elem(arr)?)? {
                Type::Int | Type::Float | Type::Str => Ok(()),
                _ => Err("sort needs [int], [float] or [str]".into()),
            },
            NewMap { dst, ty } => {
                if !matches!(self.ty(ty)?, Type::Map(..)) {
                    return Err("NewMap needs a map type".into());
                }
                write(dst, ty)
            }
            MapGet { dst, map, key } => {
                let (k, v) = map_kv(map)?;
                if reg(key)? != k {
                    return Err("key type does not match the map".into());
                }
                write(dst, v)
            }
            MapSet { map, key, src } => {
                let (k, v) = map_kv(map)?;
                if reg(key)? != k || !self.fits(reg(src)?, v) {
                    return Err("key or value type does not match the map".into());
                }
                Ok(())
            }
            MapHas { dst, map, key } => {
                let (k, _) = map_kv(map)?;
                if reg(key)? != k {
                    return Err("key type does not match the map".into());
                }
                is(dst, &Type::Bool)
            }
            MapRemove { map, key } => {
                let (k, _) = map_kv(map)?;
                if reg(key)? != k {
                    return Err("key type does not match the map".into());
                }
                Ok(())
            }
            MapKeys { dst, map, ty } => {
                let (k, _) = map_kv(map)?;
                match self.ty(ty)? {
                    Type::Array(e) if *e == k => write(dst, ty),
                    _ => Err("keys type must be an array of the key type".into()),
                }
            }
            NewCell { dst, src } => match self.ty(reg(dst)?)? {
                Type::Cell(t) if self.fits(reg(src)?, *t) => Ok(()),
                _ => Err("NewCell types do not match".into()),
            },
            CellGet { dst, cell } => match self.ty(reg(cell)?)? {
                Type::Cell(t) => write(dst, *t),
                _ => Err(format!("r{cell} must be a cell")),
            },
            CellSet { cell, src } => match self.ty(reg(cell)?)? {
                Type::Cell(t) if self.fits(reg(src)?, *t) => Ok(()),
                _ => Err("CellSet types do not match".into()),
            },
            MakeClosure { dst, func: fi, caps, n } => {
                let g = func(fi)?;
                if g.kind != FuncKind::Lambda || g.captures != n {
                    return Err("closure target must be a lambda with that many captures".into());
                }
                let capt = g
                    .regs
                    .get(g.params as usize..g.params as usize + n as usize)
                    .ok_or("closure target has too few registers")?;
                for (i, t) in capt.iter().enumerate() {
                    if reg(caps.checked_add(i as u16).ok_or("capture window out of range")?)? != *t {
                        return Err(format!("capture {i} has the wrong type"));
                    }
                }
                match self.ty(reg(dst)?)? {
                    Type::Func(ps, r) if ps.as_slice() == sig(g) && *r == g.ret => Ok(()),
                    _ => Err("closure type does not match the register".into()),
                }
            }
        }
    }
}
