//! Name resolution and type checking: AST to typed [`crate::hir`].
//!
//! The checker works in four steps over all files of the program:
//!
//! 1. **Declare**: every class, interface, function and global gets an index,
//!    and its name joins the one namespace shared by all files (a clash is
//!    an error).
//! 2. **Resolve signatures**: field types, method and function signatures,
//!    interface method lists; then each class is checked against the
//!    interfaces it claims to implement (same names, identical signatures).
//! 3. **Globals**, in initialisation order (imported files first, then source
//!    order): each initialiser is checked, and an unannotated global takes
//!    its initialiser's type. A global may only use globals declared before it.
//! 4. **Bodies**: every function and method body is checked, producing HIR.
//!
//! Checking never stops at the first error. An ill-typed expression gets
//! the type `<error>`, which is compatible with everything, so one mistake
//! produces one message rather than a cascade.
//!
//! Types flow both ways: an expression is checked *against* an expected type
//! when the context provides one. That is how `[]`, `{}` and `nil` get their
//! types (`let xs: [int] = [];`, `f([])`, `return nil;`).

pub(crate) mod builtins;
mod expr;
mod stmt;

use crate::ast::{self, Item, Span, TypeExpr};
use crate::bytecode::{FuncKind, Type, TypeId};
use crate::diag::{Diagnostic, SourceMap};
use crate::hir;
use crate::loader::Program;
use crate::types::{self, TypeTable};
use rustc_hash::FxHashMap;

/// A top-level name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decl {
    Func(u16),
    Global(u32),
    Class(u16),
    Iface(u16),
}

#[derive(Debug, Clone)]
pub struct FuncSig {
    pub name: String,
    pub params: Vec<TypeId>,
    pub ret: TypeId,
    pub file: u16,
    pub kind: FuncKind,
}

#[derive(Debug, Clone)]
pub struct ClassInfo {
    pub name: String,
    pub fields: Vec<(String, TypeId)>,
    pub methods: Vec<(String, u16)>,
    pub ifaces: Vec<u16>,
}

#[derive(Debug, Clone)]
pub struct IfaceInfo {
    pub name: String,
    /// (name, parameter types without self, return type)
    pub methods: Vec<(String, Vec<TypeId>, TypeId)>,
    pub first_slot: u16,
}

#[derive(Debug, Clone)]
pub struct GlobalInfo {
    pub name: String,
    /// `None` while an unannotated global's initialiser has not been checked.
    pub ty: Option<TypeId>,
    pub file: u16,
    /// Position in initialisation order.
    pub order: usize,
}

/// The checker's result: everything the emitter needs.
pub struct Checked {
    pub types: TypeTable,
    pub funcs: Vec<hir::Func>,
    pub vars: Vec<hir::Var>,
    pub classes: Vec<ClassInfo>,
    pub ifaces: Vec<IfaceInfo>,
    pub globals: Vec<GlobalInfo>,
    /// One `<init>` function per file with globals, in initialisation order.
    pub inits: Vec<u16>,
    /// `main`, when the program has one.
    pub main: Option<u16>,
}

/// Per-function checking state.
pub(crate) struct FnCtx<'a> {
    scopes: Vec<Vec<(&'a str, hir::VarId)>>,
    ret: TypeId,
    loops: u32,
    captures: Vec<(hir::VarId, hir::VarId)>,
    file: u16,
}

pub struct Checker<'a, 's> {
    pub(crate) sm: &'s SourceMap,
    /// The host program's functions.
    pub(crate) host: &'s [pvm_stdlib::NativeSig],
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) types: TypeTable,
    pub(crate) names: FxHashMap<&'a str, (Decl, u16, Span)>,
    pub(crate) sigs: Vec<FuncSig>,
    pub(crate) fn_decls: Vec<Option<&'a ast::FnDecl<'a>>>,
    pub(crate) funcs: Vec<Option<hir::Func>>,
    pub(crate) classes: Vec<ClassInfo>,
    pub(crate) class_decls: Vec<(u16, &'a ast::ClassDecl<'a>)>,
    pub(crate) ifaces: Vec<IfaceInfo>,
    pub(crate) iface_decls: Vec<(u16, &'a ast::InterfaceDecl<'a>)>,
    pub(crate) globals: Vec<GlobalInfo>,
    pub(crate) global_decls: Vec<&'a ast::GlobalDecl<'a>>,
    pub(crate) vars: Vec<hir::Var>,
    pub(crate) fcx: Vec<FnCtx<'a>>,
    /// While checking global initialisers: the order index of the current one.
    pub(crate) init_global: Option<usize>,
    /// How deeply the expression or statement being checked is nested.
    pub(crate) depth: usize,
    /// Whether the nesting limit was reported (once is enough).
    pub(crate) too_deep: bool,
    /// Which table limits were reported.
    pub(crate) limits_hit: Vec<&'static str>,
}

