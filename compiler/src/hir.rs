//! The typed intermediate tree the checker produces and the emitter consumes.
//!
//! Where the AST says `a + b`, the HIR says `AddF(a, b)` with the type
//! `float` attached; names are resolved to variables, globals or functions;
//! method calls know whether they dispatch statically or through an
//! interface; built-in calls are resolved to a specific operation. The
//! emitter never has to look anything up or decide a type.

use crate::bytecode::TypeId;

pub type VarId = u32;

/// A local variable (or parameter, or captured copy in a lambda).
#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub ty: TypeId,
    /// The variable this one is a captured view of (itself if not a capture).
    pub origin: VarId,
    /// Set on the origin: some lambda captures it.
    pub captured: bool,
    /// Set on the origin: assigned after its declaration, anywhere.
    pub assigned: bool,
}

#[derive(Debug, Clone)]
pub struct Func {
    pub name: String,
    pub kind: crate::bytecode::FuncKind,
    pub file: u16,
    pub params: Vec<VarId>,
    /// (variable in the enclosing function, variable inside this lambda).
    pub captures: Vec<(VarId, VarId)>,
    pub ret: TypeId,
    pub body: Vec<Stmt>,
    /// Line of the closing of the body, for the implicit return.
    pub end_line: u32,
}

#[derive(Debug, Clone)]
pub enum Place {
    Var(VarId),
    Global(u32),
    Index(Expr, Expr),
    MapKey(Expr, Expr),
    Field(Expr, u16),
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Let(VarId, Expr),
    Assign(Place, Expr, u32),
    /// `place op= value`: the place is read before `value` is evaluated.
    Compound(Place, Bin, Expr, u32),
    Expr(Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    While(Expr, Vec<Stmt>),
    ForRange {
        var: VarId,
        start: Expr,
        end: Expr,
        body: Vec<Stmt>,
    },
    ForArray {
        var: VarId,
        arr: Expr,
        body: Vec<Stmt>,
    },
    /// Iterates a snapshot of the keys; `keys_ty` is the `[K]` type.
    ForMap {
        var: VarId,
        map: Expr,
        keys_ty: TypeId,
        body: Vec<Stmt>,
    },
    Break(u32),
    Continue(u32),
    Return(Option<Expr>, u32),
    Block(Vec<Stmt>),
    Try {
        body: Vec<Stmt>,
        var: VarId,
        handler: Vec<Stmt>,
        line: u32,
    },
    Throw(Expr, u32),
    Assert(Expr, Option<Expr>, u32),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub ty: TypeId,
    pub line: u32,
    pub kind: ExprKind,
}

/// Typed binary operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    AddI,
    SubI,
    MulI,
    DivI,
    ModI,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    EqI,
    NeI,
    LtI,
    LeI,
    GtI,
    GeI,
    AddF,
    SubF,
    MulF,
    DivF,
    ModF,
    EqF,
    NeF,
    LtF,
    LeF,
    GtF,
    GeF,
    EqB,
    NeB,
    EqRef,
    NeRef,
    Concat,
    EqS,
    NeS,
    LtS,
    LeS,
    GtS,
    GeS,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Un {
    NegI,
    NegF,
    Not,
    BitNot,
}

/// Built-in operations that compile to dedicated instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ArrayLen,
    StrLen,
    MapLen,
    Push,
    Pop,
    Sort,
    Has,
    Remove,
    Keys,
    /// `array(n, x)`
    Fill,
    IntToFloat,
    FloatToInt,
    AbsI,
    AbsF,
    MinI,
    MaxI,
    MinF,
    MaxF,
    Sqrt,
    ToStr,
}

/// Which native a call imports: its name and the (instantiated) function
/// type it is called at. The VM links it by both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NativeCall {
    pub name: String,
    pub sig: TypeId,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Nil,
    Var(VarId),
    Global(u32),
    /// A top-level function used as a value.
    Func(u16),
    Unary(Un, Box<Expr>),
    Binary(Bin, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Call(u16, Vec<Expr>),
    /// Static call of a class method; `args[0]` is `self`.
    CallMethod(u16, Vec<Expr>),
    /// Interface dispatch through a global method slot; `args[0]` is `self`.
    CallIface(u16, Vec<Expr>),
    CallClosure(Box<Expr>, Vec<Expr>),
    /// A native function (built-in or host); the emitter records the import.
    CallNative(NativeCall, Vec<Expr>),
    Op(Op, Vec<Expr>),
    New(u16, Vec<Expr>),
    Field(Box<Expr>, u16),
    Index(Box<Expr>, Box<Expr>),
    MapGet(Box<Expr>, Box<Expr>),
    Array(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    /// A lambda: its function and the enclosing variables it captures.
    Lambda(u16, Vec<VarId>),
}
