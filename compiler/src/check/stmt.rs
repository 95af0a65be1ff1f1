//! Checking statements, and the "must return on every path" analysis.

use super::expr::Indexed;
use super::{Checker, Decl};
use crate::ast::{self, AssignOp, ExprKind, Stmt};
use crate::bytecode::{Type, TypeId};
use crate::hir::{self, Bin, Place};
use crate::types::{BOOL, ERROR, FLOAT, INT, STR, VOID};

/// Whether a statement list never completes normally (it always returns or
/// throws). Statements after such a statement are allowed, and ignored here.
pub(crate) fn terminates_list(stmts: &[Stmt<'_>]) -> bool {
    stmts.iter().any(terminates)
}

fn terminates(s: &Stmt<'_>) -> bool {
    match s {
        Stmt::Return(..) | Stmt::Throw(..) => true,
        Stmt::Block(b) => terminates_list(b.stmts),
        Stmt::If { then, els: Some(e), .. } => terminates_list(then.stmts) && terminates(e),
        // As in Go: `while true` without a `break` of its own never falls through.
        Stmt::While { cond, body, .. } => matches!(cond.kind, ExprKind::Bool(true)) && !breaks(body.stmts),
        Stmt::Try { body, handler, .. } => terminates_list(body.stmts) && terminates_list(handler.stmts),
        _ => false,
    }
}

/// Whether a loop body contains a `break` that leaves that loop.
fn breaks(stmts: &[Stmt<'_>]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Break(_) => true,
        Stmt::Block(b) => breaks(b.stmts),
        Stmt::If { then, els, .. } => breaks(then.stmts) || els.map(|e| breaks(std::slice::from_ref(e))).unwrap_or(false),
        Stmt::Try { body, handler, .. } => breaks(body.stmts) || breaks(handler.stmts),
        // Breaks inside nested loops leave those loops.
        _ => false,
    })
}

