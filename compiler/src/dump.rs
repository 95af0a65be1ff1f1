//! Printing what each compiler stage produces, for people (`pvm dump`).
//!
//! A compiler is a pipeline of representations, each a little further from
//! the text a person wrote and a little closer to what a machine runs.
//! These functions print three of them readably, one item per line:
//!
//! * [`dump_tokens`]: the **tokens**. The lexer ([`crate::lexer`]) cuts the
//!   text into words: keywords (`fn`), names (`Ident`), literals (`Int`,
//!   `Str`) and punctuation (`LBrace`). Spaces and comments are gone; a
//!   literal's value is decoded (`0x1F` is the integer 31, `"a\n"` holds a
//!   newline). Each token is printed with its `LINE:COL`, kind and text.
//! * [`dump_ast`]: the **abstract syntax tree**. The parser
//!   ([`crate::parse`]) groups tokens into the structure the grammar
//!   describes: a `Binary +` node whose children are its operands, a `Call`
//!   whose children are the callee and arguments. Parentheses and
//!   semicolons have done their job and disappear (a `Paren` node is kept
//!   only where it changes a literal's meaning). Names are still just text:
//!   nothing yet knows what `x` refers to or what type anything has.
//! * [`dump_hir`]: the **typed HIR** ([`crate::hir`]), what the checker
//!   ([`crate::check`]) makes of the tree. Every name is resolved: `x#3` is
//!   local variable number 3, `Global #0 G` a global, `Call #2 fib` a
//!   function. Every expression carries its type (`: int`), and operators
//!   are picked by type (`AddI` for integers, `AddF` for floats, `Concat`
//!   for strings). Each lambda lists what it captures; a variable that a
//!   lambda captures *and* that is assigned after its declaration is marked
//!   `cell`: the emitter boxes it in a heap cell that the function and the
//!   lambda share, while every other capture is a copy.
//!
//! The next stage, bytecode, is printed by `pvm dis`
//! ([`crate::bytecode::disasm`]).
//!
//! Each view is one node per line, indented two spaces per level of
//! nesting, with the source position first. The AST has line and column;
//! the HIR only keeps the line (the emitter's line table needs no more).
//! Errors in the program fail a dump with the usual diagnostics: lexical
//! errors fail `dump_tokens` (`dump_tokens_partial` lists the tokens around
//! them too, as `pvm dump --tokens` does), lexical and syntax errors
//! `dump_ast`, and every compile error `dump_hir`.

use crate::ast::{self, AssignOp, Item, Member, Span, Stmt, TypeExpr};
use crate::bytecode::{render_type, FuncKind, Type, TypeId};
use crate::check::{Checked, RED_ZONE, STACK_SEGMENT};
use crate::diag::{SourceFile, SourceMap};
use crate::hir::{self, Place, VarId};
use crate::lexer::{Lexer, Tok};
use crate::{CompileError, Options};
use std::fmt::Write as _;

/// Indentation stops growing at this depth (a deeply nested program would
/// otherwise print quadratically many spaces); deeper lines say their depth.
const MAX_INDENT: usize = 40;

/// The tokens of one source text, one per line: `LINE:COL  KIND  TEXT`,
/// and for a literal whose value differs from its text, `= VALUE`. Fails
/// with the lexical errors if there are any ([`dump_tokens_partial`] lists
/// the tokens anyway).
pub fn dump_tokens(name: &str, src: &str) -> Result<String, CompileError> {
    match dump_tokens_partial(name, src) {
        (out, None) => Ok(out),
        (_, Some(e)) => Err(e),
    }
}