/// Expressions, statements and types nested deeper than this are a compile
/// error. (Checking and emitting recurse; the native stack grows as needed
/// below this depth, so it bounds memory, not correctness.)
pub const MAX_NESTING: usize = 50_000;
/// Room left on the native stack below which a recursive step moves to a
/// new stack segment, and the size of such a segment.
pub(crate) const RED_ZONE: usize = 128 << 10;
pub(crate) const STACK_SEGMENT: usize = 4 << 20;

/// Checks a loaded program. Returns the checked program, or every error.
pub fn check(
    program: &Program<'_>,
    sm: &SourceMap,
    host: &[pvm_stdlib::NativeSig],
    require_main: bool,
) -> Result<Checked, Vec<Diagnostic>> {
    let mut c = Checker {
        sm,
        host,
        diags: Vec::new(),
        types: TypeTable::default(),
        names: FxHashMap::default(),
        sigs: Vec::new(),
        fn_decls: Vec::new(),
        funcs: Vec::new(),
        classes: Vec::new(),
        class_decls: Vec::new(),
        ifaces: Vec::new(),
        iface_decls: Vec::new(),
        globals: Vec::new(),
        global_decls: Vec::new(),
        vars: Vec::new(),
        fcx: Vec::new(),
        init_global: None,
        depth: 0,
        too_deep: false,
        limits_hit: Vec::new(),
    };
    c.declare(program);
    c.resolve_signatures();
    let inits = c.check_globals(program);
    c.check_bodies();
    let main = c.find_main(program, require_main);
    if c.types.overflow {
        let msg = format!(
            "the program uses more than {} distinct types, the most the bytecode can index",
            u16::MAX
        );
        c.error(0, Span::default(), msg);
    }
    if c.sigs.len() >= u16::MAX as usize {
        c.within_limit(c.sigs.len(), "functions (methods and lambdas count)", 0, Span::default());
    }
    if !c.diags.is_empty() {
        return Err(c.diags);
    }
    let funcs = c.funcs.into_iter().map(|f| f.expect("every function is checked")).collect();
    Ok(Checked {
        types: c.types,
        funcs,
        vars: c.vars,
        classes: c.classes,
        ifaces: c.ifaces,
        globals: c.globals,
        inits,
        main,
    })
}

