//! Native signatures: the [`Ty`] of each parameter and result, the
//! declaration syntax of the prelude, and how a signature is matched
//! against the concrete types of a module.
//!
//! The prelude's grammar is small enough to read by hand, so the VM can
//! read it without linking the compiler's parser:
//!
//! ```text
//! decl      := "internal"? "native" "fn" NAME generics? "(" params? ")" ("->" type)? ";"
//!            | "intrinsic" NAME ("," NAME)* ";"
//! generics  := "<" NAME ("," NAME)* ">"
//! params    := NAME ":" type ("," NAME ":" type)*
//! type      := "int" | "float" | "bool" | "str" | GENERIC
//!            | "[" type "]" | "{" type ":" type "}" | "fn" "(" types? ")" ("->" type)?
//! ```
//! `//` comments run to the end of the line.

use pvm_bytecode::{Type, TypeId};
use std::fmt;

/// A type in a native signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    /// The result of a function that returns nothing.
    Void,
    Int,
    Float,
    Bool,
    Str,
    Array(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Func(Vec<Ty>, Box<Ty>),
    /// The n-th generic parameter of the signature.
    Var(u8),
}

/// The signature of a native function: a built-in or a host function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeSig {
    pub name: String,
    /// Parameter names (for messages and documentation) and types.
    pub params: Vec<(String, Ty)>,
    pub ret: Ty,
    /// Number of generic parameters (`T`, `U`...), referred to as [`Ty::Var`].
    pub generics: u8,
    /// Used by the compiler for an intrinsic; not callable by name.
    pub internal: bool,
    /// Names of the generic parameters, for display.
    pub generic_names: Vec<String>,
}

impl NativeSig {
    /// A non-generic signature (how a host function is described).
    pub fn new(name: &str, params: Vec<Ty>, ret: Ty) -> NativeSig {
        NativeSig {
            name: name.to_string(),
            params: params.into_iter().enumerate().map(|(i, t)| (format!("a{i}"), t)).collect(),
            ret,
            generics: 0,
            internal: false,
            generic_names: Vec::new(),
        }
    }

    /// The parameter types.
    pub fn param_types(&self) -> impl Iterator<Item = &Ty> {
        self.params.iter().map(|(_, t)| t)
    }

    /// Whether the function type `sig` of a module's type table is an
    /// instance of this signature: equal, with each generic parameter
    /// standing for one and the same type throughout. This is the linker's
    /// check: a module that imports `split` must import it with exactly the
    /// type `fn(str, str) -> [str]`.
    pub fn matches(&self, types: &[Type], sig: TypeId) -> bool {
        let Some(Type::Func(ps, r)) = types.get(sig as usize) else {
            return false;
        };
        if ps.len() != self.params.len() {
            return false;
        }
        let mut bound = vec![None; self.generics as usize];
        self.param_types().zip(ps).all(|(t, p)| t.matches(types, *p, &mut bound)) && self.ret.matches(types, *r, &mut bound)
    }
}

impl Ty {
    /// Whether type `id` of a module's table is this type, binding generic
    /// parameters on first sight (see [`NativeSig::matches`]).
    pub fn matches(&self, types: &[Type], id: TypeId, bound: &mut [Option<TypeId>]) -> bool {
        let Some(t) = types.get(id as usize) else {
            return false;
        };
        match (self, t) {
            (Ty::Void, Type::Void) | (Ty::Int, Type::Int) | (Ty::Float, Type::Float) | (Ty::Bool, Type::Bool) | (Ty::Str, Type::Str) => {
                true
            }
            (Ty::Array(e), Type::Array(x)) => e.matches(types, *x, bound),
            (Ty::Map(k, v), Type::Map(a, b)) => k.matches(types, *a, bound) && v.matches(types, *b, bound),
            (Ty::Func(ps, r), Type::Func(xs, y)) => {
                ps.len() == xs.len() && ps.iter().zip(xs).all(|(p, x)| p.matches(types, *x, bound)) && r.matches(types, *y, bound)
            }
            (Ty::Var(n), _) => {
                // A generic parameter stands for a value type: never `void`
                // or the checker's internal types.
                if matches!(t, Type::Void | Type::Nil | Type::Error | Type::Cell(_)) {
                    return false;
                }
                match bound.get_mut(*n as usize) {
                    Some(slot @ None) => {
                        *slot = Some(id);
                        true
                    }
                    Some(Some(b)) => *b == id,
                    None => false,
                }
            }
            _ => false,
        }
    }

