//! Human sizes for the CLI flags: [`size_parse`] ("64M", "1G", "512K", "4096") and
//! [`format_size`] ("1 GiB"), binary multiples throughout.

use std::fmt;

/// Why a size string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeError(String);

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SizeError {}

/// Parse a size: a whole number of bytes, optionally followed by a binary unit
/// `K`, `M`, `G` or `T` (case-insensitive; `KiB`, `KB`, `k` are all 1024 bytes).
///
/// ```
/// use pvm_sandbox::size_parse;
/// assert_eq!(size_parse("64M").unwrap(), 64 << 20);
/// assert_eq!(size_parse("1G").unwrap(), 1 << 30);
/// assert_eq!(size_parse("512K").unwrap(), 512 << 10);
/// assert_eq!(size_parse("4096").unwrap(), 4096);
/// assert!(size_parse("12X").is_err());
/// ```
pub fn size_parse(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(SizeError(format!(
            "invalid size `{s}`: expected a number of bytes with an optional unit K, M, G or T \
             (e.g. 64M)"
        )));
    }
    let n: u64 = num
        .parse()
        .map_err(|_| SizeError(format!("invalid size `{s}`: number too large")))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => return Err(SizeError(format!("invalid size `{s}`: unknown unit `{other}` (use K, M, G or T)"))),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| SizeError(format!("invalid size `{s}`: too large")))
}

/// Format a byte count the way limit messages show it: "1 GiB", "64 MiB", "512 KiB",
/// "1.5 GiB", "100 bytes".
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            if bytes.is_multiple_of(unit) {
                return format!("{} {name}", bytes / unit);
            }
            let tenths = (bytes as u128 * 10 + unit as u128 / 2) / unit as u128;
            return format!("{}.{} {name}", tenths / 10, tenths % 10);
        }
    }
    format!("{bytes} bytes")
}

/// Format seconds for messages: "5 s", "1.5 s".
pub(crate) fn format_secs(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        format!("{} s", s.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_units() {
        assert_eq!(size_parse("0"), Ok(0));
        assert_eq!(size_parse("64M"), Ok(64 << 20));
        assert_eq!(size_parse("64m"), Ok(64 << 20));
        assert_eq!(size_parse("64MiB"), Ok(64 << 20));
        assert_eq!(size_parse("1G"), Ok(1 << 30));
        assert_eq!(size_parse("2T"), Ok(2 << 40));
        assert_eq!(size_parse(" 512K "), Ok(512 << 10));
        assert_eq!(size_parse("123"), Ok(123));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "M", "-1", "1.5G", "12X", "99999999999999999999", "18446744073709551615K"] {
            assert!(size_parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_size(1 << 30), "1 GiB");
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(512 << 10), "512 KiB");
        assert_eq!(format_size(3 << 29), "1.5 GiB");
        assert_eq!(format_size(100), "100 bytes");
        assert_eq!(format_secs(Duration::from_secs(5)), "5 s");
        assert_eq!(format_secs(Duration::from_millis(1500)), "1.5 s");
    }
}
