//! Checking expressions.

use super::{Checker, Decl};
use crate::ast::{self, BinOp, ExprKind, Span, UnOp};
use crate::bytecode::{FuncKind, Type, TypeId};
use crate::hir::{self, Bin, Un};
use crate::types::{BOOL, ERROR, FLOAT, INT, NIL, STR, VOID};

/// What `a[i]` refers to: (array, index, element type) or (map, key, value type).
pub(crate) enum Indexed {
    Array(hir::Expr, hir::Expr, TypeId),
    Map(hir::Expr, hir::Expr, TypeId),
}

fn mk(ty: TypeId, line: u32, kind: hir::ExprKind) -> hir::Expr {
    hir::Expr { ty, line, kind }
}

/// `nil`, `[]` and `{}` need a type from their context.
fn context_dependent(e: &ast::Expr<'_>) -> bool {
    match &e.kind {
        ExprKind::Nil => true,
        ExprKind::Array(items) => items.is_empty(),
        ExprKind::Map(items) => items.is_empty(),
        ExprKind::Paren(e) => context_dependent(e),
        _ => false,
    }
}

impl<'a> Checker<'a, '_> {
    pub(crate) fn error_expr(&self, line: u32) -> hir::Expr {
        mk(ERROR, line, hir::ExprKind::Nil)
    }

    /// Checks `e`, against `expect` when the context gives a type. Nesting
    /// deeper than [`super::MAX_NESTING`] is an error; below it, the native
    /// stack grows as needed.
    pub(crate) fn check_expr(&mut self, e: &'a ast::Expr<'a>, expect: Option<TypeId>) -> hir::Expr {
        if !self.enter_nesting(e.span) {
            return self.error_expr(self.line(e.span));
        }
        let r = stacker::maybe_grow(super::RED_ZONE, super::STACK_SEGMENT, || self.check_expr_at(e, expect));
        self.depth -= 1;
        r
    }

    fn check_expr_at(&mut self, e: &'a ast::Expr<'a>, expect: Option<TypeId>) -> hir::Expr {
        let line = self.line(e.span);
        match &e.kind {
            ExprKind::Int(v) => {
                if *v > i64::MAX as u64 {
                    self.err(e.span, "integer literal does not fit in a 64-bit signed integer");
                    return self.error_expr(line);
                }
                mk(INT, line, hir::ExprKind::Int(*v as i64))
            }
            ExprKind::Float(v) => mk(FLOAT, line, hir::ExprKind::Float(*v)),
            ExprKind::Str(s) => mk(STR, line, hir::ExprKind::Str(s.to_string())),
            ExprKind::Bool(b) => mk(BOOL, line, hir::ExprKind::Bool(*b)),
            ExprKind::Nil => match expect {
                Some(t) if self.types.is_ref(t) => mk(t, line, hir::ExprKind::Nil),
                _ => mk(NIL, line, hir::ExprKind::Nil),
            },
            ExprKind::Paren(inner) => self.check_expr(inner, expect),
            ExprKind::Name(n) => self.check_name(n, e.span, line),
            ExprKind::SelfRef => match self.lookup_local("self") {
                Some(v) => mk(self.vars[v as usize].ty, line, hir::ExprKind::Var(v)),
                None => {
                    self.err(e.span, "`self` can only be used inside a method");
                    self.error_expr(line)
                }
            },
            ExprKind::Array(items) => self.check_array(items, expect, e.span, line),
            ExprKind::Map(items) => self.check_map(items, expect, e.span, line),
            ExprKind::Unary(op, inner) => self.check_unary(*op, inner, e.span, line),
            ExprKind::Binary(op, a, b) => self.check_binary(*op, a, b, e.span, line),
            ExprKind::Call(callee, args) => self.check_call(callee, args, expect, e.span, line),
            ExprKind::Index(a, i) => match self.check_indexing(a, i, e.span, false) {
                Some(Indexed::Array(arr, idx, el)) => mk(el, line, hir::ExprKind::Index(Box::new(arr), Box::new(idx))),
                Some(Indexed::Map(map, key, v)) => mk(v, line, hir::ExprKind::MapGet(Box::new(map), Box::new(key))),
                None => self.error_expr(line),
            },
            ExprKind::Field(obj, name) => {
                let o = self.check_expr(obj, None);
                match self.field_of(o.ty, *name, false) {
                    Some((i, t)) => mk(t, line, hir::ExprKind::Field(Box::new(o), i)),
                    None => self.error_expr(line),
                }
            }
            ExprKind::Lambda(decl) => self.check_lambda(decl, line),
        }
    }

    /// Checks `a[i]`, read (`target` false) or assigned. `None` after an
    /// error, which has been reported.
    pub(crate) fn check_indexing(&mut self, a: &'a ast::Expr<'a>, i: &'a ast::Expr<'a>, span: Span, target: bool) -> Option<Indexed> {
        let base = self.check_expr(a, None);
        match self.types.get(base.ty).clone() {
            Type::Array(el) => {
                let idx = self.check_expr(i, Some(INT));
                let idx = self.coerce(idx, INT, i.span);
                Some(Indexed::Array(base, idx, el))
            }
            Type::Map(k, v) => {
                let key = self.check_expr(i, Some(k));
                let key = self.coerce(key, k, i.span);
                Some(Indexed::Map(base, key, v))
            }
            t => {
                match t {
                    Type::Error => {}
                    Type::Str if target => self.err(span, "strings are immutable; build a new one instead"),
                    _ => {
                        let msg = format!("cannot index a value of type `{}`", self.tn(base.ty));
                        self.err(a.span, msg);
                    }
                }
                self.check_expr(i, None);
                None
            }
        }
    }

    /// The index and type of field `name` of a value of type `ty`, read or
    /// assigned (`target`). `None` after an error, which has been reported.
    pub(crate) fn field_of(&mut self, ty: TypeId, name: ast::Ident<'_>, target: bool) -> Option<(u16, TypeId)> {
        let msg = match self.types.get(ty) {
            Type::Class(c) => {
                let info = &self.classes[*c as usize];
                if let Some(i) = info.fields.iter().position(|f| f.0 == name.name) {
                    return Some((i as u16, info.fields[i].1));
                }
                if !info.methods.iter().any(|m| m.0 == name.name) {
                    format!("class `{}` has no field `{}`", info.name, name.name)
                } else if target {
                    format!("cannot assign to method `{}`", name.name)
                } else {
                    format!(
                        "method `{}` of `{}` is not a value; call it, or wrap it in a lambda",
                        name.name, info.name
                    )
                }
            }
            Type::Interface(i) => format!(
                "interface `{}` has no fields; `{}` can only be called",
                self.ifaces[*i as usize].name, name.name
            ),
            Type::Error => return None,
            _ => format!("a value of type `{}` has no field `{}`", self.tn(ty), name.name),
        };
        self.err(name.span, msg);
        None
    }

    fn check_name(&mut self, n: &'a str, span: Span, line: u32) -> hir::Expr {
        if let Some(v) = self.lookup_local(n) {
            return mk(self.vars[v as usize].ty, line, hir::ExprKind::Var(v));
        }
        match self.names.get(n).map(|d| d.0) {
            Some(Decl::Global(g)) => {
                let ty = self.global_use(g, n, span);
                mk(ty, line, hir::ExprKind::Global(g))
            }
            Some(Decl::Func(f)) => {
                let s = &self.sigs[f as usize];
                let t = self.types.func(s.params.clone(), s.ret);
                mk(t, line, hir::ExprKind::Func(f))
            }
            Some(Decl::Class(_)) => {
                self.err(span, format!("class `{n}` is not a value; call `{n}(...)` to create an instance"));
                self.error_expr(line)
            }
            Some(Decl::Iface(_)) => {
                self.err(span, format!("interface `{n}` is not a value"));
                self.error_expr(line)
            }
            None if self.is_builtin(n) => {
                self.err(span, format!("built-in function `{n}` is not a value; wrap it in a lambda"));
                self.error_expr(line)
            }
            None => {
                self.err(span, format!("undefined name `{n}`"));
                self.error_expr(line)
            }
        }
    }

    /// The type of a global at a use, enforcing initialisation order.
    pub(crate) fn global_use(&mut self, g: u32, n: &str, span: Span) -> TypeId {
        let info = &self.globals[g as usize];
        if let Some(cur) = self.init_global {
            let in_lambda = self.fcx.len() > 1;
            if info.order > cur && !in_lambda {
                let msg = format!("global `{n}` is declared after the global being initialised, so it cannot be used here");
                self.err(span, msg);
                return ERROR;
            }
            if info.order == cur && !in_lambda {
                self.err(span, format!("global `{n}` is used in its own initialiser"));
                return ERROR;
            }
        }
        match info.ty {
            Some(t) => t,
            None => {
                self.err(
                    span,
                    format!("the type of global `{n}` is not known here; give it a type annotation"),
                );
                ERROR
            }
        }
    }

    fn check_array(&mut self, items: &'a [&'a ast::Expr<'a>], expect: Option<TypeId>, span: Span, line: u32) -> hir::Expr {
        let elem = match expect.map(|t| self.types.get(t).clone()) {
            Some(Type::Array(el)) => Some(el),
            _ => None,
        };
        let elem = match elem {
            Some(el) => el,
            None => match items.iter().position(|e| !context_dependent(e)) {
                Some(first) => {
                    // Infer from the first element that has a type of its own.
                    let e0 = self.check_expr(items[first], None);
                    if e0.ty == VOID {
                        self.err(items[first].span, "this expression returns nothing and cannot be an element");
                    }
                    let el = e0.ty;
                    let mut out = Vec::with_capacity(items.len());
                    let mut e0 = Some(e0);
                    for (i, it) in items.iter().enumerate() {
                        if i == first {
                            out.push(e0.take().unwrap_or_else(|| self.error_expr(line)));
                        } else {
                            let x = self.check_expr(it, Some(el));
                            out.push(self.coerce(x, el, it.span));
                        }
                    }
                    let t = self.types.array(el);
                    return mk(t, line, hir::ExprKind::Array(out));
                }
                None => {
                    self.err(span, "cannot infer the element type of this array literal; add a type annotation");
                    for it in items {
                        self.check_expr(it, None);
                    }
                    return self.error_expr(line);
                }
            },
        };
        let out = items
            .iter()
            .map(|it| {
                let x = self.check_expr(it, Some(elem));
                self.coerce(x, elem, it.span)
            })
            .collect();
        let t = self.types.array(elem);
        mk(t, line, hir::ExprKind::Array(out))
    }

    fn check_map(
        &mut self,
        items: &'a [(&'a ast::Expr<'a>, &'a ast::Expr<'a>)],
        expect: Option<TypeId>,
        span: Span,
        line: u32,
    ) -> hir::Expr {
        // Pre-checked key and value (index, expression) used for inference.
        let mut pre_k: Option<(usize, hir::Expr)> = None;
        let mut pre_v: Option<(usize, hir::Expr)> = None;
        let (kt, vt) = match expect.map(|t| self.types.get(t).clone()) {
            Some(Type::Map(k, v)) => (k, v),
            _ => {
                let kpos = items.iter().position(|e| !context_dependent(e.0));
                let vpos = items.iter().position(|e| !context_dependent(e.1));
                let (Some(kp), Some(vp)) = (kpos, vpos) else {
                    let what = if items.is_empty() {
                        "an empty map literal"
                    } else {
                        "this map literal"
                    };
                    self.err(span, format!("cannot infer the type of {what}; add a type annotation"));
                    for (k, v) in items {
                        self.check_expr(k, None);
                        self.check_expr(v, None);
                    }
                    return self.error_expr(line);
                };
                let k = self.check_expr(items[kp].0, None);
                let v = self.check_expr(items[vp].1, None);
                let (kt, vt) = (k.ty, v.ty);
                pre_k = Some((kp, k));
                pre_v = Some((vp, v));
                (kt, vt)
            }
        };
        if !matches!(kt, INT | STR | BOOL | ERROR) {
            let msg = format!("map keys must be `int`, `str` or `bool`, not `{}`", self.tn(kt));
            self.err(span, msg);
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, (k, v)) in items.iter().enumerate() {
            let ke = match pre_k.take_if(|p| p.0 == i) {
                Some((_, e)) => e,
                None => self.check_expr(k, Some(kt)),
            };
            let ke = self.coerce(ke, kt, k.span);
            let ve = match pre_v.take_if(|p| p.0 == i) {
                Some((_, e)) => e,
                None => self.check_expr(v, Some(vt)),
            };
            let ve = self.coerce(ve, vt, v.span);
            out.push((ke, ve));
        }
        let t = self.types.map(kt, vt);
        mk(t, line, hir::ExprKind::Map(out))
    }

    fn check_unary(&mut self, op: UnOp, inner: &'a ast::Expr<'a>, span: Span, line: u32) -> hir::Expr {
        if op == UnOp::Neg {
            if let ExprKind::Int(v) = inner.kind {
                // `-9223372036854775808` is the minimum int, written directly.
                if v <= 1u64 << 63 {
                    return mk(INT, line, hir::ExprKind::Int((v as i64).wrapping_neg()));
                }
            }
        }
        let x = self.check_expr(inner, None);
        let (un, ty) = match (op, x.ty) {
            (_, ERROR) => return self.error_expr(line),
            (UnOp::Neg, INT) => (Un::NegI, INT),
            (UnOp::Neg, FLOAT) => (Un::NegF, FLOAT),
            (UnOp::Not, BOOL) => (Un::Not, BOOL),
            (UnOp::BitNot, INT) => (Un::BitNot, INT),
            _ => {
                let sym = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "!",
                    UnOp::BitNot => "~",
                };
                let msg = format!("operator `{sym}` cannot be applied to `{}`", self.tn(x.ty));
                self.err(span, msg);
                return self.error_expr(line);
            }
        };
        mk(ty, line, hir::ExprKind::Unary(un, Box::new(x)))
    }

    fn check_binary(&mut self, op: BinOp, a: &'a ast::Expr<'a>, b: &'a ast::Expr<'a>, span: Span, line: u32) -> hir::Expr {
        if matches!(op, BinOp::And | BinOp::Or) {
            let l = self.check_expr(a, Some(BOOL));
            let r = self.check_expr(b, Some(BOOL));
            for (x, s) in [(&l, a.span), (&r, b.span)] {
                if x.ty != BOOL && x.ty != ERROR {
                    let msg = format!("operator `{}` needs `bool` operands, found `{}`", op.symbol(), self.tn(x.ty));
                    self.err(s, msg);
                }
            }
            let kind = if op == BinOp::And {
                hir::ExprKind::And(Box::new(l), Box::new(r))
            } else {
                hir::ExprKind::Or(Box::new(l), Box::new(r))
            };
            return mk(BOOL, line, kind);
        }
        let is_eq = matches!(op, BinOp::Eq | BinOp::Ne);
        // For `==`, a context-dependent side takes the other side's type.
        let (l, r) = if is_eq && context_dependent(a) && !context_dependent(b) {
            let r = self.check_expr(b, None);
            let l = self.check_expr(a, Some(r.ty));
            (l, r)
        } else {
            let l = self.check_expr(a, None);
            let want = if is_eq && l.ty != NIL { Some(l.ty) } else { None };
            let r = self.check_expr(b, want);
            (l, r)
        };
        if l.ty == ERROR || r.ty == ERROR {
            return self.error_expr(line);
        }
        let bad = |c: &mut Self, l: &hir::Expr, r: &hir::Expr| {
            let msg = format!(
                "operator `{}` cannot be applied to `{}` and `{}`",
                op.symbol(),
                c.tn(l.ty),
                c.tn(r.ty)
            );
            c.err(span, msg);
            c.error_expr(line)
        };
        let same = l.ty == r.ty;
        let (bin, ty) = match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem if same && (l.ty == INT || l.ty == FLOAT) => {
                let int = l.ty == INT;
                let b = match op {
                    BinOp::Add => {
                        if int {
                            Bin::AddI
                        } else {
                            Bin::AddF
                        }
                    }
                    BinOp::Sub => {
                        if int {
                            Bin::SubI
                        } else {
                            Bin::SubF
                        }
                    }
                    BinOp::Mul => {
                        if int {
                            Bin::MulI
                        } else {
                            Bin::MulF
                        }
                    }
                    BinOp::Div => {
                        if int {
                            Bin::DivI
                        } else {
                            Bin::DivF
                        }
                    }
                    _ => {
                        if int {
                            Bin::ModI
                        } else {
                            Bin::ModF
                        }
                    }
                };
                (b, l.ty)
            }
            BinOp::Add if same && l.ty == STR => (Bin::Concat, STR),
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr if same && l.ty == INT => {
                let b = match op {
                    BinOp::BitAnd => Bin::BitAnd,
                    BinOp::BitOr => Bin::BitOr,
                    BinOp::BitXor => Bin::BitXor,
                    BinOp::Shl => Bin::Shl,
                    _ => Bin::Shr,
                };
                (b, INT)
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge if same && matches!(l.ty, INT | FLOAT | STR) => {
                let b = match (l.ty, op) {
                    (INT, BinOp::Lt) => Bin::LtI,
                    (INT, BinOp::Le) => Bin::LeI,
                    (INT, BinOp::Gt) => Bin::GtI,
                    (INT, _) => Bin::GeI,
                    (FLOAT, BinOp::Lt) => Bin::LtF,
                    (FLOAT, BinOp::Le) => Bin::LeF,
                    (FLOAT, BinOp::Gt) => Bin::GtF,
                    (FLOAT, _) => Bin::GeF,
                    (_, BinOp::Lt) => Bin::LtS,
                    (_, BinOp::Le) => Bin::LeS,
                    (_, BinOp::Gt) => Bin::GtS,
                    _ => Bin::GeS,
                };
                (b, BOOL)
            }
            BinOp::Eq | BinOp::Ne => {
                let eq = op == BinOp::Eq;
                let comparable = self.assignable(l.ty, r.ty) || self.assignable(r.ty, l.ty);
                if !comparable || l.ty == VOID || r.ty == VOID {
                    return bad(self, &l, &r);
                }
                // The operand type that decides the comparison (nil takes the other's).
                let t = if l.ty == NIL { r.ty } else { l.ty };
                let b = match t {
                    INT => {
                        if eq {
                            Bin::EqI
                        } else {
                            Bin::NeI
                        }
                    }
                    FLOAT => {
                        if eq {
                            Bin::EqF
                        } else {
                            Bin::NeF
                        }
                    }
                    BOOL => {
                        if eq {
                            Bin::EqB
                        } else {
                            Bin::NeB
                        }
                    }
                    STR => {
                        if eq {
                            Bin::EqS
                        } else {
                            Bin::NeS
                        }
                    }
                    _ => {
                        if eq {
                            Bin::EqRef
                        } else {
                            Bin::NeRef
                        }
                    }
                };
                // Both sides must be held in registers of one type for the VM.
                let (l, r) = if l.ty == NIL && r.ty == NIL {
                    (l, r)
                } else if l.ty == NIL {
                    let lt = r.ty;
                    (hir::Expr { ty: lt, ..l }, r)
                } else if r.ty == NIL {
                    let rt = l.ty;
                    (l, hir::Expr { ty: rt, ..r })
                } else {
                    (l, r)
                };
                return mk(BOOL, line, hir::ExprKind::Binary(b, Box::new(l), Box::new(r)));
            }
            _ => return bad(self, &l, &r),
        };
        mk(ty, line, hir::ExprKind::Binary(bin, Box::new(l), Box::new(r)))
    }

    /// Checks call arguments against parameter types.
    pub(crate) fn check_args(&mut self, what: &str, params: &[TypeId], args: &'a [&'a ast::Expr<'a>], span: Span) -> Vec<hir::Expr> {
        if params.len() != args.len() {
            let s = if params.len() == 1 { "" } else { "s" };
            self.err(
                span,
                format!("{what} takes {} argument{s}, but {} were given", params.len(), args.len()),
            );
        }
        args.iter()
            .enumerate()
            .map(|(i, a)| match params.get(i) {
                Some(&p) => {
                    let x = self.check_expr(a, Some(p));
                    self.coerce(x, p, a.span)
                }
                None => self.check_expr(a, None),
            })
            .collect()
    }

    fn check_call(
        &mut self,
        callee: &'a ast::Expr<'a>,
        args: &'a [&'a ast::Expr<'a>],
        expect: Option<TypeId>,
        span: Span,
        line: u32,
    ) -> hir::Expr {
        // f(...): a local closure, a top-level function, a constructor or a built-in.
        if let ExprKind::Name(n) = callee.kind {
            if self.lookup_local(n).is_none() {
                match self.names.get(n).map(|d| d.0) {
                    Some(Decl::Func(f)) => {
                        let sig = self.sigs[f as usize].clone();
                        let a = self.check_args(&format!("`{n}`"), &sig.params, args, span);
                        return mk(sig.ret, line, hir::ExprKind::Call(f, a));
                    }
                    Some(Decl::Class(c)) => {
                        let fields: Vec<TypeId> = self.classes[c as usize].fields.iter().map(|f| f.1).collect();
                        let a = self.check_args(&format!("the constructor of `{n}`"), &fields, args, span);
                        let t = self.types.intern(Type::Class(c));
                        return mk(t, line, hir::ExprKind::New(c, a));
                    }
                    Some(Decl::Iface(_)) => {
                        self.err(callee.span, format!("cannot create an instance of interface `{n}`"));
                        for a in args {
                            self.check_expr(a, None);
                        }
                        return self.error_expr(line);
                    }
                    Some(Decl::Global(_)) => {}
                    None => {
                        if let Some(e) = self.check_builtin(n, args, expect, span, line) {
                            return e;
                        }
                        self.err(callee.span, format!("undefined function `{n}`"));
                        for a in args {
                            self.check_expr(a, None);
                        }
                        return self.error_expr(line);
                    }
                }
            }
        }
        // o.m(...): a method (static or through an interface) or a function-typed field.
        if let ExprKind::Field(obj, name) = callee.kind {
            let o = self.check_expr(obj, None);
            match self.types.get(o.ty).clone() {
                Type::Class(c) => {
                    if let Some(&(_, fid)) = self.classes[c as usize].methods.iter().find(|m| m.0 == name.name) {
                        let sig = self.sigs[fid as usize].clone();
                        let what = format!("method `{}`", sig.name);
                        let mut a = vec![o];
                        a.extend(self.check_args(&what, &sig.params[1..], args, span));
                        return mk(sig.ret, line, hir::ExprKind::CallMethod(fid, a));
                    }
                    if let Some(i) = self.classes[c as usize].fields.iter().position(|f| f.0 == name.name) {
                        let ft = self.classes[c as usize].fields[i].1;
                        let field = mk(ft, line, hir::ExprKind::Field(Box::new(o), i as u16));
                        return self.call_value(field, args, callee.span, span, line);
                    }
                    let msg = format!("class `{}` has no method `{}`", self.classes[c as usize].name, name.name);
                    self.err(name.span, msg);
                }
                Type::Interface(i) => {
                    let info = self.ifaces[i as usize].clone();
                    if let Some(k) = info.methods.iter().position(|m| m.0 == name.name) {
                        let (_, ps, ret) = &info.methods[k];
                        let what = format!("method `{}.{}`", info.name, name.name);
                        let mut a = vec![o];
                        a.extend(self.check_args(&what, ps, args, span));
                        return mk(*ret, line, hir::ExprKind::CallIface(info.first_slot + k as u16, a));
                    }
                    self.err(name.span, format!("interface `{}` has no method `{}`", info.name, name.name));
                }
                Type::Error => {}
                _ => {
                    let msg = format!("a value of type `{}` has no method `{}`", self.tn(o.ty), name.name);
                    self.err(name.span, msg);
                }
            }
            for a in args {
                self.check_expr(a, None);
            }
            return self.error_expr(line);
        }
        let f = self.check_expr(callee, None);
        self.call_value(f, args, callee.span, span, line)
    }

    fn call_value(&mut self, f: hir::Expr, args: &'a [&'a ast::Expr<'a>], callee_span: Span, span: Span, line: u32) -> hir::Expr {
        match self.types.get(f.ty).clone() {
            Type::Func(ps, r) => {
                let a = self.check_args("this function", &ps, args, span);
                mk(r, line, hir::ExprKind::CallClosure(Box::new(f), a))
            }
            Type::Error => {
                for a in args {
                    self.check_expr(a, None);
                }
                self.error_expr(line)
            }
            _ => {
                let msg = format!("a value of type `{}` cannot be called", self.tn(f.ty));
                self.err(callee_span, msg);
                for a in args {
                    self.check_expr(a, None);
                }
                self.error_expr(line)
            }
        }
    }

    fn check_lambda(&mut self, decl: &'a ast::FnDecl<'a>, line: u32) -> hir::Expr {
        let file = self.cur_file();
        if decl.has_self {
            self.err(decl.name.span, "a lambda cannot take `self`");
        }
        let params: Vec<(ast::Ident<'a>, TypeId)> = decl.params.iter().map(|p| (p.name, self.resolve_type(file, p.ty))).collect();
        let ret = decl.ret.map(|r| self.resolve_type(file, r)).unwrap_or(VOID);
        self.within_limit(self.sigs.len(), "functions (methods and lambdas count)", file, decl.name.span);
        let fid = self.new_func_slot("<lambda>", file, FuncKind::Lambda);
        let ptys: Vec<TypeId> = params.iter().map(|p| p.1).collect();
        self.sigs[fid as usize].params = ptys.clone();
        self.sigs[fid as usize].ret = ret;
        let f = self.check_function("<lambda>", FuncKind::Lambda, file, &params, ret, decl);
        let outer: Vec<hir::VarId> = f.captures.iter().map(|c| c.0).collect();
        self.funcs[fid as usize] = Some(f);
        let t = self.types.func(ptys, ret);
        mk(t, line, hir::ExprKind::Lambda(fid, outer))
    }
}
