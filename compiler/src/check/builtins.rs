//! Typing the built-in functions of LANGUAGE.md.
//!
//! Built-ins are generic (`len` takes a string, an array or a map), so each
//! call is resolved here, from its argument types, to one specific
//! operation: a dedicated instruction ([`hir::Op`]) for the hot ones and the
//! generic container operations, or a native function with a concrete
//! signature (see [`NATIVES`]) for the rest. Natives are what a host program
//! could also provide; the VM registers these through the same interface.

use super::Checker;
use crate::ast::{self, Span};
use crate::bytecode::{Type, TypeId};
use crate::hir::{self, Op};
use crate::types::{BOOL, ERROR, FLOAT, INT, NIL, STR, VOID};

/// Every name LANGUAGE.md defines as a built-in function.
pub const BUILTINS: &[&str] = &[
    "print",
    "println",
    "str",
    "fixed",
    "int",
    "float",
    "len",
    "push",
    "pop",
    "array",
    "sort",
    "has",
    "remove",
    "keys",
    "substr",
    "find",
    "split",
    "join",
    "trim",
    "replace",
    "ord",
    "chr",
    "abs",
    "min",
    "max",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "atan2",
    "exp",
    "log",
    "pow",
    "floor",
    "ceil",
    "read_line",
    "read_file",
    "write_file",
    "args",
    "clock",
    "exit",
    "assert",
];

pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

/// A parameter or result type of a native function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NT {
    Void,
    Int,
    Float,
    Str,
    StrArray,
}

/// The natives the compiler may call: (name, parameters, result).
pub const NATIVES: &[(&str, &[NT], NT)] = &[
    ("print", &[NT::Str], NT::Void),
    ("println", &[NT::Str], NT::Void),
    ("fixed", &[NT::Float, NT::Int], NT::Str),
    ("int_of_str", &[NT::Str], NT::Int),
    ("float_of_str", &[NT::Str], NT::Float),
    ("substr", &[NT::Str, NT::Int, NT::Int], NT::Str),
    ("find", &[NT::Str, NT::Str], NT::Int),
    ("split", &[NT::Str, NT::Str], NT::StrArray),
    ("join", &[NT::StrArray, NT::Str], NT::Str),
    ("trim", &[NT::Str], NT::Str),
    ("replace", &[NT::Str, NT::Str, NT::Str], NT::Str),
    ("ord", &[NT::Str], NT::Int),
    ("chr", &[NT::Int], NT::Str),
    ("sin", &[NT::Float], NT::Float),
    ("cos", &[NT::Float], NT::Float),
    ("tan", &[NT::Float], NT::Float),
    ("atan2", &[NT::Float, NT::Float], NT::Float),
    ("exp", &[NT::Float], NT::Float),
    ("log", &[NT::Float], NT::Float),
    ("pow", &[NT::Float, NT::Float], NT::Float),
    ("floor", &[NT::Float], NT::Float),
    ("ceil", &[NT::Float], NT::Float),
    ("read_line", &[], NT::Str),
    ("read_file", &[NT::Str], NT::Str),
    ("write_file", &[NT::Str, NT::Str], NT::Void),
    ("args", &[], NT::StrArray),
    ("clock", &[], NT::Float),
    ("exit", &[NT::Int], NT::Void),
];

impl<'a> Checker<'a, '_> {
    pub(crate) fn nt(&mut self, t: NT) -> TypeId {
        match t {
            NT::Void => VOID,
            NT::Int => INT,
            NT::Float => FLOAT,
            NT::Str => STR,
            NT::StrArray => self.types.array(STR),
        }
    }

    /// Resolves a call of a built-in; `None` if `name` is not one.
    pub(crate) fn check_builtin(
        &mut self,
        name: &str,
        args: &'a [&'a ast::Expr<'a>],
        expect: Option<TypeId>,
        span: Span,
        line: u32,
    ) -> Option<hir::Expr> {
        let mk = |ty, kind| Some(hir::Expr { ty, line, kind });
        // Natives with a fixed signature (same name as the built-in).
        if let Some(&(nname, ps, r)) = NATIVES.iter().find(|n| n.0 == name && !matches!(name, "print" | "println")) {
            let ps: Vec<TypeId> = ps.iter().map(|p| self.nt(*p)).collect();
            let r = self.nt(r);
            let a = self.check_args(&format!("`{name}`"), &ps, args, span);
            return mk(r, hir::ExprKind::CallNative(nname, a));
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
                    return mk(VOID, hir::ExprKind::CallNative("println", vec![empty]));
                }
                if !arity(self, 1) {
                    return Some(self.error_expr(line));
                }
                let x = self.check_expr(args[0], None);
                let x = self.stringify(x, args[0].span, line);
                mk(
                    VOID,
                    hir::ExprKind::CallNative(if name == "print" { "print" } else { "println" }, vec![x]),
                )
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
                    (true, STR) => mk(INT, hir::ExprKind::CallNative("int_of_str", vec![x])),
                    (false, STR) => mk(FLOAT, hir::ExprKind::CallNative("float_of_str", vec![x])),
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
