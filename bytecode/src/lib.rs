//! # pvm-bytecode: what the compiler produces and the VM runs
//!
//! A [`Module`] is a whole program after linking all imported files: a type
//! table, a constant pool, functions (each with typed registers, code and a
//! line table), classes, interfaces, globals and the native functions it
//! imports by name. It is plain data. Nothing runs it before the
//! [`verify`] module has proved it safe, whoever produced it.
//!
//! This crate depends on no parser and no runtime: a host that only loads
//! `.pvmc` files, a tool that inspects them, and the JIT all use it alone.
//!
//! * [`opcodes`]: the instruction table, one row per instruction.
//! * [`format`]: the binary `.pvmc` encoding.
//! * [`verify`]: the verifier, the safety boundary between bytes and the VM.
//! * [`layout`]: object and frame offsets, for code generated from bytecode.
//! * [`disasm`]: the human-readable listing used by `pvm dis`.

pub mod disasm;
pub mod format;
pub mod layout;
pub mod opcodes;
pub mod verify;

pub use opcodes::{Instr, OperandKind, Reg, TABLE};

/// Index into [`Module::types`].
pub type TypeId = u16;

/// A type of the language, as the bytecode sees it. Composite types refer
/// to other entries of the type table by index; the table is ordered so
/// that a type only refers to types before it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// The "type" of a function that returns nothing.
    Void,
    Int,
    Float,
    Bool,
    Str,
    /// The type of the `nil` literal before context gives it a reference type.
    Nil,
    Array(TypeId),
    Map(TypeId, TypeId),
    Func(Vec<TypeId>, TypeId),
    Class(u16),
    Interface(u16),
    /// A heap cell holding a variable that closures capture by reference.
    Cell(TypeId),
    /// Produced by the checker after an error. Every module's type table
    /// lists it (the checker's built-in types come first, and the emitter
    /// copies the whole table), but the verifier rejects a global, field,
    /// register or function result of this type, so no value ever has it.
    Error,
}

impl Type {
    /// Whether values of this type are pointers the garbage collector must trace.
    pub fn is_ref(&self) -> bool {
        matches!(
            self,
            Type::Str | Type::Nil | Type::Array(_) | Type::Map(..) | Type::Func(..) | Type::Class(_) | Type::Interface(_) | Type::Cell(_)
        )
    }
}

/// A constant-pool entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Int(i64),
    Float(f64),
    Str(String),
}

/// What kind of code a function is; decides how it is named in stack traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuncKind {
    /// A top-level `fn`.
    Function,
    /// A method; its name is `Class.method`.
    Method,
    /// A lambda; shown as `<lambda>`.
    Lambda,
    /// The global initialisers of one file; shown as `<init>`.
    Init,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// The name shown in stack traces (`main`, `Point.norm`, `<lambda>`, `<init>`).
    pub name: String,
    pub kind: FuncKind,
    /// Index into [`Module::files`].
    pub file: u16,
    /// Parameter count. Parameters arrive in registers `0..params`, and a
    /// closure's captured values follow them in `params..params+captures`.
    pub params: u16,
    pub captures: u16,
    /// The type of every register; `regs.len()` is the frame size.
    pub regs: Vec<TypeId>,
    /// Return type (`Void` for none).
    pub ret: TypeId,
    pub code: Vec<Instr>,
    /// Source line of each instruction (same length as `code`).
    pub lines: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: TypeId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub name: String,
    pub fields: Vec<Field>,
    /// (method name, function index); the function's first parameter is `self`.
    pub methods: Vec<(String, u16)>,
    /// Interfaces this class implements.
    pub interfaces: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    pub name: String,
    /// (method name, function type without `self`).
    pub methods: Vec<(String, TypeId)>,
    /// The global slot of this interface's first method: `CallIface` uses
    /// `first_slot + index`.
    pub first_slot: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Global {
    pub name: String,
    pub ty: TypeId,
}

/// A native function the module calls, resolved by name when the VM loads it.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeImport {
    pub name: String,
    /// A `Type::Func` entry giving the signature the VM must provide.
    pub sig: TypeId,
}

/// A complete, linked program.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Module {
    pub types: Vec<Type>,
    pub consts: Vec<Const>,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    pub interfaces: Vec<Interface>,
    pub globals: Vec<Global>,
    pub natives: Vec<NativeImport>,
    /// Source file paths, as shown in messages.
    pub files: Vec<String>,
    /// Functions run in order before `main`: each file's global initialisers.
    pub inits: Vec<u16>,
    /// The `main` function, if the program has one (a library loaded by an
    /// embedding host need not).
    pub main: Option<u16>,
}

