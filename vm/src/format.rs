//! Turning values into text: `str(x)`, `print`, `fixed`.
//!
//! Slots are untagged, so formatting is driven by the static type: the
//! compiler passes the type of the value to `ToStr`, and arrays and maps
//! carry their own type id for their elements.

use crate::heap::{str_ref, ArrayObj, CellObj, Header, Kind, MapObj, StrObj};
use pvm_bytecode::{Module, Type, TypeId};
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
    // A double's exact decimal expansion ends within 1074 places (the
    // smallest subnormal is 2^-1074), so every digit past that is 0: print
    // that many exactly and pad (Rust's formatter takes no larger precision).
    const EXACT: usize = 1100;
    if d <= EXACT {
        return format!("{x:.d$}");
    }
    let mut s = format!("{x:.EXACT$}");
    s.extend(std::iter::repeat_n('0', d - EXACT));
    s
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

/// Appends `str(v)` for a value of type `ty` to `out`. `nested` quotes
/// strings (inside arrays and maps). Nesting of any depth is rendered
/// without recursion: an explicit stack of what is left to print.
pub(crate) fn value(m: &Module, ty: TypeId, v: u64, nested: bool, out: &mut String) {
    enum Job {
        Value(TypeId, u64, bool),
        /// Elements of an array from index `i` on.
        Array(TypeId, *const ArrayObj, usize),
        /// Entries of a map from position `i` on; `first` until one is printed.
        Map(TypeId, TypeId, *const MapObj, usize, bool),
        Text(&'static str),
    }
    let mut jobs = vec![Job::Value(ty, v, nested)];
    while let Some(job) = jobs.pop() {
        match job {
            Job::Value(ty, v, nested) => {
                let Some(t) = m.types.get(ty as usize) else {
                    out.push('?');
                    continue;
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
                    Type::Array(el) => {
                        out.push('[');
                        jobs.push(Job::Array(*el, v as *const ArrayObj, 0));
                    }
                    Type::Map(k, vt) => {
                        out.push('{');
                        jobs.push(Job::Map(*k, *vt, v as *const MapObj, 0, true));
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
                        let c = unsafe { &*(v as *const CellObj) };
                        jobs.push(Job::Value(*inner, c.value, nested));
                    }
                    Type::Nil | Type::Error => out.push_str("nil"),
                }
            }
            Job::Array(el, a, i) => {
                // SAFETY: the array is live: formatting allocates nothing,
                // so nothing is collected meanwhile.
                let a_ref = unsafe { &*a };
                if i < a_ref.len {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    jobs.push(Job::Array(el, a, i + 1));
                    // SAFETY: `i < len`.
                    jobs.push(Job::Value(el, unsafe { a_ref.get(i) }, true));
                } else {
                    out.push(']');
                }
            }
            Job::Text(t) => out.push_str(t),
            Job::Map(k, vt, map, i, first) => {
                // SAFETY: as for arrays.
                let entries = unsafe { &*map }.entries();
                match entries.iter().enumerate().skip(i).find(|(_, e)| e.dead == 0) {
                    Some((at, e)) => {
                        if !first {
                            out.push_str(", ");
                        }
                        jobs.push(Job::Map(k, vt, map, at + 1, false));
                        jobs.push(Job::Value(vt, e.value, true));
                        jobs.push(Job::Text(": "));
                        jobs.push(Job::Value(k, e.key, true));
                    }
                    None => out.push('}'),
                }
            }
        }
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
        let long = fixed(0.1, 5000);
        assert_eq!(long.len(), 5002);
        assert!(long.starts_with("0.1000000000000000055511151231257827"));
        assert!(long[1200..].bytes().all(|b| b == b'0'));
        assert_eq!(
            fixed(5e-324, 1080).trim_end_matches('0').len(),
            1076,
            "the smallest subnormal, exactly"
        );
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        quoted("a\"b\nc\\", &mut s);
        assert_eq!(s, r#""a\"b\nc\\""#);
    }
}