    /// The type in source syntax, naming generic parameters by `names`.
    pub fn to_string_with(&self, names: &[String]) -> String {
        struct D<'t>(&'t Ty, &'t [String]);
        impl fmt::Display for D<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_with(f, self.1)
            }
        }
        D(self, names).to_string()
    }

    fn fmt_with(&self, f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
        match self {
            Ty::Void => f.write_str("void"),
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Bool => f.write_str("bool"),
            Ty::Str => f.write_str("str"),
            Ty::Array(e) => {
                f.write_str("[")?;
                e.fmt_with(f, names)?;
                f.write_str("]")
            }
            Ty::Map(k, v) => {
                f.write_str("{")?;
                k.fmt_with(f, names)?;
                f.write_str(": ")?;
                v.fmt_with(f, names)?;
                f.write_str("}")
            }
            Ty::Func(ps, r) => {
                f.write_str("fn(")?;
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    p.fmt_with(f, names)?;
                }
                f.write_str(")")?;
                if **r != Ty::Void {
                    f.write_str(" -> ")?;
                    r.fmt_with(f, names)?;
                }
                Ok(())
            }
            Ty::Var(n) => match names.get(*n as usize) {
                Some(s) => f.write_str(s),
                None => write!(f, "T{n}"),
            },
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_with(f, &[])
    }
}

impl fmt::Display for NativeSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fn {}", self.name)?;
        if !self.generic_names.is_empty() {
            write!(f, "<{}>", self.generic_names.join(", "))?;
        }
        f.write_str("(")?;
        for (i, (n, t)) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}: ")?;
            t.fmt_with(f, &self.generic_names)?;
        }
        f.write_str(")")?;
        if self.ret != Ty::Void {
            f.write_str(" -> ")?;
            self.ret.fmt_with(f, &self.generic_names)?;
        }
        Ok(())
    }
}

/// A syntax error in a declaration file, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'s> {
    Ident(&'s str),
    Punct(&'s str),
}

fn tokenize(src: &str) -> Result<Vec<(Tok<'_>, usize)>, ParseError> {
    let mut out = Vec::new();
    for (ln, line) in src.lines().enumerate() {
        let line_no = ln + 1;
        let code = line.split("//").next().unwrap_or("");
        let b = code.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
            } else if c.is_ascii_alphabetic() || c == b'_' {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push((Tok::Ident(&code[s..i]), line_no));
            } else if code[i..].starts_with("->") {
                out.push((Tok::Punct("->"), line_no));
                i += 2;
            } else if b"()[]{}<>:;,".contains(&c) {
                out.push((Tok::Punct(&code[i..i + 1]), line_no));
                i += 1;
            } else {
                return Err(ParseError {
                    line: line_no,
                    message: format!("unexpected character `{}`", code[i..].chars().next().unwrap_or('?')),
                });
            }
        }
    }
    Ok(out)
}

struct Parser<'s> {
    toks: Vec<(Tok<'s>, usize)>,
    pos: usize,
    generics: Vec<String>,
}