/// The token listing even when the text has lexical errors: each error is
/// listed where it happened (`LINE:COL  error  MESSAGE`), among the tokens
/// the lexer made of the text around it, so a student sees how it
/// recovered. The errors also come back as the compiler reports them.
pub fn dump_tokens_partial(name: &str, src: &str) -> (String, Option<CompileError>) {
    let file = SourceFile::new(name.to_string(), src.to_string());
    let mut pos = Positions::new(&file);
    let mut lexer = Lexer::new(src, 0);
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (start, tok, end) in lexer.by_ref().flatten() {
        let (line, col) = pos.at(start as u32);
        let text = src.get(start..end).unwrap_or("");
        let mut out = format!("{:<9} {:<10} {}", format!("{line}:{col}"), kind(&tok), visible(text));
        match &tok {
            Tok::Int(v) if text != v.to_string() => {
                let _ = write!(out, "  = {v}");
            }
            Tok::Float(v) => {
                let _ = write!(out, "  = {v:?}");
            }
            Tok::Str(s) if text.get(1..text.len().saturating_sub(1)) != Some(s.as_str()) => {
                let _ = write!(out, "  = {s:?}");
            }
            _ => {}
        }
        lines.push((start, out));
    }
    let count = lines.len();
    let errors = lexer.take_errors();
    let mut out = format!("tokens of {name}: LINE:COL  KIND  TEXT  [= decoded value]\n");
    let mut errs = errors.iter().peekable();
    for (start, line) in &lines {
        while let Some(e) = errs.next_if(|e| e.start as usize <= *start) {
            error_line(&mut out, &mut pos, e);
        }
        out.push_str(line);
        out.push('\n');
    }
    for e in errs {
        error_line(&mut out, &mut pos, e);
    }
    if errors.is_empty() {
        let _ = writeln!(out, "{count} tokens");
        (out, None)
    } else {
        let n = errors.len();
        let _ = writeln!(out, "{count} tokens, {n} lexical error{}", if n == 1 { "" } else { "s" });
        (out, Some(single_file_errors(file, errors)))
    }
}

fn error_line(out: &mut String, pos: &mut Positions<'_>, e: &crate::Diagnostic) {
    let (line, col) = pos.at(e.start);
    let _ = writeln!(out, "{:<9} {:<10} {}", format!("{line}:{col}"), "error", e.message);
}

/// The syntax tree of one source text (imports are not followed).
pub fn dump_ast(name: &str, src: &str) -> Result<String, CompileError> {
    let arena = bumpalo::Bump::new();
    let (tree, errors) = crate::parse::parse_file(&arena, src, 0);
    let file = SourceFile::new(name.to_string(), src.to_string());
    if !errors.is_empty() {
        return Err(single_file_errors(file, errors));
    }
    let mut p = AstPrinter {
        out: format!("syntax tree of {name}: LINE:COL  NODE (children indented below)\n"),
        pos: Positions::new(&file),
    };
    p.line(Span::default(), 0, "File");
    for item in tree.items {
        p.item(item, 1);
    }
    Ok(p.out)
}

/// The typed HIR of a program, after name resolution and type checking.
/// `src` is the entry file's text; its imports are read with `opts.resolver`.
/// Functions of the standard modules (`std/...`) are left out.
pub fn dump_hir(name: &str, src: &str, opts: &Options<'_>) -> Result<String, CompileError> {
    stacker::grow(crate::PASS_STACK, || {
        let arena = bumpalo::Bump::new();
        let mut sm = SourceMap::default();
        let (program, diags) = crate::loader::load_str(&arena, name, src, &mut sm, opts.resolver);
        let (checked, sm) = crate::check_program(&program, sm, diags, opts)?;
        Ok(HirPrinter {
            c: &checked,
            sm: &sm,
            out: String::new(),
        }
        .program())
    })
}

fn single_file_errors(file: SourceFile, errors: Vec<crate::Diagnostic>) -> CompileError {
    let mut sm = SourceMap::default();
    sm.add(file.path, file.text);
    CompileError::Program(sm, errors)
}

/// A token's kind: the name of its [`Tok`] variant.
fn kind(t: &Tok) -> String {
    match t {
        Tok::Ident(_) => "Ident".into(),
        Tok::Int(_) => "Int".into(),
        Tok::Float(_) => "Float".into(),
        Tok::Str(_) => "Str".into(),
        other => format!("{other:?}"),
    }
}

/// Text with control characters escaped, so that one token stays on one line.
fn visible(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Byte offsets to `(line, column)`, fast when asked in increasing order
/// (columns count characters, as in diagnostics).
struct Positions<'f> {
    file: &'f SourceFile,
    /// The last answer: offset, line, column.
    last: (u32, u32, u32),
}

impl<'f> Positions<'f> {
    fn new(file: &'f SourceFile) -> Self {
        Positions { file, last: (0, 1, 1) }
    }

    fn at(&mut self, offset: u32) -> (u32, u32) {
        let (lo, line, col) = self.last;
        let text = &self.file.text;
        let step = (offset >= lo)
            .then(|| text.get(lo as usize..offset as usize))
            .flatten()
            .filter(|s| !s.contains('\n'));
        let (line, col) = match step {
            Some(s) => (line, col + s.chars().count() as u32),
            None => self.file.line_col(offset),
        };
        self.last = (offset, line, col);
        (line, col)
    }
}

