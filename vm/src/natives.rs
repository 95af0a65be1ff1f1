//! Native functions: the built-ins written in Rust, and the registry a
//! host program uses to add its own.
//!
//! A native has a name, a signature in pvm types and a Rust function
//! `fn(&mut Vm, &[u64]) -> Result<u64, Trap>`. A module lists the natives it
//! calls by name and signature; when the VM loads the module it looks each
//! one up here and refuses the module if one is missing or its signature
//! differs. The standard built-ins go through exactly this path.

use crate::{Trap, Vm};
use pvm_compiler::bytecode::{Module, Type, TypeId};
use std::collections::HashMap;
use std::io::BufRead;

/// A pvm type in a native signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValType {
    Void,
    Int,
    Float,
    Bool,
    Str,
    Array(Box<ValType>),
}

impl ValType {
    /// Whether this is the module's type `t`.
    pub fn matches(&self, m: &Module, t: TypeId) -> bool {
        match (self, m.types.get(t as usize)) {
            (ValType::Void, Some(Type::Void))
            | (ValType::Int, Some(Type::Int))
            | (ValType::Float, Some(Type::Float))
            | (ValType::Bool, Some(Type::Bool))
            | (ValType::Str, Some(Type::Str)) => true,
            (ValType::Array(e), Some(Type::Array(x))) => e.matches(m, *x),
            _ => false,
        }
    }
}

pub type NativeFn = fn(&mut Vm, &[u64]) -> Result<u64, Trap>;

#[derive(Clone)]
pub struct NativeDef {
    pub params: Vec<ValType>,
    pub ret: ValType,
    pub f: NativeFn,
}

/// Natives by name.
#[derive(Clone, Default)]
pub struct Natives {
    pub by_name: HashMap<String, NativeDef>,
}

impl Natives {
    /// The built-in functions of LANGUAGE.md.
    pub fn standard() -> Natives {
        let mut n = Natives::default();
        register_std(&mut n);
        n
    }

    /// Adds (or replaces) a native function.
    pub fn register(&mut self, name: &str, params: &[ValType], ret: ValType, f: NativeFn) {
        self.by_name.insert(
            name.to_string(),
            NativeDef {
                params: params.to_vec(),
                ret,
                f,
            },
        );
    }
}

fn f64_of(v: u64) -> f64 {
    f64::from_bits(v)
}

fn of_f64(x: f64) -> u64 {
    x.to_bits()
}

fn invalid(detail: impl std::fmt::Display) -> Trap {
    Trap::Error(format!("invalid conversion: {detail}"))
}

fn index_error(detail: impl std::fmt::Display) -> Trap {
    Trap::Error(format!("index out of range: {detail}"))
}

/// Parses `int(s)`: optional sign and ASCII digits only.
pub fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse::<i64>().ok()
}

/// Parses `float(s)`: decimal and exponent forms with an optional sign, and
/// `NaN`, `inf`, `infinity` in any case.
pub fn parse_float(s: &str) -> Option<f64> {
    // Rust's parser takes exactly these forms: no spaces, underscores or hex,
    // and the special names in any case.
    s.parse::<f64>().ok()
}