impl<'s> Parser<'s> {
    fn line(&self) -> usize {
        self.toks.get(self.pos).or_else(|| self.toks.last()).map(|t| t.1).unwrap_or(1)
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            line: self.line(),
            message: msg.into(),
        })
    }

    fn peek(&self) -> Option<&Tok<'s>> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn eat(&mut self, p: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Punct(x)) if *x == p) || matches!(self.peek(), Some(Tok::Ident(x)) if *x == p);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, p: &str) -> Result<(), ParseError> {
        if self.eat(p) {
            Ok(())
        } else {
            self.err(format!("expected `{p}`"))
        }
    }

    fn ident(&mut self) -> Result<&'s str, ParseError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = *s;
                self.pos += 1;
                Ok(s)
            }
            _ => self.err("expected a name"),
        }
    }

    fn ty(&mut self) -> Result<Ty, ParseError> {
        if self.eat("[") {
            let e = self.ty()?;
            self.expect("]")?;
            return Ok(Ty::Array(Box::new(e)));
        }
        if self.eat("{") {
            let k = self.ty()?;
            self.expect(":")?;
            let v = self.ty()?;
            self.expect("}")?;
            return Ok(Ty::Map(Box::new(k), Box::new(v)));
        }
        if self.eat("fn") {
            self.expect("(")?;
            let mut ps = Vec::new();
            if !self.eat(")") {
                loop {
                    ps.push(self.ty()?);
                    if self.eat(")") {
                        break;
                    }
                    self.expect(",")?;
                }
            }
            let r = if self.eat("->") { self.ty()? } else { Ty::Void };
            return Ok(Ty::Func(ps, Box::new(r)));
        }
        let name = self.ident()?;
        Ok(match name {
            "int" => Ty::Int,
            "float" => Ty::Float,
            "bool" => Ty::Bool,
            "str" => Ty::Str,
            other => match self.generics.iter().position(|g| g == other) {
                Some(i) => Ty::Var(i as u8),
                None => return self.err(format!("unknown type `{other}`")),
            },
        })
    }

    fn native(&mut self, internal: bool) -> Result<NativeSig, ParseError> {
        self.expect("fn")?;
        let name = self.ident()?.to_string();
        self.generics.clear();
        if self.eat("<") {
            loop {
                let g = self.ident()?.to_string();
                self.generics.push(g);
                if self.eat(">") {
                    break;
                }
                self.expect(",")?;
            }
        }
        self.expect("(")?;
        let mut params = Vec::new();
        if !self.eat(")") {
            loop {
                let pname = self.ident()?.to_string();
                self.expect(":")?;
                params.push((pname, self.ty()?));
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        let ret = if self.eat("->") { self.ty()? } else { Ty::Void };
        self.expect(";")?;
        let generics = u8::try_from(self.generics.len()).or_else(|_| self.err("too many generic parameters"))?;
        Ok(NativeSig {
            name,
            params,
            ret,
            generics,
            internal,
            generic_names: std::mem::take(&mut self.generics),
        })
    }
}

/// Parses a declaration file (the prelude's syntax): returns its natives
/// and its intrinsic names.
pub fn parse_declarations(src: &str) -> Result<(Vec<NativeSig>, Vec<String>), ParseError> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
        generics: Vec::new(),
    };
    let mut natives = Vec::new();
    let mut intrinsics = Vec::new();
    while p.peek().is_some() {
        if p.eat("intrinsic") {
            loop {
                intrinsics.push(p.ident()?.to_string());
                if p.eat(";") {
                    break;
                }
                p.expect(",")?;
            }
        } else if p.eat("internal") {
            p.expect("native")?;
            natives.push(p.native(true)?);
        } else if p.eat("native") {
            natives.push(p.native(false)?);
        } else {
            return p.err("expected `native`, `internal native` or `intrinsic`");
        }
    }
    Ok((natives, intrinsics))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let (n, i) = parse_declarations(
            "// c\nnative fn a(x: int, y: [str]) -> {str: float};\ninternal native fn b();\n\
             native fn c<T, U>(f: fn(T) -> U, xs: [T]) -> [U];\nintrinsic len, str;",
        )
        .expect("parses");
        assert_eq!(n.len(), 3);
        assert_eq!(n[0].to_string(), "fn a(x: int, y: [str]) -> {str: float}");
        assert!(n[1].internal && n[1].params.is_empty() && n[1].ret == Ty::Void);
        assert_eq!(n[2].generics, 2);
        assert_eq!(n[2].params[0].1, Ty::Func(vec![Ty::Var(0)], Box::new(Ty::Var(1))));
        assert_eq!(i, vec!["len".to_string(), "str".to_string()]);
    }

    #[test]
    fn reports_errors_with_lines() {
        let e = parse_declarations("native fn a(x: int);\nnative fn b(x: Foo);").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("Foo"));
        assert!(parse_declarations("native fn a(x: int)").is_err());
        assert!(parse_declarations("fn a();").is_err());
        assert!(parse_declarations("native fn a(x: int) $").is_err());
    }

    #[test]
    fn matching_binds_generics_consistently() {
        // 0 int, 1 str, 2 [int], 3 [str], 4 bool, 5 fn(int, int) -> bool, 6 fn([int], fn(int,int)->bool), 7 fn([str], fn(int,int)->bool)
        let types = vec![
            Type::Int,
            Type::Str,
            Type::Array(0),
            Type::Array(1),
            Type::Bool,
            Type::Func(vec![0, 0], 4),
            Type::Void,
            Type::Func(vec![2, 5], 6),
            Type::Func(vec![3, 5], 6),
        ];
        let (n, _) = parse_declarations("native fn sort_by<T>(a: [T], less: fn(T, T) -> bool);").expect("parses");
        assert!(n[0].matches(&types, 7));
        assert!(!n[0].matches(&types, 8), "T bound to str then int");
        assert!(!n[0].matches(&types, 5), "wrong arity");
        assert!(!n[0].matches(&types, 99), "out of range");
    }
}
