//! The syntax tree, exactly as written, allocated in a [`bumpalo`] arena.
//!
//! The parser builds these nodes; the checker reads them and produces the
//! typed [`crate::hir`]. Every node that can be the subject of an error
//! carries a [`Span`] (byte offsets into its file). Lists are arena slices,
//! so a whole file's tree is freed at once when the arena is dropped.

/// Byte range in the file being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Ident<'a> {
    pub name: &'a str,
    pub span: Span,
}

#[derive(Debug)]
pub enum TypeExpr<'a> {
    Named(Ident<'a>),
    Array(&'a TypeExpr<'a>, Span),
    Map(&'a TypeExpr<'a>, &'a TypeExpr<'a>, Span),
    Func(&'a [TypeExpr<'a>], Option<&'a TypeExpr<'a>>, Span),
}

impl TypeExpr<'_> {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Array(_, s) | TypeExpr::Map(_, _, s) | TypeExpr::Func(_, _, s) => *s,
        }
    }
}

#[derive(Debug)]
pub struct File<'a> {
    pub items: &'a [Item<'a>],
}

#[derive(Debug)]
pub enum Item<'a> {
    Import(&'a str, Span),
    Global(GlobalDecl<'a>),
    Fn(&'a FnDecl<'a>),
    Class(ClassDecl<'a>),
    Interface(InterfaceDecl<'a>),
    /// A declaration the parser could not make sense of (already reported).
    Error,
}

#[derive(Debug)]
pub struct GlobalDecl<'a> {
    pub name: Ident<'a>,
    pub ty: Option<&'a TypeExpr<'a>>,
    pub init: &'a Expr<'a>,
}

#[derive(Debug)]
pub struct Param<'a> {
    pub name: Ident<'a>,
    pub ty: &'a TypeExpr<'a>,
}

/// A function, method or lambda. Methods have `has_self`.
#[derive(Debug)]
pub struct FnDecl<'a> {
    pub name: Ident<'a>,
    pub has_self: bool,
    pub params: &'a [Param<'a>],
    pub ret: Option<&'a TypeExpr<'a>>,
    pub body: &'a Block<'a>,
    pub span: Span,
}

#[derive(Debug)]
pub struct FieldDecl<'a> {
    pub name: Ident<'a>,
    pub ty: &'a TypeExpr<'a>,
}

#[derive(Debug)]
pub enum Member<'a> {
    Field(FieldDecl<'a>),
    Method(&'a FnDecl<'a>),
}

#[derive(Debug)]
pub struct ClassDecl<'a> {
    pub name: Ident<'a>,
    pub implements: &'a [Ident<'a>],
    pub members: &'a [Member<'a>],
}

/// A method signature inside an interface.
#[derive(Debug)]
pub struct MethodSig<'a> {
    pub name: Ident<'a>,
    pub has_self: bool,
    pub params: &'a [Param<'a>],
    pub ret: Option<&'a TypeExpr<'a>>,
    pub span: Span,
}

#[derive(Debug)]
pub struct InterfaceDecl<'a> {
    pub name: Ident<'a>,
    pub methods: &'a [MethodSig<'a>],
}

#[derive(Debug)]
pub struct Block<'a> {
    pub stmts: &'a [Stmt<'a>],
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug)]
pub enum Stmt<'a> {
    Let {
        name: Ident<'a>,
        ty: Option<&'a TypeExpr<'a>>,
        init: &'a Expr<'a>,
        span: Span,
    },
    Assign {
        target: &'a Expr<'a>,
        op: AssignOp,
        value: &'a Expr<'a>,
        span: Span,
    },
    Expr(&'a Expr<'a>),
    If {
        cond: &'a Expr<'a>,
        then: &'a Block<'a>,
        els: Option<&'a Stmt<'a>>,
        span: Span,
    },
    While {
        cond: &'a Expr<'a>,
        body: &'a Block<'a>,
        span: Span,
    },
    ForRange {
        var: Ident<'a>,
        start: &'a Expr<'a>,
        end: &'a Expr<'a>,
        body: &'a Block<'a>,
        span: Span,
    },
    ForIn {
        var: Ident<'a>,
        iter: &'a Expr<'a>,
        body: &'a Block<'a>,
        span: Span,
    },
    Break(Span),
    Continue(Span),
    Return(Option<&'a Expr<'a>>, Span),
    Block(&'a Block<'a>),
    Try {
        body: &'a Block<'a>,
        var: Ident<'a>,
        handler: &'a Block<'a>,
        span: Span,
    },
    Throw(&'a Expr<'a>, Span),
    /// A `let` whose initializer the parser could not make sense of
    /// (already reported): the name is still declared, with its annotated
    /// type or the error type, so its uses report nothing more.
    LetError {
        name: Ident<'a>,
        ty: Option<&'a TypeExpr<'a>>,
        span: Span,
    },
    /// A statement the parser could not make sense of (already reported).
    Error,
}

impl Stmt<'_> {
    /// Where the statement is, for messages (an unparsable one: nowhere).
    pub fn span(&self) -> Span {
        match self {
            Stmt::Let { span, .. }
            | Stmt::LetError { span, .. }
            | Stmt::Assign { span, .. }
            | Stmt::If { span, .. }
            | Stmt::While { span, .. }
            | Stmt::ForRange { span, .. }
            | Stmt::ForIn { span, .. }
            | Stmt::Try { span, .. }
            | Stmt::Break(span)
            | Stmt::Continue(span)
            | Stmt::Return(_, span)
            | Stmt::Throw(_, span) => *span,
            Stmt::Expr(e) => e.span,
            Stmt::Block(b) => b.span,
            Stmt::Error => Span::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Rem => "%",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            Shl => "<<",
            Shr => ">>",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            And => "&&",
            Or => "||",
        }
    }
}

#[derive(Debug)]
pub struct Expr<'a> {
    pub kind: ExprKind<'a>,
    pub span: Span,
}

#[derive(Debug)]
pub enum ExprKind<'a> {
    /// Integer literal; values above `i64::MAX` are rejected by the checker
    /// unless negated to exactly `i64::MIN`.
    Int(u64),
    Float(f64),
    Str(&'a str),
    Bool(bool),
    Nil,
    Name(&'a str),
    SelfRef,
    Array(&'a [&'a Expr<'a>]),
    Map(&'a [(&'a Expr<'a>, &'a Expr<'a>)]),
    Unary(UnOp, &'a Expr<'a>),
    Binary(BinOp, &'a Expr<'a>, &'a Expr<'a>),
    Call(&'a Expr<'a>, &'a [&'a Expr<'a>]),
    Index(&'a Expr<'a>, &'a Expr<'a>),
    Field(&'a Expr<'a>, Ident<'a>),
    Lambda(&'a FnDecl<'a>),
    /// `(e)`: kept so that `-(9223372036854775808)` stays an error.
    Paren(&'a Expr<'a>),
}