impl<'a> Checker<'a, '_> {
    pub(crate) fn check_block_stmts(&mut self, stmts: &'a [Stmt<'a>]) -> Vec<hir::Stmt> {
        let mut out = Vec::with_capacity(stmts.len());
        for s in stmts {
            if let Some(h) = self.check_stmt(s) {
                out.push(h);
            }
        }
        out
    }

    fn scoped_block(&mut self, b: &'a ast::Block<'a>) -> Vec<hir::Stmt> {
        self.push_scope();
        let v = self.check_block_stmts(b.stmts);
        self.pop_scope();
        v
    }

    fn check_cond(&mut self, e: &'a ast::Expr<'a>) -> hir::Expr {
        let c = self.check_expr(e, Some(BOOL));
        if c.ty != BOOL && c.ty != ERROR {
            let msg = format!("condition must be `bool`, found `{}`", self.tn(c.ty));
            self.err(e.span, msg);
        }
        c
    }

    fn check_stmt(&mut self, s: &'a Stmt<'a>) -> Option<hir::Stmt> {
        if !self.enter_nesting(s.span()) {
            return None;
        }
        let r = stacker::maybe_grow(super::RED_ZONE, super::STACK_SEGMENT, || self.check_stmt_at(s));
        self.depth -= 1;
        r
    }

    fn check_stmt_at(&mut self, s: &'a Stmt<'a>) -> Option<hir::Stmt> {
        Some(match s {
            Stmt::LetError { name, ty, .. } => {
                // Already reported by the parser; declared so its uses say nothing more.
                let file = self.cur_file();
                let t = ty.map(|t| self.resolve_type(file, t)).unwrap_or(ERROR);
                self.declare_var(*name, t)?;
                return None;
            }
            Stmt::Error => return None,
            Stmt::Let { name, ty, init, span } => {
                let file = self.cur_file();
                let ann = ty.map(|t| self.resolve_type(file, t));
                let e = self.check_expr(init, ann);
                let (e, t) = match ann {
                    Some(t) => (self.coerce(e, t, init.span), t),
                    None => {
                        let t = self.infer_let_type(&e, init.span);
                        (hir::Expr { ty: t, ..e }, t)
                    }
                };
                let _ = span;
                let v = self.declare_var(*name, t)?;
                hir::Stmt::Let(v, e)
            }
            Stmt::Assign { target, op, value, span } => {
                let line = self.line(*span);
                let (place, pty) = self.check_place(target)?;
                if *op == AssignOp::Set {
                    let v = self.check_expr(value, Some(pty));
                    let v = self.coerce(v, pty, value.span);
                    hir::Stmt::Assign(place, v, line)
                } else {
                    let v = self.check_expr(value, None);
                    if pty == ERROR || v.ty == ERROR {
                        return None;
                    }
                    let bin = match (op, pty, v.ty) {
                        (AssignOp::Add, INT, INT) => Bin::AddI,
                        (AssignOp::Sub, INT, INT) => Bin::SubI,
                        (AssignOp::Mul, INT, INT) => Bin::MulI,
                        (AssignOp::Div, INT, INT) => Bin::DivI,
                        (AssignOp::Rem, INT, INT) => Bin::ModI,
                        (AssignOp::Add, FLOAT, FLOAT) => Bin::AddF,
                        (AssignOp::Sub, FLOAT, FLOAT) => Bin::SubF,
                        (AssignOp::Mul, FLOAT, FLOAT) => Bin::MulF,
                        (AssignOp::Div, FLOAT, FLOAT) => Bin::DivF,
                        (AssignOp::Rem, FLOAT, FLOAT) => Bin::ModF,
                        (AssignOp::Add, STR, STR) => Bin::Concat,
                        _ => {
                            let sym = match op {
                                AssignOp::Add => "+=",
                                AssignOp::Sub => "-=",
                                AssignOp::Mul => "*=",
                                AssignOp::Div => "/=",
                                _ => "%=",
                            };
                            let msg = format!("operator `{sym}` cannot be applied to `{}` and `{}`", self.tn(pty), self.tn(v.ty));
                            self.err(*span, msg);
                            return None;
                        }
                    };
                    hir::Stmt::Compound(place, bin, v, line)
                }
            }
            Stmt::Expr(e) => {
                let line = self.line(e.span);
                if let ExprKind::Call(callee, args) = e.kind {
                    if let ExprKind::Name("assert") = callee.kind {
                        if self.lookup_local("assert").is_none() && !self.names.contains_key("assert") {
                            return self.check_assert(args, e.span, line);
                        }
                    }
                    let x = self.check_expr(e, None);
                    hir::Stmt::Expr(x)
                } else {
                    self.err(e.span, "only calls can be used as statements");
                    self.check_expr(e, None);
                    return None;
                }
            }
            Stmt::If { cond, then, els, .. } => {
                let c = self.check_cond(cond);
                let t = self.scoped_block(then);
                let e = match els {
                    Some(e) => {
                        self.push_scope();
                        let r = self.check_stmt(e).into_iter().collect();
                        self.pop_scope();
                        r
                    }
                    None => Vec::new(),
                };
                hir::Stmt::If(c, t, e)
            }
            Stmt::While { cond, body, .. } => {
                let c = self.check_cond(cond);
                let b = self.loop_body(body);
                hir::Stmt::While(c, b)
            }
            Stmt::ForRange { var, start, end, body, .. } => {
                let s = self.check_expr(start, Some(INT));
                let s = self.coerce(s, INT, start.span);
                let e = self.check_expr(end, Some(INT));
                let e = self.coerce(e, INT, end.span);
                self.push_scope();
                let v = self.declare_var(*var, INT)?;
                let b = self.loop_body(body);
                self.pop_scope();
                hir::Stmt::ForRange {
                    var: v,
                    start: s,
                    end: e,
                    body: b,
                }
            }
            Stmt::ForIn { var, iter, body, .. } => {
                let it = self.check_expr(iter, None);
                match self.types.get(it.ty).clone() {
                    Type::Array(el) => {
                        self.push_scope();
                        let v = self.declare_var(*var, el)?;
                        let b = self.loop_body(body);
                        self.pop_scope();
                        hir::Stmt::ForArray { var: v, arr: it, body: b }
                    }
                    Type::Map(k, _) => {
                        self.push_scope();
                        let v = self.declare_var(*var, k)?;
                        let b = self.loop_body(body);
                        self.pop_scope();
                        let keys_ty = self.types.array(k);
                        hir::Stmt::ForMap {
                            var: v,
                            map: it,
                            keys_ty,
                            body: b,
                        }
                    }
                    Type::Error => {
                        self.push_scope();
                        self.declare_var(*var, ERROR);
                        self.loop_body(body);
                        self.pop_scope();
                        return None;
                    }
                    _ => {
                        let msg = format!(
                            "cannot iterate over a value of type `{}` (expected an array or a map)",
                            self.tn(it.ty)
                        );
                        self.err(iter.span, msg);
                        self.push_scope();
                        self.declare_var(*var, ERROR);
                        self.loop_body(body);
                        self.pop_scope();
                        return None;
                    }
                }
            }
            Stmt::Break(span) | Stmt::Continue(span) => {
                let is_break = matches!(s, Stmt::Break(_));
                let in_loop = self.fcx.last().map(|f| f.loops > 0).unwrap_or(false);
                if !in_loop {
                    let w = if is_break { "break" } else { "continue" };
                    self.err(*span, format!("`{w}` outside of a loop"));
                    return None;
                }
                let line = self.line(*span);
                if is_break {
                    hir::Stmt::Break(line)
                } else {
                    hir::Stmt::Continue(line)
                }
            }
            Stmt::Return(e, span) => {
                let line = self.line(*span);
                let ret = self.fcx.last().map(|f| f.ret).unwrap_or(VOID);
                match (e, ret) {
                    (None, VOID) => hir::Stmt::Return(None, line),
                    (None, _) => {
                        let msg = format!("missing return value: this function returns `{}`", self.tn(ret));
                        self.err(*span, msg);
                        return None;
                    }
                    (Some(x), VOID) => {
                        self.err(x.span, "cannot return a value from a function that returns nothing");
                        self.check_expr(x, None);
                        return None;
                    }
                    (Some(x), t) => {
                        let v = self.check_expr(x, Some(t));
                        let v = self.coerce(v, t, x.span);
                        hir::Stmt::Return(Some(v), line)
                    }
                }
            }
            Stmt::Block(b) => hir::Stmt::Block(self.scoped_block(b)),
            Stmt::Try { body, var, handler, span } => {
                let line = self.line(*span);
                let b = self.scoped_block(body);
                self.push_scope();
                let v = self.declare_var(*var, STR)?;
                let h = self.check_block_stmts(handler.stmts);
                self.pop_scope();
                hir::Stmt::Try {
                    body: b,
                    var: v,
                    handler: h,
                    line,
                }
            }
            Stmt::Throw(e, span) => {
                let line = self.line(*span);
                let x = self.check_expr(e, Some(STR));
                if x.ty != STR && x.ty != ERROR {
                    let msg = format!("`throw` needs a `str` message, found `{}`", self.tn(x.ty));
                    self.err(e.span, msg);
                }
                hir::Stmt::Throw(x, line)
            }
        })
    }

    fn loop_body(&mut self, body: &'a ast::Block<'a>) -> Vec<hir::Stmt> {
        if let Some(f) = self.fcx.last_mut() {
            f.loops += 1;
        }
        let b = self.scoped_block(body);
        if let Some(f) = self.fcx.last_mut() {
            f.loops -= 1;
        }
        b
    }

    fn check_assert(&mut self, args: &'a [&'a ast::Expr<'a>], span: ast::Span, line: u32) -> Option<hir::Stmt> {
        if args.is_empty() || args.len() > 2 {
            self.err(span, format!("`assert` takes 1 or 2 arguments, but {} were given", args.len()));
            return None;
        }
        let c = self.check_cond(args[0]);
        let msg = args.get(1).map(|m| {
            let x = self.check_expr(m, Some(STR));
            self.coerce(x, STR, m.span)
        });
        Some(hir::Stmt::Assert(c, msg, line))
    }

    /// Checks an assignment target; returns the place and its type.
    fn check_place(&mut self, target: &'a ast::Expr<'a>) -> Option<(Place, TypeId)> {
        match &target.kind {
            ExprKind::Name(n) => {
                if let Some(v) = self.lookup_local(n) {
                    let origin = self.vars[v as usize].origin;
                    self.vars[origin as usize].assigned = true;
                    return Some((Place::Var(v), self.vars[v as usize].ty));
                }
                match self.names.get(n).map(|d| d.0) {
                    Some(Decl::Global(g)) => {
                        let t = self.global_use(g, n, target.span);
                        Some((Place::Global(g), t))
                    }
                    Some(Decl::Func(_)) => {
                        self.err(target.span, format!("cannot assign to function `{n}`"));
                        None
                    }
                    Some(Decl::Class(_)) | Some(Decl::Iface(_)) => {
                        self.err(target.span, format!("cannot assign to type `{n}`"));
                        None
                    }
                    None if self.is_builtin(n) => {
                        self.err(target.span, format!("cannot assign to built-in function `{n}`"));
                        None
                    }
                    None => {
                        self.err(target.span, format!("undefined name `{n}`"));
                        None
                    }
                }
            }
            ExprKind::Paren(inner) => self.check_place(inner),
            ExprKind::Index(a, i) => match self.check_indexing(a, i, target.span, true)? {
                Indexed::Array(arr, idx, el) => Some((Place::Index(arr, idx), el)),
                Indexed::Map(map, key, v) => Some((Place::MapKey(map, key), v)),
            },
            ExprKind::Field(obj, name) => {
                let o = self.check_expr(obj, None);
                let (i, t) = self.field_of(o.ty, *name, true)?;
                Some((Place::Field(o, i), t))
            }
            ExprKind::SelfRef => {
                self.err(target.span, "cannot assign to `self`");
                None
            }
            _ => {
                self.err(target.span, "cannot assign to this expression");
                let _ = self.check_expr(target, None);
                None
            }
        }
    }
}
