//! Turning values into text: `str(x)`, `print`, `fixed`.
//!
//! Slots are untagged, so formatting is driven by the static type: the
//! compiler passes the type of the value to `ToStr`, and arrays and maps
//! carry their own type id for their elements.

use crate::heap::{str_ref, ArrayObj, Header, Kind, MapData, MapObj, StrObj};
use pvm_compiler::bytecode::{Module, Type, TypeId};
use std::fmt::Write as _;

/// `str(x)` for a float: Rust's `{:?}` (shortest round-trip digits,
/// exponent form below 1e-4 and from 1e16 on).
pub fn float(x: f64) -> String {
    format!("{x:?}")
}

/// `fixed(x, d)`: exactly `d` decimals, correctly rounded from the exact
/// binary value with ties to even (C's `%.*f`). `NaN` and infinities print
/// as `str` does.
pub fn fixed(x: f64, d: usize) -> String {
    if !x.is_finite() {
        return float(x);
    }
    format!("{x:.d$}")
}

/// A string as written in source: quoted, with escapes.
pub fn quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `str(v)` for a value of type `ty` to `out`. `nested` quotes strings
/// (inside arrays and maps). `depth` guards against runaway recursion.
pub fn value(m: &Module, ty: TypeId, v: u64, nested: bool, depth: u32, out: &mut String) {
    let Some(t) = m.types.get(ty as usize) else {
        out.push('?');
        return;
    };
    match t {
        Type::Int => {
            let _ = write!(out, "{}", v as i64);
        }
        Type::Float => out.push_str(&float(f64::from_bits(v))),
        Type::Bool => out.push_str(if v != 0 { "true" } else { "false" }),
        Type::Void => {}
        _ if v == 0 => out.push_str("nil"),
        Type::Str => {
            // SAFETY: a non-nil `str` slot points to a live string.
            let s = unsafe { str_ref(v as *const StrObj) };
            if nested {
                quoted(s, out);
            } else {
                out.push_str(s);
            }
        }
        _ if depth > 64 => out.push_str("..."),
        Type::Array(el) => {
            // SAFETY: a non-nil array slot points to a live array.
            let a = unsafe { &*(v as *const ArrayObj) };
            out.push('[');
            for (i, x) in a.data.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(m, *el, *x, true, depth + 1, out);
            }
            out.push(']');
        }
        Type::Map(k, vt) => {
            // SAFETY: a non-nil map slot points to a live map.
            let map = unsafe { &*(v as *const MapObj) };
            out.push('{');
            let mut first = true;
            let mut entry = |key: u64, val: u64, out: &mut String| {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                value(m, *k, key, true, depth + 1, out);
                out.push_str(": ");
                value(m, *vt, val, true, depth + 1, out);
            };
            match &map.data {
                MapData::Int(mm) => mm.iter().for_each(|(a, b)| entry(*a, *b, out)),
                MapData::Str(mm) => mm.iter().for_each(|(a, b)| entry(a.0 as u64, *b, out)),
            }
            out.push('}');
        }
        Type::Class(_) | Type::Interface(_) => {
            // The dynamic class decides the name (an interface value shows its class).
            // SAFETY: a non-nil object slot points to a live object.
            let h = unsafe { &*(v as *const Header) };
            let class = if h.kind == Kind::Object { h.aux as usize } else { usize::MAX };
            let name = m.classes.get(class).map(|c| c.name.as_str()).unwrap_or("object");
            let _ = write!(out, "<{name}>");
        }
        Type::Func(..) => out.push_str("<fn>"),
        Type::Cell(inner) => {
            // SAFETY: a non-nil cell slot points to a live cell.
            let c = unsafe { &*(v as *const crate::heap::CellObj) };
            value(m, *inner, c.value, nested, depth + 1, out);
        }
        Type::Nil | Type::Error => out.push_str("nil"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_rust_debug() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(1e100), "1e100");
        assert_eq!(float(1e-5), "1e-5");
        assert_eq!(float(1e16), "1e16");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(-f64::INFINITY), "-inf");
    }

    #[test]
    fn fixed_rounds_half_to_even_on_exact_ties() {
        assert_eq!(fixed(0.125, 2), "0.12");
        assert_eq!(fixed(0.375, 2), "0.38");
        assert_eq!(fixed(2.5, 0), "2");
        assert_eq!(fixed(3.5, 0), "4");
        assert_eq!(fixed(-0.5, 0), "-0");
        assert_eq!(fixed(2.675, 2), "2.67");
        assert_eq!(fixed(0.1, 20), "0.10000000000000000555");
        assert_eq!(fixed(1e20, 1), "100000000000000000000.0");
        assert_eq!(fixed(f64::INFINITY, 2), "inf");
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        quoted("a\"b\nc\\", &mut s);
        assert_eq!(s, r#""a\"b\nc\\""#);
    }
}