impl Module {
    /// Renders a type for messages, e.g. `{str: [int]}`.
    pub fn type_name(&self, t: TypeId) -> String {
        render_type(&self.types, t, &|ty| match ty {
            Type::Class(c) => self
                .classes
                .get(*c as usize)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| format!("<class {c}>")),
            Type::Interface(i) => self
                .interfaces
                .get(*i as usize)
                .map(|i| i.name.clone())
                .unwrap_or_else(|| format!("<interface {i}>")),
            _ => String::new(),
        })
    }
}

/// Rendered types are cut at this many bytes (with `…`): a hostile type
/// table can describe types whose text would be exponentially long.
pub const MAX_TYPE_TEXT: usize = 1000;

/// Renders type `t` of a type table in source syntax, e.g. `{str: [int]}`;
/// `name` gives the names of classes and interfaces. Iterative (a type can
/// be nested arbitrarily deep) and cut at [`MAX_TYPE_TEXT`] bytes.
pub fn render_type(types: &[Type], t: TypeId, name: &dyn Fn(&Type) -> String) -> String {
    enum Job<'t> {
        Type(TypeId),
        Text(&'static str),
        /// Parameters of a function type from index `i`, then its result.
        Params(&'t [TypeId], usize, TypeId),
    }
    let mut out = String::new();
    let mut jobs = vec![Job::Type(t)];
    while let Some(job) = jobs.pop() {
        if out.len() > MAX_TYPE_TEXT {
            out.truncate(out.floor_char_boundary(MAX_TYPE_TEXT));
            out.push('…');
            break;
        }
        match job {
            Job::Text(s) => out.push_str(s),
            Job::Params(ps, i, ret) => {
                if i < ps.len() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    jobs.push(Job::Params(ps, i + 1, ret));
                    jobs.push(Job::Type(ps[i]));
                } else {
                    out.push(')');
                    if !matches!(types.get(ret as usize), Some(Type::Void)) {
                        out.push_str(" -> ");
                        jobs.push(Job::Type(ret));
                    }
                }
            }
            Job::Type(t) => match types.get(t as usize) {
                None => out.push_str(&format!("<bad type {t}>")),
                Some(ty) => match ty {
                    Type::Void => out.push_str("void"),
                    Type::Int => out.push_str("int"),
                    Type::Float => out.push_str("float"),
                    Type::Bool => out.push_str("bool"),
                    Type::Str => out.push_str("str"),
                    Type::Nil => out.push_str("nil"),
                    Type::Error => out.push_str("<error>"),
                    Type::Array(e) => {
                        out.push('[');
                        jobs.push(Job::Text("]"));
                        jobs.push(Job::Type(*e));
                    }
                    Type::Map(k, v) => {
                        out.push('{');
                        jobs.push(Job::Text("}"));
                        jobs.push(Job::Type(*v));
                        jobs.push(Job::Text(": "));
                        jobs.push(Job::Type(*k));
                    }
                    Type::Cell(e) => {
                        out.push_str("cell<");
                        jobs.push(Job::Text(">"));
                        jobs.push(Job::Type(*e));
                    }
                    Type::Func(ps, ret) => {
                        out.push_str("fn(");
                        jobs.push(Job::Params(ps, 0, *ret));
                    }
                    Type::Class(_) | Type::Interface(_) => out.push_str(&name(ty)),
                },
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_render_in_source_syntax() {
        let types = vec![
            Type::Int,
            Type::Str,
            Type::Array(0),
            Type::Map(1, 2),
            Type::Void,
            Type::Func(vec![0, 3], 4),
            Type::Func(vec![], 2),
        ];
        let n = |_: &Type| String::new();
        assert_eq!(render_type(&types, 3, &n), "{str: [int]}");
        assert_eq!(render_type(&types, 5, &n), "fn(int, {str: [int]})");
        assert_eq!(render_type(&types, 6, &n), "fn() -> [int]");
        assert_eq!(render_type(&types, 9, &n), "<bad type 9>");
    }

    #[test]
    fn exponential_and_deep_types_are_cut() {
        // t(i+1) = {t(i): t(i)}: the text of t(60) would be 2^60 long.
        let mut types = vec![Type::Int];
        for i in 0..60 {
            types.push(Type::Map(i, i));
        }
        // and [[[[...]]]] 100,000 deep
        for i in 0..100_000u32 {
            types.push(Type::Array((60 + i) as TypeId));
            if types.len() > u16::MAX as usize {
                break;
            }
        }
        let n = |_: &Type| String::new();
        let s = render_type(&types, 60, &n);
        assert!(s.len() <= MAX_TYPE_TEXT + 4 && s.ends_with('…'), "{}", s.len());
        let d = render_type(&types, (types.len() - 1) as TypeId, &n);
        assert!(d.starts_with("[[[[") && d.ends_with('…'));
    }
}