/// Indentation for nesting `depth`, capped at [`MAX_INDENT`].
fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth.min(MAX_INDENT) {
        out.push_str("  ");
    }
    if depth > MAX_INDENT {
        let _ = write!(out, "[depth {depth}] ");
    }
}

// ------------------------------------------------------------------ AST

struct AstPrinter<'f> {
    out: String,
    pos: Positions<'f>,
}

fn type_expr(t: &TypeExpr<'_>) -> String {
    // Type expressions are short in practice, but nest without bound.
    stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || match t {
        TypeExpr::Named(i) => i.name.to_string(),
        TypeExpr::Array(e, _) => format!("[{}]", type_expr(e)),
        TypeExpr::Map(k, v, _) => format!("{{{}: {}}}", type_expr(k), type_expr(v)),
        TypeExpr::Func(ps, r, _) => {
            let ps: Vec<String> = ps.iter().map(type_expr).collect();
            match r {
                Some(r) => format!("fn({}) -> {}", ps.join(", "), type_expr(r)),
                None => format!("fn({})", ps.join(", ")),
            }
        }
    })
}

fn params(ps: &[ast::Param<'_>], has_self: bool) -> String {
    let mut v: Vec<String> = Vec::new();
    if has_self {
        v.push("self".into());
    }
    v.extend(ps.iter().map(|p| format!("{}: {}", p.name.name, type_expr(p.ty))));
    v.join(", ")
}

fn ret(r: Option<&TypeExpr<'_>>) -> String {
    r.map(|t| format!(" -> {}", type_expr(t))).unwrap_or_default()
}

impl AstPrinter<'_> {
    /// One node: position, indentation, text.
    fn line(&mut self, span: Span, depth: usize, text: &str) {
        let at = if span == Span::default() {
            String::new()
        } else {
            let (l, c) = self.pos.at(span.start);
            format!("{l}:{c}")
        };
        let _ = write!(self.out, "{at:<9} ");
        indent(&mut self.out, depth);
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn item(&mut self, item: &Item<'_>, d: usize) {
        match item {
            Item::Import(path, span) => self.line(*span, d, &format!("Import {path:?}")),
            Item::Global(g) => {
                let ty = g.ty.map(|t| format!(": {}", type_expr(t))).unwrap_or_default();
                self.line(g.name.span, d, &format!("Global {}{ty}", g.name.name));
                self.expr(g.init, d + 1);
            }
            Item::Fn(f) => self.func("Fn", f, d),
            Item::Class(c) => {
                let imp: Vec<&str> = c.implements.iter().map(|i| i.name).collect();
                let imp = if imp.is_empty() {
                    String::new()
                } else {
                    format!(" : {}", imp.join(", "))
                };
                self.line(c.name.span, d, &format!("Class {}{imp}", c.name.name));
                for m in c.members {
                    match m {
                        Member::Field(f) => self.line(f.name.span, d + 1, &format!("Field {}: {}", f.name.name, type_expr(f.ty))),
                        Member::Method(f) => self.func("Method", f, d + 1),
                    }
                }
            }
            Item::Interface(i) => {
                self.line(i.name.span, d, &format!("Interface {}", i.name.name));
                for m in i.methods {
                    let text = format!("MethodSig {}({}){}", m.name.name, params(m.params, m.has_self), ret(m.ret));
                    self.line(m.span, d + 1, &text);
                }
            }
            Item::Error => self.line(Span::default(), d, "Error"),
        }
    }

    fn func(&mut self, what: &str, f: &ast::FnDecl<'_>, d: usize) {
        let name = if what == "Lambda" { "" } else { f.name.name };
        let text = format!("{what} {name}({}){}", params(f.params, f.has_self), ret(f.ret));
        self.line(f.span, d, &text);
        self.block(f.body, d + 1);
    }

    fn block(&mut self, b: &ast::Block<'_>, d: usize) {
        self.line(b.span, d, "Block");
        for s in b.stmts {
            self.stmt(s, d + 1);
        }
    }

    fn stmt(&mut self, s: &Stmt<'_>, d: usize) {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.stmt_at(s, d));
    }

    fn stmt_at(&mut self, s: &Stmt<'_>, d: usize) {
        match s {
            Stmt::Let { name, ty, init, span } => {
                let ty = ty.map(|t| format!(": {}", type_expr(t))).unwrap_or_default();
                self.line(*span, d, &format!("Let {}{ty}", name.name));
                self.expr(init, d + 1);
            }
            Stmt::Assign { target, op, value, span } => {
                let op = match op {
                    AssignOp::Set => "=",
                    AssignOp::Add => "+=",
                    AssignOp::Sub => "-=",
                    AssignOp::Mul => "*=",
                    AssignOp::Div => "/=",
                    AssignOp::Rem => "%=",
                };
                self.line(*span, d, &format!("Assign {op}"));
                self.expr(target, d + 1);
                self.expr(value, d + 1);
            }
            Stmt::Expr(e) => {
                self.line(e.span, d, "ExprStmt");
                self.expr(e, d + 1);
            }
            Stmt::If { cond, then, els, span } => {
                self.line(*span, d, "If");
                self.expr(cond, d + 1);
                self.block(then, d + 1);
                if let Some(e) = els {
                    self.line(e.span(), d, "Else");
                    self.stmt(e, d + 1);
                }
            }
            Stmt::While { cond, body, span } => {
                self.line(*span, d, "While");
                self.expr(cond, d + 1);
                self.block(body, d + 1);
            }
            Stmt::ForRange {
                var,
                start,
                end,
                body,
                span,
            } => {
                self.line(*span, d, &format!("ForRange {}", var.name));
                self.expr(start, d + 1);
                self.expr(end, d + 1);
                self.block(body, d + 1);
            }
            Stmt::ForIn { var, iter, body, span } => {
                self.line(*span, d, &format!("ForIn {}", var.name));
                self.expr(iter, d + 1);
                self.block(body, d + 1);
            }
            Stmt::Break(span) => self.line(*span, d, "Break"),
            Stmt::Continue(span) => self.line(*span, d, "Continue"),
            Stmt::Return(e, span) => {
                self.line(*span, d, "Return");
                if let Some(e) = e {
                    self.expr(e, d + 1);
                }
            }
            Stmt::Block(b) => self.block(b, d),
            Stmt::Try { body, var, handler, span } => {
                self.line(*span, d, "Try");
                self.block(body, d + 1);
                self.line(var.span, d, &format!("Catch {}", var.name));
                self.block(handler, d + 1);
            }
            Stmt::Throw(e, span) => {
                self.line(*span, d, "Throw");
                self.expr(e, d + 1);
            }
            Stmt::LetError { name, ty, span } => {
                let ty = ty.map(|t| format!(": {}", type_expr(t))).unwrap_or_default();
                self.line(*span, d, &format!("Let {}{ty}", name.name));
                self.line(Span::default(), d + 1, "Error");
            }
            Stmt::Error => self.line(Span::default(), d, "Error"),
        }
    }

    fn expr(&mut self, e: &ast::Expr<'_>, d: usize) {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.expr_at(e, d));
    }

    fn expr_at(&mut self, e: &ast::Expr<'_>, d: usize) {
        use ast::ExprKind as K;
        let s = e.span;
        match &e.kind {
            K::Int(v) => self.line(s, d, &format!("Int {v}")),
            K::Float(v) => self.line(s, d, &format!("Float {v:?}")),
            K::Str(v) => self.line(s, d, &format!("Str {v:?}")),
            K::Bool(v) => self.line(s, d, &format!("Bool {v}")),
            K::Nil => self.line(s, d, "Nil"),
            K::Name(n) => self.line(s, d, &format!("Name {n}")),
            K::SelfRef => self.line(s, d, "Self"),
            K::Array(items) => {
                self.line(s, d, &format!("Array ({} elements)", items.len()));
                for x in *items {
                    self.expr(x, d + 1);
                }
            }
            K::Map(items) => {
                self.line(s, d, &format!("Map ({} entries)", items.len()));
                for (k, v) in *items {
                    self.line(k.span, d + 1, "Entry");
                    self.expr(k, d + 2);
                    self.expr(v, d + 2);
                }
            }
            K::Unary(op, x) => {
                let op = match op {
                    ast::UnOp::Neg => "-",
                    ast::UnOp::Not => "!",
                    ast::UnOp::BitNot => "~",
                };
                self.line(s, d, &format!("Unary {op}"));
                self.expr(x, d + 1);
            }
            K::Binary(op, a, b) => {
                self.line(s, d, &format!("Binary {}", op.symbol()));
                self.expr(a, d + 1);
                self.expr(b, d + 1);
            }
            K::Call(f, args) => {
                self.line(s, d, &format!("Call ({} arguments)", args.len()));
                self.expr(f, d + 1);
                for a in *args {
                    self.expr(a, d + 1);
                }
            }
            K::Index(a, i) => {
                self.line(s, d, "Index");
                self.expr(a, d + 1);
                self.expr(i, d + 1);
            }
            K::Field(x, name) => {
                self.line(s, d, &format!("Field .{}", name.name));
                self.expr(x, d + 1);
            }
            K::Lambda(f) => self.func("Lambda", f, d),
            K::Paren(x) => {
                self.line(s, d, "Paren");
                self.expr(x, d + 1);
            }
        }
    }
}

// ------------------------------------------------------------------ HIR

struct HirPrinter<'c> {
    c: &'c Checked,
    sm: &'c SourceMap,
    out: String,
}

