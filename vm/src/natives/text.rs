//! Natives on strings: `fixed`, `substr`, `find`, `split`, `join`, `trim`,
//! `replace`, `ord`, `chr`, and the parsers behind `int(s)` and `float(s)`.

use super::{index_error, invalid, Sig};
use crate::error::Trap;
use crate::Vm;

/// The text of argument `i`, copied out (natives allocate afterwards).
fn arg(vm: &Vm, a: &[u64], i: usize) -> Result<String, Trap> {
    vm.str_arg(a[i]).map(str::to_string)
}

pub(super) fn fixed(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let d = a[1] as i64;
    if d < 0 {
        return Err(invalid(format!("negative number of decimals {d}")));
    }
    // Every decimal digit costs a byte: a number of decimals the heap could
    // never hold is a heap limit, not a silent cap.
    let d = usize::try_from(d).unwrap_or(usize::MAX);
    if d > vm.heap_room() {
        return Err(vm.heap_limit_trap());
    }
    let s = crate::format::fixed(f64::from_bits(a[0]), d);
    Ok(vm.new_str(&s))
}

pub(super) fn substr(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let s = vm.str_arg(a[0])?;
    let (i, j) = (a[1] as i64, a[2] as i64);
    if i < 0 || j < i || j as u64 > s.len() as u64 {
        return Err(index_error(format!("substr({i}, {j}) of a string of length {}", s.len())));
    }
    let sub = s
        .get(i as usize..j as usize)
        .ok_or_else(|| index_error(format!("substr({i}, {j}) is not on a character boundary")))?
        .to_string();
    Ok(vm.new_str(&sub))
}

pub(super) fn find(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let s = vm.str_arg(a[0])?;
    let t = vm.str_arg(a[1])?;
    Ok(s.find(t).map(|i| i as i64).unwrap_or(-1) as u64)
}

pub(super) fn split(vm: &mut Vm, a: &[u64], sig: &Sig) -> Result<u64, Trap> {
    let s = arg(vm, a, 0)?;
    let sep = arg(vm, a, 1)?;
    if sep.is_empty() {
        return Err(Trap::Error("invalid argument: empty separator".into()));
    }
    let parts: Vec<u64> = s.split(sep.as_str()).map(|p| vm.new_str(p)).collect();
    Ok(vm.new_array(sig.ret, &parts))
}

pub(super) fn join(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    // SAFETY: the linker matched parameter 0 against `[str]`.
    let items = unsafe { vm.array_items(a[0]) }.ok_or_else(crate::nil)?;
    let sep = vm.str_arg(a[1])?;
    let mut out = String::new();
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(vm.str_arg(*s)?);
    }
    Ok(vm.new_str(&out))
}

/// Whitespace as Python's `str.strip()` sees it: Unicode `White_Space`
/// plus the separators U+001C..U+001F.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub(super) fn trim(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let s = vm.str_arg(a[0])?.trim_matches(python_space).to_string();
    Ok(vm.new_str(&s))
}

pub(super) fn replace(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
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
}

pub(super) fn ord(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let s = vm.str_arg(a[0])?;
    s.chars().next().map(|c| c as u64).ok_or_else(|| invalid("ord of an empty string"))
}

pub(super) fn chr(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let i = a[0] as i64;
    let c = u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| invalid(format!("{i} is not a Unicode code point")))?;
    Ok(vm.new_str(c.encode_utf8(&mut [0; 4])))
}

pub(super) fn int_of_str(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let s = vm.str_arg(a[0])?;
    parse_int(s)
        .map(|v| v as u64)
        .ok_or_else(|| invalid(format!("{s:?} is not an int")))
}

pub(super) fn float_of_str(vm: &mut Vm, a: &[u64], _: &Sig) -> Result<u64, Trap> {
    let s = vm.str_arg(a[0])?;
    parse_float(s)
        .map(f64::to_bits)
        .ok_or_else(|| invalid(format!("{s:?} is not a float")))
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
        assert!(parse_float("nan").is_some_and(f64::is_nan));
        assert_eq!(parse_float("abc"), None);
        assert_eq!(parse_float(" 1"), None);
        assert_eq!(parse_float("1_0"), None);
        assert_eq!(parse_float("INFINITY"), Some(f64::INFINITY));
        assert_eq!(parse_float(""), None);
    }

    #[test]
    fn trim_matches_python_strip() {
        let s = "\u{1c}\u{1d} \t\u{a0}x y\u{1e}\u{1f}\u{2028}";
        assert_eq!(s.trim_matches(python_space), "x y");
    }
}