fn register_std(n: &mut Natives) {
    use ValType::*;
    let strs = || Array(Box::new(Str));
    n.register("print", &[Str], Void, |vm, a| {
        let s = vm.str_arg(a[0])?.to_string();
        vm.write_out(s.as_bytes())?;
        Ok(0)
    });
    n.register("println", &[Str], Void, |vm, a| {
        let mut s = vm.str_arg(a[0])?.to_string();
        s.push('\n');
        vm.write_out(s.as_bytes())?;
        Ok(0)
    });
    n.register("fixed", &[Float, Int], Str, |vm, a| {
        let d = a[1] as i64;
        if d < 0 {
            return Err(invalid(format!("negative number of decimals {d}")));
        }
        let s = crate::format::fixed(f64_of(a[0]), d.min(1100) as usize);
        Ok(vm.new_str(&s))
    });
    n.register("int_of_str", &[Str], Int, |vm, a| {
        let s = vm.str_arg(a[0])?;
        parse_int(s)
            .map(|v| v as u64)
            .ok_or_else(|| invalid(format!("{s:?} is not an int")))
    });
    n.register("float_of_str", &[Str], Float, |vm, a| {
        let s = vm.str_arg(a[0])?;
        parse_float(s).map(of_f64).ok_or_else(|| invalid(format!("{s:?} is not a float")))
    });
    n.register("substr", &[Str, Int, Int], Str, |vm, a| {
        let s = vm.str_arg(a[0])?;
        let (i, j) = (a[1] as i64, a[2] as i64);
        if i < 0 || j < i || j as usize > s.len() {
            return Err(index_error(format!("substr({i}, {j}) of a string of length {}", s.len())));
        }
        let sub = s
            .get(i as usize..j as usize)
            .ok_or_else(|| index_error(format!("substr({i}, {j}) is not on a character boundary")))?
            .to_string();
        Ok(vm.new_str(&sub))
    });
    n.register("find", &[Str, Str], Int, |vm, a| {
        let s = vm.str_arg(a[0])?;
        let t = vm.str_arg(a[1])?;
        Ok(s.find(t).map(|i| i as i64).unwrap_or(-1) as u64)
    });
    n.register("split", &[Str, Str], strs(), |vm, a| {
        let s = vm.str_arg(a[0])?;
        let sep = vm.str_arg(a[1])?;
        if sep.is_empty() {
            return Err(Trap::Error("invalid argument: empty separator".into()));
        }
        let parts: Vec<String> = s.split(sep).map(str::to_string).collect();
        Ok(vm.new_str_array(&parts))
    });
    n.register("join", &[strs(), Str], Str, |vm, a| {
        let items = vm.str_array_arg(a[0])?;
        let sep = vm.str_arg(a[1])?.to_string();
        let s = items.join(&sep);
        Ok(vm.new_str(&s))
    });
    n.register("trim", &[Str], Str, |vm, a| {
        let s = vm.str_arg(a[0])?.trim().to_string();
        Ok(vm.new_str(&s))
    });
    n.register("replace", &[Str, Str, Str], Str, |vm, a| {
        let s = vm.str_arg(a[0])?;
        let from = vm.str_arg(a[1])?;
        let to = vm.str_arg(a[2])?;
        let r = if from.is_empty() {
            // As in Python: the replacement goes between every character and at both ends.
            let mut out = String::from(to);
            for c in s.chars() {
                out.push(c);
                out.push_str(to);
            }
            out
        } else {
            s.replace(from, to)
        };
        Ok(vm.new_str(&r))
    });
    n.register("ord", &[Str], Int, |vm, a| {
        let s = vm.str_arg(a[0])?;
        s.chars().next().map(|c| c as u64).ok_or_else(|| invalid("ord of an empty string"))
    });
    n.register("chr", &[Int], Str, |vm, a| {
        let i = a[0] as i64;
        let c = u32::try_from(i)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| invalid(format!("{i} is not a Unicode code point")))?;
        Ok(vm.new_str(c.encode_utf8(&mut [0; 4])))
    });
    n.register("sin", &[Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).sin())));
    n.register("cos", &[Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).cos())));
    n.register("tan", &[Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).tan())));
    n.register("atan2", &[Float, Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).atan2(f64_of(a[1])))));
    n.register("exp", &[Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).exp())));
    n.register("log", &[Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).ln())));
    n.register("pow", &[Float, Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).powf(f64_of(a[1])))));
    n.register("floor", &[Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).floor())));
    n.register("ceil", &[Float], Float, |_, a| Ok(of_f64(f64_of(a[0]).ceil())));
    n.register("read_line", &[], Str, |vm, _| {
        vm.flush_out()?;
        let mut line = String::new();
        let stdin = std::io::stdin();
        let got = stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| Trap::Error(format!("read_line failed: {e}")))?;
        if got == 0 {
            return Ok(0);
        }
        if line.ends_with('\n') {
            line.pop();
        }
        Ok(vm.new_str(&line))
    });
    n.register("read_file", &[Str], Str, |vm, a| {
        let p = vm.str_arg(a[0])?.to_string();
        let text = std::fs::read_to_string(&p).map_err(|e| Trap::Error(format!("cannot read {p}: {e}")))?;
        Ok(vm.new_str(&text))
    });
    n.register("write_file", &[Str, Str], Void, |vm, a| {
        let p = vm.str_arg(a[0])?.to_string();
        let s = vm.str_arg(a[1])?;
        std::fs::write(&p, s).map_err(|e| Trap::Error(format!("cannot write {p}: {e}")))?;
        Ok(0)
    });
    n.register("args", &[], strs(), |vm, _| {
        let args = vm.args.clone();
        Ok(vm.new_str_array(&args))
    });
    n.register("clock", &[], Float, |vm, _| Ok(of_f64(vm.started.elapsed().as_secs_f64())));
    n.register("exit", &[Int], Void, |_, a| Err(Trap::Exit(a[0] as i64 as i32)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_parsing_rules() {
        assert_eq!(parse_int("+5"), Some(5));
        assert_eq!(parse_int("-17"), Some(-17));
        assert_eq!(parse_int("007"), Some(7));
        for bad in ["", "12a", " 7", "1.5", "9223372036854775808", "0x10", "--1", "+"] {
            assert_eq!(parse_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn float_parsing_rules() {
        assert_eq!(parse_float("2.5"), Some(2.5));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(parse_float("nan").unwrap().is_nan());
        assert_eq!(parse_float("abc"), None);
        assert_eq!(parse_float(" 1"), None);
        assert_eq!(parse_float("1_0"), None);
        assert_eq!(parse_float("INFINITY"), Some(f64::INFINITY));
        assert_eq!(parse_float(""), None);
    }
}