impl HirPrinter<'_> {
    fn ty(&self, t: TypeId) -> String {
        if t == crate::types::VOID {
            return "void".into();
        }
        render_type(&self.c.types.types, t, &|ty| match ty {
            Type::Class(i) => self.c.classes.get(*i as usize).map(|c| c.name.clone()).unwrap_or_default(),
            Type::Interface(i) => self.c.ifaces.get(*i as usize).map(|c| c.name.clone()).unwrap_or_default(),
            _ => String::new(),
        })
    }

    fn is_std(&self, file: u16) -> bool {
        self.sm.files.get(file as usize).is_none_or(|f| f.path.starts_with("std/"))
    }

    /// Whether variable `v` lives in a heap cell: some lambda captures it
    /// and it is assigned after its declaration (the emitter's rule).
    fn is_cell(&self, v: VarId) -> bool {
        let Some(var) = self.c.vars.get(v as usize) else { return false };
        self.c.vars.get(var.origin as usize).is_some_and(|o| o.captured && o.assigned)
    }

    /// `name#id`, with `(cell)` when it lives in a cell.
    fn var(&self, v: VarId) -> String {
        let name = self.c.vars.get(v as usize).map(|x| x.name.as_str()).unwrap_or("?");
        let cell = if self.is_cell(v) { " (cell)" } else { "" };
        format!("{name}#{v}{cell}")
    }

    fn var_decl(&self, v: VarId) -> String {
        let ty = self.c.vars.get(v as usize).map(|x| self.ty(x.ty)).unwrap_or_default();
        format!("{}: {ty}", self.var(v))
    }

    fn func_name(&self, f: u16) -> String {
        let name = self.c.funcs.get(f as usize).map(|x| x.name.as_str()).unwrap_or("?");
        format!("#{f} {name}")
    }

    fn line(&mut self, line: u32, d: usize, text: &str) {
        let at = if line == 0 { String::new() } else { line.to_string() };
        let _ = write!(self.out, "{at:>5}  ");
        indent(&mut self.out, d);
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn program(mut self) -> String {
        let c = self.c;
        self.out
            .push_str("typed HIR: LINE  NODE : TYPE (children indented below; x#3 is local variable 3)\n");
        for (i, g) in c.globals.iter().enumerate() {
            if !self.is_std(g.file) {
                let ty = g.ty.map(|t| self.ty(t)).unwrap_or_else(|| "?".into());
                let _ = writeln!(self.out, "global #{i} {}: {ty}", g.name);
            }
        }
        for (i, k) in c.classes.iter().enumerate() {
            let fields: Vec<String> = k.fields.iter().map(|(n, t)| format!("{n}: {}", self.ty(*t))).collect();
            let methods: Vec<String> = k.methods.iter().map(|(n, f)| format!("{n} = fn #{f}")).collect();
            let _ = writeln!(
                self.out,
                "class #{i} {} {{ {} }} methods [{}]",
                k.name,
                fields.join(", "),
                methods.join(", ")
            );
        }
        for (i, k) in c.ifaces.iter().enumerate() {
            let methods: Vec<String> = k
                .methods
                .iter()
                .enumerate()
                .map(|(j, (n, ..))| format!("{n} = slot {}", usize::from(k.first_slot) + j))
                .collect();
            let _ = writeln!(self.out, "interface #{i} {} [{}]", k.name, methods.join(", "));
        }
        let mut hidden = 0;
        for (i, f) in c.funcs.iter().enumerate() {
            if self.is_std(f.file) {
                hidden += 1;
                continue;
            }
            self.out.push('\n');
            self.func(i, f);
        }
        if hidden > 0 {
            let _ = writeln!(self.out, "\n({hidden} functions of standard modules not shown)");
        }
        self.out
    }

    fn func(&mut self, i: usize, f: &hir::Func) {
        let kind = match f.kind {
            FuncKind::Function => "fn",
            FuncKind::Method => "method",
            FuncKind::Lambda => "lambda",
            FuncKind::Init => "initialiser",
        };
        let ps: Vec<String> = f.params.iter().map(|p| self.var_decl(*p)).collect();
        let file = self.sm.files.get(f.file as usize).map(|x| x.path.as_str()).unwrap_or("?");
        let _ = writeln!(
            self.out,
            "{kind} #{i} {}({}) -> {}  [{file}]",
            f.name,
            ps.join(", "),
            self.ty(f.ret)
        );
        if !f.captures.is_empty() {
            let _ = writeln!(self.out, "  captures:");
            for (outer, inner) in &f.captures {
                let how = if self.is_cell(*inner) { "shares the cell of" } else { "copy of" };
                let _ = writeln!(self.out, "    {}  {how} {}", self.var_decl(*inner), self.var(*outer));
            }
        }
        for s in &f.body {
            self.stmt(s, 1);
        }
    }

    fn block(&mut self, line: u32, d: usize, what: &str, body: &[hir::Stmt]) {
        self.line(line, d, what);
        for s in body {
            self.stmt(s, d + 1);
        }
    }

    fn stmt(&mut self, s: &hir::Stmt, d: usize) {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.stmt_at(s, d));
    }

    fn stmt_at(&mut self, s: &hir::Stmt, d: usize) {
        use hir::Stmt as S;
        match s {
            S::Let(v, e) => {
                let text = format!("Let {}", self.var_decl(*v));
                self.line(e.line, d, &text);
                self.expr(e, d + 1);
            }
            S::Assign(p, e, line) => {
                self.line(*line, d, "Assign");
                self.place(p, *line, d + 1);
                self.expr(e, d + 1);
            }
            S::Compound(p, op, e, line) => {
                self.line(*line, d, &format!("Compound {op:?}"));
                self.place(p, *line, d + 1);
                self.expr(e, d + 1);
            }
            S::Expr(e) => {
                self.line(e.line, d, "ExprStmt");
                self.expr(e, d + 1);
            }
            S::If(c, then, els) => {
                self.line(c.line, d, "If");
                self.expr(c, d + 1);
                self.block(c.line, d + 1, "Then", then);
                if !els.is_empty() {
                    self.block(0, d + 1, "Else", els);
                }
            }
            S::While(c, body) => {
                self.line(c.line, d, "While");
                self.expr(c, d + 1);
                self.block(0, d + 1, "Body", body);
            }
            S::ForRange { var, start, end, body } => {
                let text = format!("ForRange {}", self.var_decl(*var));
                self.line(start.line, d, &text);
                self.expr(start, d + 1);
                self.expr(end, d + 1);
                self.block(0, d + 1, "Body", body);
            }
            S::ForArray { var, arr, body } => {
                let text = format!("ForArray {}", self.var_decl(*var));
                self.line(arr.line, d, &text);
                self.expr(arr, d + 1);
                self.block(0, d + 1, "Body", body);
            }
            S::ForMap { var, map, keys_ty, body } => {
                let text = format!("ForMap {} over a snapshot of the keys: {}", self.var_decl(*var), self.ty(*keys_ty));
                self.line(map.line, d, &text);
                self.expr(map, d + 1);
                self.block(0, d + 1, "Body", body);
            }
            S::Break(line) => self.line(*line, d, "Break"),
            S::Continue(line) => self.line(*line, d, "Continue"),
            S::Return(e, line) => {
                self.line(*line, d, "Return");
                if let Some(e) = e {
                    self.expr(e, d + 1);
                }
            }
            S::Block(b) => self.block(0, d, "Block", b),
            S::Try { body, var, handler, line } => {
                self.block(*line, d, "Try", body);
                let text = format!("Catch {}", self.var_decl(*var));
                self.block(0, d, &text, handler);
            }
            S::Throw(e, line) => {
                self.line(*line, d, "Throw");
                self.expr(e, d + 1);
            }
            S::Assert(c, msg, line) => {
                self.line(*line, d, "Assert");
                self.expr(c, d + 1);
                if let Some(m) = msg {
                    self.expr(m, d + 1);
                }
            }
        }
    }

    fn place(&mut self, p: &Place, line: u32, d: usize) {
        match p {
            Place::Var(v) => {
                let ty = self.c.vars.get(*v as usize).map(|x| self.ty(x.ty)).unwrap_or_default();
                let text = format!("Var {} : {ty}", self.var(*v));
                self.line(line, d, &text);
            }
            Place::Global(g) => {
                let text = self.global(*g);
                self.line(line, d, &text);
            }
            Place::Index(a, i) => {
                self.line(line, d, "Index");
                self.expr(a, d + 1);
                self.expr(i, d + 1);
            }
            Place::MapKey(m, k) => {
                self.line(line, d, "MapKey");
                self.expr(m, d + 1);
                self.expr(k, d + 1);
            }
            Place::Field(o, f) => {
                let text = format!("Field {}", self.field(o.ty, *f));
                self.line(line, d, &text);
                self.expr(o, d + 1);
            }
        }
    }

    fn global(&self, g: u32) -> String {
        let name = self.c.globals.get(g as usize).map(|x| x.name.as_str()).unwrap_or("?");
        format!("Global #{g} {name}")
    }

    /// `.name (field #i)`, the class found from the object's type.
    fn field(&self, obj: TypeId, f: u16) -> String {
        let name = match self.c.types.types.get(obj as usize) {
            Some(Type::Class(c)) => self
                .c
                .classes
                .get(*c as usize)
                .and_then(|k| k.fields.get(f as usize))
                .map(|x| x.0.as_str()),
            _ => None,
        };
        format!(".{} (field #{f})", name.unwrap_or("?"))
    }

    /// The interface method at a global slot: `Shape.area`.
    fn slot(&self, slot: u16) -> String {
        for i in &self.c.ifaces {
            let k = usize::from(slot).wrapping_sub(usize::from(i.first_slot));
            if let Some((n, ..)) = i.methods.get(k) {
                return format!("{}.{n}", i.name);
            }
        }
        "?".into()
    }

    fn expr(&mut self, e: &hir::Expr, d: usize) {
        stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || self.expr_at(e, d));
    }

    fn args(&mut self, args: &[hir::Expr], d: usize) {
        for a in args {
            self.expr(a, d);
        }
    }

    fn expr_at(&mut self, e: &hir::Expr, d: usize) {
        use hir::ExprKind as K;
        let ty = self.ty(e.ty);
        let node = |s: String| format!("{s} : {ty}");
        match &e.kind {
            K::Int(v) => self.line(e.line, d, &node(format!("Int {v}"))),
            K::Float(v) => self.line(e.line, d, &node(format!("Float {v:?}"))),
            K::Bool(v) => self.line(e.line, d, &node(format!("Bool {v}"))),
            K::Str(v) => self.line(e.line, d, &node(format!("Str {v:?}"))),
            K::Nil => self.line(e.line, d, &node("Nil".into())),
            K::Var(v) => {
                let text = node(format!("Var {}", self.var(*v)));
                self.line(e.line, d, &text);
            }
            K::Global(g) => {
                let text = node(self.global(*g));
                self.line(e.line, d, &text);
            }
            K::Func(f) => {
                let text = node(format!("Func {}", self.func_name(*f)));
                self.line(e.line, d, &text);
            }
            K::Unary(op, x) => {
                self.line(e.line, d, &node(format!("Unary {op:?}")));
                self.expr(x, d + 1);
            }
            K::Binary(op, a, b) => {
                self.line(e.line, d, &node(format!("Binary {op:?}")));
                self.expr(a, d + 1);
                self.expr(b, d + 1);
            }
            K::And(a, b) | K::Or(a, b) => {
                let what = if matches!(e.kind, K::And(..)) { "And" } else { "Or" };
                self.line(e.line, d, &node(what.into()));
                self.expr(a, d + 1);
                self.expr(b, d + 1);
            }
            K::Call(f, args) => {
                let text = node(format!("Call {}", self.func_name(*f)));
                self.line(e.line, d, &text);
                self.args(args, d + 1);
            }
            K::CallMethod(f, args) => {
                let text = node(format!("CallMethod {} (static: the class is known)", self.func_name(*f)));
                self.line(e.line, d, &text);
                self.args(args, d + 1);
            }
            K::CallIface(slot, args) => {
                let text = node(format!("CallIface slot {slot} {} (dynamic dispatch)", self.slot(*slot)));
                self.line(e.line, d, &text);
                self.args(args, d + 1);
            }
            K::CallClosure(f, args) => {
                self.line(e.line, d, &node("CallClosure".into()));
                self.expr(f, d + 1);
                self.args(args, d + 1);
            }
            K::CallNative(n, args) => {
                let text = node(format!("CallNative {} at {}", n.name, self.ty(n.sig)));
                self.line(e.line, d, &text);
                self.args(args, d + 1);
            }
            K::Op(op, args) => {
                self.line(e.line, d, &node(format!("Op {op:?}")));
                self.args(args, d + 1);
            }
            K::New(c, args) => {
                let name = self.c.classes.get(*c as usize).map(|k| k.name.as_str()).unwrap_or("?");
                self.line(e.line, d, &node(format!("New #{c} {name}")));
                self.args(args, d + 1);
            }
            K::Field(o, f) => {
                let text = node(format!("Field {}", self.field(o.ty, *f)));
                self.line(e.line, d, &text);
                self.expr(o, d + 1);
            }
            K::Index(a, i) | K::MapGet(a, i) => {
                let what = if matches!(e.kind, K::Index(..)) { "Index" } else { "MapGet" };
                self.line(e.line, d, &node(what.into()));
                self.expr(a, d + 1);
                self.expr(i, d + 1);
            }
            K::Array(items) => {
                self.line(e.line, d, &node(format!("Array ({} elements)", items.len())));
                self.args(items, d + 1);
            }
            K::Map(items) => {
                self.line(e.line, d, &node(format!("Map ({} entries)", items.len())));
                for (k, v) in items {
                    self.line(k.line, d + 1, "Entry");
                    self.expr(k, d + 2);
                    self.expr(v, d + 2);
                }
            }
            K::Lambda(f, caps) => {
                let caps: Vec<String> = caps.iter().map(|v| self.var(*v)).collect();
                let text = node(format!("Lambda {} captures [{}]", self.func_name(*f), caps.join(", ")));
                self.line(e.line, d, &text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_positions_kinds_and_values() {
        let out = dump_tokens("t.pvm", "fn main() {\n  let x = 0x1F; // c\n}").expect("lexes");
        assert!(out.contains("1:1       Fn         fn\n"), "{out}");
        assert!(out.contains("2:11      Int        0x1F  = 31\n"), "{out}");
        assert!(out.ends_with("\n11 tokens\n"), "{out}");
        assert!(dump_tokens("t.pvm", "let s = \"\\q\";").is_err());
    }

    #[test]
    fn lexical_errors_are_listed_among_the_tokens() {
        let (out, err) = dump_tokens_partial("t.pvm", "let x = 1 @ 2;\nlet s = \"abc;\nlet y = 3;");
        assert!(
            out.contains("1:9       Int        1\n1:11      error      unexpected character `@`\n1:13      Int        2\n"),
            "{out}"
        );
        assert!(out.contains("2:9       error      unterminated string literal\n"), "{out}");
        assert!(out.ends_with(" tokens, 2 lexical errors\n"), "{out}");
        assert_eq!(err.map(|e| e.errors().len()), Some(2));
    }

    #[test]
    fn ast_is_an_indented_tree() {
        let out = dump_ast("t.pvm", "fn main() {\n  let x = 1 + 2;\n}").expect("parses");
        assert!(
            out.contains("2:3             Let x\n2:11              Binary +\n2:11                Int 1\n"),
            "{out}"
        );
        assert!(dump_ast("t.pvm", "fn main() { let = ; }").is_err());
    }

    #[test]
    fn hir_shows_types_cells_and_captures() {
        let src = "fn main() {\n  let n = 0;\n  let k = 5;\n  let inc = fn() { n += k; };\n  inc();\n}\n";
        let opts = Options::default();
        let out = dump_hir("t.pvm", src, &opts).expect("checks");
        assert!(out.contains("Let n#0 (cell): int"), "{out}");
        assert!(out.contains("Let k#1: int"), "{out}");
        assert!(out.contains("captures [n#0 (cell), k#1]"), "{out}");
        assert!(out.contains("shares the cell of n#0 (cell)"), "{out}");
        assert!(out.contains("copy of k#1"), "{out}");
        assert!(out.contains("Binary AddI : int") || out.contains("Compound AddI"), "{out}");
        assert!(dump_hir("t.pvm", "fn main() { let x: int = \"s\"; }", &opts).is_err());
    }
}
