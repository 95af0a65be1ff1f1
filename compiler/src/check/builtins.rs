//! Typing the built-in functions and the host's functions.
//!
//! The built-ins are declared once, in the standard library's prelude
//! ([`pvm_stdlib::prelude`]). There are two kinds:
//!
//! * **natives** have one signature (`substr(s: str, i: int, j: int) -> str`)
//!   or a generic one (`sort_by<T>(a: [T], less: fn(T, T) -> bool)`); a call
//!   becomes a `CallNative` of that signature, instantiated for generics.
//!   A host program's functions are natives too, declared through
//!   [`crate::Options::host`], and typed exactly the same way;
//! * **intrinsics** accept several types (`len` takes a string, an array or
//!   a map), so each call is resolved here, from its argument types, to one
//!   specific operation: a dedicated instruction ([`hir::Op`]) or an
//!   internal native.

use super::Checker;
use crate::ast::{self, Span};
use crate::bytecode::{Type, TypeId};
use crate::hir::{self, Op};
use crate::types::{BOOL, ERROR, FLOAT, INT, NIL, STR, VOID};
use pvm_stdlib::{NativeSig, Ty};

impl<'a> Checker<'a, '_> {
    /// Whether `name` is a built-in or host function a program may call
    /// (and so may not use as a value or assign to).
    pub(crate) fn is_builtin(&self, name: &str) -> bool {
        pvm_stdlib::prelude().is_builtin(name) || self.host.iter().any(|n| n.name == name)
    }

    /// The signature of the native function `name` a program may call: a
    /// visible built-in of the prelude or a host function.
    fn callable_native(&self, name: &str) -> Option<NativeSig> {
        match pvm_stdlib::prelude().native(name) {
            Some(n) if !n.internal => Some(n.clone()),
            _ => self.host.iter().find(|n| n.name == name).cloned(),
        }
    }

    /// The type table's id for a signature type, with generic parameters
    /// replaced by what they are bound to (`None` while one is unbound).
    fn ty_id(&mut self, t: &Ty, bound: &[Option<TypeId>]) -> Option<TypeId> {
        Some(match t {
            Ty::Void => VOID,
            Ty::Int => INT,
            Ty::Float => FLOAT,
            Ty::Bool => BOOL,
            Ty::Str => STR,
            Ty::Array(e) => {
                let e = self.ty_id(e, bound)?;
                self.types.array(e)
            }
            Ty::Map(k, v) => {
                let k = self.ty_id(k, bound)?;
                let v = self.ty_id(v, bound)?;
                self.types.map(k, v)
            }
            Ty::Func(ps, r) => {
                let ps = ps.iter().map(|p| self.ty_id(p, bound)).collect::<Option<Vec<_>>>()?;
                let r = self.ty_id(r, bound)?;
                self.types.func(ps, r)
            }
            Ty::Var(n) => bound.get(*n as usize).copied().flatten()?,
        })
    }

    /// A call of a native with signature `sig`: arguments are checked left
    /// to right; a parameter whose type is known (all its generic parameters
    /// bound) gives its argument an expected type, as for any call, and an
    /// argument for a parameter that mentions an unbound generic binds it.
    fn check_native_call(&mut self, sig: &NativeSig, args: &'a [&'a ast::Expr<'a>], span: Span, line: u32) -> hir::Expr {
        let what = format!("`{}`", sig.name);
        if sig.params.len() != args.len() {
            let n = sig.params.len();
            let s = if n == 1 { "" } else { "s" };
            self.err(span, format!("{what} takes {n} argument{s}, but {} were given", args.len()));
            for a in args {
                self.check_expr(a, None);
            }
            return self.error_expr(line);
        }
        let mut bound: Vec<Option<TypeId>> = vec![None; sig.generics as usize];
        let mut out = Vec::with_capacity(args.len());
        let mut ok = true;
        for ((_, pt), a) in sig.params.iter().zip(args) {
            if let Some(p) = self.ty_id(pt, &bound) {
                let x = self.check_expr(a, Some(p));
                let x = self.coerce(x, p, a.span);
                ok &= x.ty != ERROR;
                out.push(x);
                continue;
            }
            let x = self.check_expr(a, None);
            if x.ty == ERROR {
                ok = false;
            } else if !pt.matches(&self.types.types, x.ty, &mut bound) {
                let want = pt.to_string_with(&sig.generic_names);
                let msg = format!("{what} expects `{want}` here, found `{}`", self.tn(x.ty));
                self.err(a.span, msg);
                ok = false;
            }
            out.push(x);
        }
        let ps: Option<Vec<TypeId>> = sig.param_types().map(|t| self.ty_id(t, &bound)).collect();
        let ret = self.ty_id(&sig.ret, &bound);
        match (ps, ret) {
            (Some(ps), Some(ret)) if ok => {
                let sig_ty = self.types.func(ps, ret);
                mk_native(ret, line, &sig.name, sig_ty, out)
            }
            _ => self.error_expr(line),
        }
    }

    /// A call of an internal native of the prelude, whose arguments are
    /// already checked and of its parameter types.
    fn internal_call(&mut self, name: &str, args: Vec<hir::Expr>, line: u32) -> hir::Expr {
        let sig = pvm_stdlib::prelude()
            .native(name)
            .unwrap_or_else(|| panic!("the prelude declares `{name}`"));
        let ps: Vec<TypeId> = sig
            .param_types()
            .map(|t| self.ty_id(t, &[]).expect("internal natives are not generic"))
            .collect();
        let ret = self.ty_id(&sig.ret, &[]).expect("internal natives are not generic");
        let sig_ty = self.types.func(ps, ret);
        mk_native(ret, line, name, sig_ty, args)
    }

    /// Resolves a call of a built-in or host function; `None` if `name` is neither.
    pub(crate) fn check_builtin(
        &mut self,
        name: &str,
        args: &'a [&'a ast::Expr<'a>],
        expect: Option<TypeId>,
        span: Span,
        line: u32,
    ) -> Option<hir::Expr> {
        let mk = |ty, kind| Some(hir::Expr { ty, line, kind });
        if let Some(sig) = self.callable_native(name) {
            return Some(self.check_native_call(&sig, args, span, line));
        }
        if !pvm_stdlib::prelude().intrinsics.iter().any(|i| i == name) {
            return None;
        }
        let arity = |c: &mut Self, n: usize| -> bool {
            if args.len() != n {
                let s = if n == 1 { "" } else { "s" };
                c.err(span, format!("`{name}` takes {n} argument{s}, but {} were given", args.len()));
                for a in args {
                    c.check_expr(a, None);
                }
                false
            } else {
                true
            }
        };
        let bad_arg = |c: &mut Self, a: &hir::Expr, s: Span, want: &str| {
            if a.ty != ERROR {
                let msg = format!("`{name}` expects {want}, found `{}`", c.tn(a.ty));
                c.err(s, msg);
            }
            Some(c.error_expr(line))
        };
        match name {
            "print" | "println" => {
                if name == "println" && args.is_empty() {
                    let empty = hir::Expr {
                        ty: STR,
                        line,
                        kind: hir::ExprKind::Str(String::new()),
                    };
                    return Some(self.internal_call("println_str", vec![empty], line));
                }
                if !arity(self, 1) {
                    return Some(self.error_expr(line));
                }
                let x = self.check_expr(args[0], None);
                let x = self.stringify(x, args[0].span, line);
                let native = if name == "print" { "print_str" } else { "println_str" };
                Some(self.internal_call(native, vec![x], line))
            }
            "str" => {
                if !arity(self, 1) {
                    return Some(self.error_expr(line));
                }
                let x = self.check_expr(args[0], None);
                Some(self.stringify(x, args[0].span, line))
            }
            "int" | "float" => {
                if !arity(self, 1) {
                    return Some(self.error_expr(line));
                }
                let x = self.check_expr(args[0], None);
                let to_int = name == "int";
                match (to_int, x.ty) {
                    (true, INT) | (false, FLOAT) => Some(x),
                    (true, FLOAT) => mk(INT, hir::ExprKind::Op(Op::FloatToInt, vec![x])),
                    (false, INT) => mk(FLOAT, hir::ExprKind::Op(Op::IntToFloat, vec![x])),
                    (true, STR) => Some(self.internal_call("int_of_str", vec![x], line)),
                    (false, STR) => Some(self.internal_call("float_of_str", vec![x], line)),
                    _ => bad_arg(self, &x, args[0].span, "an `int`, `float` or `str`"),
                }
            }
            "len" => {
                if !arity(self, 1) {
                    return Some(self.error_expr(line));
                }
                let x = self.check_expr(args[0], None);
                let op = match self.types.get(x.ty) {
                    Type::Str => Op::StrLen,
                    Type::Array(_) => Op::ArrayLen,
                    Type::Map(..) => Op::MapLen,
                    _ => return bad_arg(self, &x, args[0].span, "a `str`, an array or a map"),
                };
                mk(INT, hir::ExprKind::Op(op, vec![x]))
            }
            "push" | "pop" | "sort" => {
                let n = if name == "push" { 2 } else { 1 };
                if !arity(self, n) {
                    return Some(self.error_expr(line));
                }
                let a = self.check_expr(args[0], None);
                let Some(el) = self.types.elem(a.ty) else {
                    return bad_arg(self, &a, args[0].span, "an array");
                };
                match name {
                    "push" => {
                        let x = self.check_expr(args[1], Some(el));
                        let x = self.coerce(x, el, args[1].span);
                        mk(VOID, hir::ExprKind::Op(Op::Push, vec![a, x]))
                    }
                    "pop" => mk(el, hir::ExprKind::Op(Op::Pop, vec![a])),
                    _ => {
                        if !matches!(el, INT | FLOAT | STR) {
                            return bad_arg(self, &a, args[0].span, "an `[int]`, `[float]` or `[str]`");
                        }
                        mk(VOID, hir::ExprKind::Op(Op::Sort, vec![a]))
                    }
                }
            }
            "array" => {
                if !arity(self, 2) {
                    return Some(self.error_expr(line));
                }
                let n = self.check_expr(args[0], Some(INT));
                let n = self.coerce(n, INT, args[0].span);
                let want = expect.and_then(|t| self.types.elem(t));
                let x = self.check_expr(args[1], want);
                let el = match want {
                    Some(w) => {
                        let x2 = self.coerce(x, w, args[1].span);
                        let t = self.types.array(w);
                        return mk(t, hir::ExprKind::Op(Op::Fill, vec![n, x2]));
                    }
                    None => x.ty,
                };
                if el == NIL || el == VOID {
                    self.err(
                        args[1].span,
                        "cannot infer the element type of `array(n, x)` from this value; add a type annotation",
                    );
                    return Some(self.error_expr(line));
                }
                let t = self.types.array(el);
                mk(t, hir::ExprKind::Op(Op::Fill, vec![n, x]))
            }
            "has" | "remove" | "keys" => {
                let n = if name == "keys" { 1 } else { 2 };
                if !arity(self, n) {
                    return Some(self.error_expr(line));
                }
                let m = self.check_expr(args[0], None);
                let Type::Map(k, _) = self.types.get(m.ty).clone() else {
                    return bad_arg(self, &m, args[0].span, "a map");
                };
                if name == "keys" {
                    let t = self.types.array(k);
                    return mk(t, hir::ExprKind::Op(Op::Keys, vec![m]));
                }
                let key = self.check_expr(args[1], Some(k));
                let key = self.coerce(key, k, args[1].span);
                if name == "has" {
                    mk(BOOL, hir::ExprKind::Op(Op::Has, vec![m, key]))
                } else {
                    mk(VOID, hir::ExprKind::Op(Op::Remove, vec![m, key]))
                }
            }
            "abs" | "sqrt" => {
                if !arity(self, 1) {
                    return Some(self.error_expr(line));
                }
                let x = self.check_expr(args[0], None);
                match (name, x.ty) {
                    ("abs", INT) => mk(INT, hir::ExprKind::Op(Op::AbsI, vec![x])),
                    ("abs", FLOAT) => mk(FLOAT, hir::ExprKind::Op(Op::AbsF, vec![x])),
                    ("sqrt", FLOAT) => mk(FLOAT, hir::ExprKind::Op(Op::Sqrt, vec![x])),
                    ("abs", _) => bad_arg(self, &x, args[0].span, "an `int` or a `float`"),
                    _ => bad_arg(self, &x, args[0].span, "a `float`"),
                }
            }
            "min" | "max" => {
                if !arity(self, 2) {
                    return Some(self.error_expr(line));
                }
                let a = self.check_expr(args[0], None);
                let b = self.check_expr(args[1], None);
                let op = match (a.ty, b.ty, name) {
                    (INT, INT, "min") => Op::MinI,
                    (INT, INT, _) => Op::MaxI,
                    (FLOAT, FLOAT, "min") => Op::MinF,
                    (FLOAT, FLOAT, _) => Op::MaxF,
                    (ERROR, _, _) | (_, ERROR, _) => return Some(self.error_expr(line)),
                    _ => {
                        let msg = format!(
                            "`{name}` needs two `int`s or two `float`s, found `{}` and `{}`",
                            self.tn(a.ty),
                            self.tn(b.ty)
                        );
                        self.err(span, msg);
                        return Some(self.error_expr(line));
                    }
                };
                let t = a.ty;
                mk(t, hir::ExprKind::Op(op, vec![a, b]))
            }
            "assert" => {
                self.err(span, "`assert` can only be used as a statement");
                Some(self.error_expr(line))
            }
            _ => None,
        }
    }

    /// `str(x)` for any value (the emitter formats by the static type).
    fn stringify(&mut self, x: hir::Expr, span: Span, line: u32) -> hir::Expr {
        if x.ty == VOID {
            self.err(span, "this expression returns nothing and cannot be used as a value");
            return self.error_expr(line);
        }
        if x.ty == ERROR {
            return x;
        }
        if let hir::ExprKind::Str(_) = x.kind {
            return x;
        }
        hir::Expr {
            ty: STR,
            line,
            kind: hir::ExprKind::Op(Op::ToStr, vec![x]),
        }
    }
}

fn mk_native(ty: TypeId, line: u32, name: &str, sig: TypeId, args: Vec<hir::Expr>) -> hir::Expr {
    hir::Expr {
        ty,
        line,
        kind: hir::ExprKind::CallNative(
            hir::NativeCall {
                name: name.to_string(),
                sig,
            },
            args,
        ),
    }
}