impl<'a> Checker<'a, '_> {
    /// Reports (once per kind) a table that would not fit the bytecode's
    /// 16-bit indices: `count` items exist before the one declared at `span`.
    pub(crate) fn within_limit(&mut self, count: usize, what: &'static str, file: u16, span: Span) {
        if count >= u16::MAX as usize && !self.limits_hit.contains(&what) {
            self.limits_hit.push(what);
            let msg = format!(
                "the program declares more than {} {what}, the most the bytecode can index",
                u16::MAX
            );
            self.error(file, span, msg);
        }
    }

    /// Enters one level of nesting; `false` (and an error, the first time)
    /// past [`MAX_NESTING`].
    pub(crate) fn enter_nesting(&mut self, span: Span) -> bool {
        if self.depth >= MAX_NESTING {
            if !self.too_deep {
                self.too_deep = true;
                self.err(span, format!("this is nested more than {MAX_NESTING} levels deep"));
            }
            return false;
        }
        self.depth += 1;
        true
    }

    pub(crate) fn error(&mut self, file: u16, span: Span, msg: impl Into<String>) {
        self.diags.push(Diagnostic::new(file, span.start, span.end, msg));
    }

    /// Error in the file of the function being checked.
    pub(crate) fn err(&mut self, span: Span, msg: impl Into<String>) {
        let file = self.cur_file();
        self.error(file, span, msg);
    }

    pub(crate) fn cur_file(&self) -> u16 {
        self.fcx.last().map(|f| f.file).unwrap_or(0)
    }

    pub(crate) fn line(&self, span: Span) -> u32 {
        self.sm.file(self.cur_file()).line_of(span.start)
    }

    /// A type as the user wrote it, for messages.
    pub(crate) fn tn(&self, t: TypeId) -> String {
        if t == types::VOID {
            return "nothing".into();
        }
        crate::bytecode::render_type(&self.types.types, t, &|ty| match ty {
            Type::Class(c) => self.classes[*c as usize].name.clone(),
            Type::Interface(i) => self.ifaces[*i as usize].name.clone(),
            _ => String::new(),
        })
    }

    // ------------------------------------------------------------ step 1

    fn declare(&mut self, program: &Program<'a>) {
        for &file in &program.order {
            for item in program.files[file as usize].items {
                match item {
                    Item::Fn(f) => {
                        self.within_limit(self.sigs.len(), "functions (methods and lambdas count)", file, f.name.span);
                        let id = self.sigs.len() as u16;
                        self.sigs.push(FuncSig {
                            name: f.name.name.to_string(),
                            params: vec![],
                            ret: types::VOID,
                            file,
                            kind: FuncKind::Function,
                        });
                        self.fn_decls.push(Some(f));
                        self.funcs.push(None);
                        self.bind(f.name, Decl::Func(id), file);
                    }
                    Item::Class(cd) => {
                        self.within_limit(self.classes.len(), "classes", file, cd.name.span);
                        let id = self.classes.len() as u16;
                        self.classes.push(ClassInfo {
                            name: cd.name.name.to_string(),
                            fields: vec![],
                            methods: vec![],
                            ifaces: vec![],
                        });
                        self.class_decls.push((file, cd));
                        self.bind(cd.name, Decl::Class(id), file);
                    }
                    Item::Interface(id_) => {
                        self.within_limit(self.ifaces.len(), "interfaces", file, id_.name.span);
                        let id = self.ifaces.len() as u16;
                        self.ifaces.push(IfaceInfo {
                            name: id_.name.name.to_string(),
                            methods: vec![],
                            first_slot: 0,
                        });
                        self.iface_decls.push((file, id_));
                        self.bind(id_.name, Decl::Iface(id), file);
                    }
                    Item::Global(g) => {
                        let id = self.globals.len() as u32;
                        self.globals.push(GlobalInfo {
                            name: g.name.name.to_string(),
                            ty: None,
                            file,
                            order: id as usize,
                        });
                        self.global_decls.push(g);
                        self.bind(g.name, Decl::Global(id), file);
                    }
                    Item::Import(..) | Item::Error => {}
                }
            }
        }
    }

    fn bind(&mut self, name: ast::Ident<'a>, d: Decl, file: u16) {
        if let Some(&(_, pfile, pspan)) = self.names.get(name.name) {
            let (line, _) = self.sm.file(pfile).line_col(pspan.start);
            let msg = format!("`{}` is already declared at {}:{}", name.name, self.sm.file(pfile).path, line);
            self.error(file, name.span, msg);
            return;
        }
        self.names.insert(name.name, (d, file, name.span));
    }

    // ------------------------------------------------------------ step 2

    pub(crate) fn resolve_type(&mut self, file: u16, t: &TypeExpr<'_>) -> TypeId {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.resolve_type_at(file, t))
    }

    fn resolve_type_at(&mut self, file: u16, t: &TypeExpr<'_>) -> TypeId {
        match t {
            TypeExpr::Named(id) => match id.name {
                "int" => types::INT,
                "float" => types::FLOAT,
                "bool" => types::BOOL,
                "str" => types::STR,
                name => match self.names.get(name).map(|d| d.0) {
                    Some(Decl::Class(c)) => self.types.intern(Type::Class(c)),
                    Some(Decl::Iface(i)) => self.types.intern(Type::Interface(i)),
                    _ => {
                        self.error(file, id.span, format!("unknown type `{name}`"));
                        types::ERROR
                    }
                },
            },
            TypeExpr::Array(e, _) => {
                let e = self.resolve_type(file, e);
                self.types.array(e)
            }
            TypeExpr::Map(k, v, _) => {
                let kt = self.resolve_type(file, k);
                let vt = self.resolve_type(file, v);
                if !matches!(kt, types::INT | types::STR | types::BOOL | types::ERROR) {
                    let msg = format!("map keys must be `int`, `str` or `bool`, not `{}`", self.tn(kt));
                    self.error(file, k.span(), msg);
                }
                self.types.map(kt, vt)
            }
            TypeExpr::Func(ps, r, _) => {
                let ps: Vec<TypeId> = ps.iter().map(|p| self.resolve_type(file, p)).collect();
                let r = r.map(|r| self.resolve_type(file, r)).unwrap_or(types::VOID);
                self.types.func(ps, r)
            }
        }
    }

    fn signature(&mut self, file: u16, params: &[ast::Param<'_>], ret: Option<&TypeExpr<'_>>) -> (Vec<TypeId>, TypeId) {
        let ps = params.iter().map(|p| self.resolve_type(file, p.ty)).collect();
        let r = ret.map(|r| self.resolve_type(file, r)).unwrap_or(types::VOID);
        (ps, r)
    }

    fn resolve_signatures(&mut self) {
        // Interfaces first: classes are checked against them.
        let mut slot: u32 = 0;
        for (i, (file, decl)) in self.iface_decls.clone().into_iter().enumerate() {
            let mut methods: Vec<(String, Vec<TypeId>, TypeId)> = Vec::new();
            for m in decl.methods {
                if !m.has_self {
                    self.error(
                        file,
                        m.name.span,
                        format!("interface method `{}` must take `self` as its first parameter", m.name.name),
                    );
                }
                if methods.iter().any(|x| x.0 == m.name.name) {
                    self.error(
                        file,
                        m.name.span,
                        format!("method `{}` is declared twice in interface `{}`", m.name.name, decl.name.name),
                    );
                    continue;
                }
                let (ps, r) = self.signature(file, m.params, m.ret);
                methods.push((m.name.name.to_string(), ps, r));
            }
            if slot + methods.len() as u32 > u32::from(u16::MAX) {
                let (file, decl) = self.iface_decls[i];
                self.within_limit(u16::MAX as usize, "interface methods", file, decl.name.span);
            }
            self.ifaces[i].first_slot = slot.min(u16::MAX as u32) as u16;
            slot += methods.len() as u32;
            self.ifaces[i].methods = methods;
        }
        // Top-level functions.
        for id in 0..self.sigs.len() {
            let Some(f) = self.fn_decls[id] else { continue };
            let file = self.sigs[id].file;
            if f.has_self {
                self.error(
                    file,
                    f.name.span,
                    format!("function `{}` cannot take `self`: only methods do", f.name.name),
                );
            }
            let (ps, r) = self.signature(file, f.params, f.ret);
            self.sigs[id].params = ps;
            self.sigs[id].ret = r;
        }
        // Classes: fields, then methods (each method is a function whose first parameter is self).
        for (ci, (file, decl)) in self.class_decls.clone().into_iter().enumerate() {
            let self_ty = self.types.intern(Type::Class(ci as u16));
            let mut fields: Vec<(String, TypeId)> = Vec::new();
            let mut methods: Vec<(String, u16)> = Vec::new();
            for m in decl.members {
                if let ast::Member::Field(fd) = m {
                    if fields.iter().any(|f| f.0 == fd.name.name) {
                        self.error(
                            file,
                            fd.name.span,
                            format!("field `{}` is declared twice in class `{}`", fd.name.name, decl.name.name),
                        );
                        continue;
                    }
                    let t = self.resolve_type(file, fd.ty);
                    fields.push((fd.name.name.to_string(), t));
                }
            }
            for m in decl.members {
                if let ast::Member::Method(f) = m {
                    if fields.iter().any(|x| x.0 == f.name.name) || methods.iter().any(|x| x.0 == f.name.name) {
                        self.error(
                            file,
                            f.name.span,
                            format!("`{}` is declared twice in class `{}`", f.name.name, decl.name.name),
                        );
                        continue;
                    }
                    if !f.has_self {
                        self.error(
                            file,
                            f.name.span,
                            format!("method `{}` must take `self` as its first parameter", f.name.name),
                        );
                    }
                    let (mut ps, r) = self.signature(file, f.params, f.ret);
                    ps.insert(0, self_ty);
                    self.within_limit(self.sigs.len(), "functions (methods and lambdas count)", file, f.name.span);
                    let id = self.sigs.len() as u16;
                    self.sigs.push(FuncSig {
                        name: format!("{}.{}", decl.name.name, f.name.name),
                        params: ps,
                        ret: r,
                        file,
                        kind: FuncKind::Method,
                    });
                    self.fn_decls.push(Some(f));
                    self.funcs.push(None);
                    methods.push((f.name.name.to_string(), id));
                }
            }
            self.classes[ci].fields = fields;
            self.classes[ci].methods = methods;
            // Interfaces implemented.
            for imp in decl.implements {
                let iface = match self.names.get(imp.name).map(|d| d.0) {
                    Some(Decl::Iface(i)) => i,
                    Some(_) => {
                        self.error(file, imp.span, format!("`{}` is not an interface", imp.name));
                        continue;
                    }
                    None => {
                        self.error(file, imp.span, format!("unknown interface `{}`", imp.name));
                        continue;
                    }
                };
                if self.classes[ci].ifaces.contains(&iface) {
                    continue;
                }
                self.classes[ci].ifaces.push(iface);
                for (mname, mps, mret) in self.ifaces[iface as usize].methods.clone() {
                    let found = self.classes[ci].methods.iter().find(|m| m.0 == mname).map(|m| m.1);
                    match found {
                        None => {
                            let msg = format!(
                                "class `{}` does not implement method `{}` of interface `{}`",
                                decl.name.name, mname, imp.name
                            );
                            self.error(file, decl.name.span, msg);
                        }
                        Some(fid) => {
                            let sig = &self.sigs[fid as usize];
                            if sig.params[1..] != mps[..] || sig.ret != mret {
                                let have = self.types.func(sig.params[1..].to_vec(), sig.ret);
                                let want = self.types.func(mps.clone(), mret);
                                let msg = format!(
                                    "method `{}` of class `{}` has type `{}`, but interface `{}` requires `{}`",
                                    mname,
                                    decl.name.name,
                                    self.tn(have),
                                    imp.name,
                                    self.tn(want)
                                );
                                self.error(file, decl.name.span, msg);
                            }
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------ step 3

    fn check_globals(&mut self, program: &Program<'a>) -> Vec<u16> {
        // Globals were declared in initialisation order already (files in
        // dependency order, source order within a file), so `order` is the index.
        let mut inits = Vec::new();
        for &file in &program.order {
            let ids: Vec<u32> = (0..self.globals.len() as u32)
                .filter(|&g| self.globals[g as usize].file == file)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let fid = self.new_func_slot("<init>", file, FuncKind::Init);
            self.fcx.push(FnCtx {
                scopes: vec![vec![]],
                ret: types::VOID,
                loops: 0,
                captures: vec![],
                file,
            });
            let mut body = Vec::new();
            for g in ids {
                let decl = self.global_decls[g as usize];
                let ann = decl.ty.map(|t| self.resolve_type(file, t));
                if let Some(t) = ann {
                    self.globals[g as usize].ty = Some(t);
                }
                self.init_global = Some(g as usize);
                let e = self.check_expr(decl.init, ann);
                self.init_global = None;
                let ty = match ann {
                    Some(t) => {
                        let e = self.coerce(e, t, decl.init.span);
                        body.push(hir::Stmt::Assign(hir::Place::Global(g), e, self.line(decl.init.span)));
                        t
                    }
                    None => {
                        let t = self.infer_let_type(&e, decl.init.span);
                        let mut e = e;
                        e.ty = t;
                        body.push(hir::Stmt::Assign(hir::Place::Global(g), e, self.line(decl.init.span)));
                        t
                    }
                };
                self.globals[g as usize].ty = Some(ty);
            }
            self.fcx.pop();
            let end_line = self.sm.file(file).line_count();
            self.funcs[fid as usize] = Some(hir::Func {
                name: "<init>".into(),
                kind: FuncKind::Init,
                file,
                params: vec![],
                captures: vec![],
                ret: types::VOID,
                body,
                end_line,
            });
            inits.push(fid);
        }
        inits
    }

    /// The type a `let` without annotation gets from its initialiser.
    pub(crate) fn infer_let_type(&mut self, e: &hir::Expr, span: Span) -> TypeId {
        match e.ty {
            types::NIL => {
                self.err(span, "cannot infer a type from `nil`; add a type annotation");
                types::ERROR
            }
            types::VOID => {
                self.err(span, "this expression returns nothing and cannot initialise a variable");
                types::ERROR
            }
            t => t,
        }
    }

    pub(crate) fn new_func_slot(&mut self, name: &str, file: u16, kind: FuncKind) -> u16 {
        let id = self.sigs.len() as u16;
        self.sigs.push(FuncSig {
            name: name.into(),
            params: vec![],
            ret: types::VOID,
            file,
            kind,
        });
        self.fn_decls.push(None);
        self.funcs.push(None);
        id
    }

    // ------------------------------------------------------------ step 4

    fn check_bodies(&mut self) {
        for id in 0..self.fn_decls.len() {
            let Some(decl) = self.fn_decls[id] else { continue };
            if self.funcs[id].is_some() {
                continue;
            }
            let sig = self.sigs[id].clone();
            let mut names: Vec<(ast::Ident<'a>, TypeId)> = Vec::new();
            let offset = if sig.kind == FuncKind::Method {
                names.push((
                    ast::Ident {
                        name: "self",
                        span: decl.name.span,
                    },
                    sig.params[0],
                ));
                1
            } else {
                0
            };
            for (p, &t) in decl.params.iter().zip(&sig.params[offset..]) {
                names.push((p.name, t));
            }
            let f = self.check_function(&sig.name, sig.kind, sig.file, &names, sig.ret, decl);
            self.funcs[id] = Some(f);
        }
    }

    /// Checks one function body (also used for lambdas, with `fcx` already
    /// holding the enclosing functions).
    pub(crate) fn check_function(
        &mut self,
        name: &str,
        kind: FuncKind,
        file: u16,
        params: &[(ast::Ident<'a>, TypeId)],
        ret: TypeId,
        decl: &'a ast::FnDecl<'a>,
    ) -> hir::Func {
        self.fcx.push(FnCtx {
            scopes: vec![vec![]],
            ret,
            loops: 0,
            captures: vec![],
            file,
        });
        let mut pvars = Vec::new();
        for (p, t) in params {
            if let Some(v) = self.declare_var(*p, *t) {
                pvars.push(v);
            } else {
                // Duplicate parameter: still give it a slot so arity matches.
                pvars.push(self.new_var(p.name, *t));
            }
        }
        let body = self.check_block_stmts(decl.body.stmts);
        if ret != types::VOID && !stmt::terminates_list(decl.body.stmts) {
            let what = if kind == FuncKind::Lambda {
                "lambda".to_string()
            } else {
                format!("function `{name}`")
            };
            let msg = format!(
                "{what} must return a value of type `{}` on every path (missing return)",
                self.tn(ret)
            );
            self.err(decl.name.span, msg);
        }
        let ctx = self.fcx.pop().expect("pushed above");
        let end_line = self.sm.file(file).line_of(decl.body.span.end.saturating_sub(1));
        hir::Func {
            name: name.to_string(),
            kind,
            file,
            params: pvars,
            captures: ctx.captures,
            ret,
            body,
            end_line,
        }
    }

    fn find_main(&mut self, program: &Program<'a>, required: bool) -> Option<u16> {
        match self.names.get("main").copied() {
            Some((Decl::Func(id), file, span)) => {
                let s = &self.sigs[id as usize];
                if !s.params.is_empty() || s.ret != types::VOID {
                    self.error(file, span, "`main` must take no parameters and return nothing");
                }
                Some(id)
            }
            Some((_, file, span)) => {
                self.error(file, span, "`main` must be a function");
                None
            }
            None => {
                if required && !program.files.is_empty() {
                    self.error(0, Span::default(), "the program has no `fn main()`");
                }
                None
            }
        }
    }

    // ------------------------------------------------------------ variables

    pub(crate) fn new_var(&mut self, name: &str, ty: TypeId) -> hir::VarId {
        let id = self.vars.len() as hir::VarId;
        self.vars.push(hir::Var {
            name: name.to_string(),
            ty,
            origin: id,
            captured: false,
            assigned: false,
        });
        id
    }

    /// Declares a variable in the innermost scope; `None` (after an error)
    /// if the name is already declared in that scope.
    pub(crate) fn declare_var(&mut self, name: ast::Ident<'a>, ty: TypeId) -> Option<hir::VarId> {
        let dup = self
            .fcx
            .last()
            .and_then(|f| f.scopes.last())
            .map(|s| s.iter().any(|(n, _)| *n == name.name))
            .unwrap_or(false);
        if dup {
            self.err(name.span, format!("`{}` is already declared in this block", name.name));
            return None;
        }
        let id = self.new_var(name.name, ty);
        if let Some(scope) = self.fcx.last_mut().and_then(|f| f.scopes.last_mut()) {
            scope.push((name.name, id));
        }
        Some(id)
    }

    /// Looks a local name up, capturing it through enclosing lambdas if needed.
    pub(crate) fn lookup_local(&mut self, name: &'a str) -> Option<hir::VarId> {
        let depth = self.fcx.len();
        let mut found = None;
        for level in (0..depth).rev() {
            let hit = self.fcx[level]
                .scopes
                .iter()
                .rev()
                .find_map(|s| s.iter().rev().find(|(n, _)| *n == name).map(|x| x.1));
            if let Some(v) = hit {
                found = Some((level, v));
                break;
            }
        }
        let (level, mut var) = found?;
        if level + 1 == depth {
            return Some(var);
        }
        // Thread the variable through each lambda between its owner and here.
        let origin = self.vars[var as usize].origin;
        self.vars[origin as usize].captured = true;
        for l in level + 1..depth {
            let ty = self.vars[var as usize].ty;
            let inner = self.new_var(name, ty);
            self.vars[inner as usize].origin = origin;
            self.fcx[l].captures.push((var, inner));
            // Register in the lambda's outermost scope so later uses reuse it.
            self.fcx[l].scopes[0].push((name, inner));
            var = inner;
        }
        Some(var)
    }

    pub(crate) fn push_scope(&mut self) {
        if let Some(f) = self.fcx.last_mut() {
            f.scopes.push(Vec::new());
        }
    }

    pub(crate) fn pop_scope(&mut self) {
        if let Some(f) = self.fcx.last_mut() {
            f.scopes.pop();
        }
    }

    // ------------------------------------------------------------ type relations

    /// Whether a value of type `from` may be stored where `to` is expected.
    pub(crate) fn assignable(&self, from: TypeId, to: TypeId) -> bool {
        if from == to || from == types::ERROR || to == types::ERROR {
            return true;
        }
        match (self.types.get(from), self.types.get(to)) {
            (Type::Nil, t) => t.is_ref(),
            (Type::Class(c), Type::Interface(i)) => self.classes[*c as usize].ifaces.contains(i),
            _ => false,
        }
    }

    /// Checks that `e` fits `to` and gives it that type (nil and class values
    /// take the type of the slot they are stored in).
    pub(crate) fn coerce(&mut self, mut e: hir::Expr, to: TypeId, span: Span) -> hir::Expr {
        if e.ty == to {
            return e;
        }
        if e.ty == types::VOID {
            self.err(span, "this expression returns nothing and cannot be used as a value");
        } else if !self.assignable(e.ty, to) {
            let msg = format!("expected `{}`, found `{}`", self.tn(to), self.tn(e.ty));
            self.err(span, msg);
        }
        e.ty = to;
        e
    }
}
