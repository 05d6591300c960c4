//! What a plain (unquoted, non-block) scalar means: null, a boolean, an integer, a float
//! or a string.
//!
//! The rules are those of the YAML 1.2 core schema as the original tools read their files
//! (they used serde_yaml 0.9), so a file reads the same here as there:
//! - null: empty, `~`, `null`, `Null`, `NULL`;
//! - booleans: `true`/`True`/`TRUE`, `false`/`False`/`FALSE` (`yes`, `no`, `on`, `off` are
//!   strings, as in YAML 1.2);
//! - integers: decimal, `0x` hex, `0o` octal, `0b` binary, with an optional sign; a decimal
//!   with a leading zero (`010`) is a string, not an octal number;
//! - floats: decimal with a fraction or exponent, `.inf`, `-.inf`, `.nan` (any of the three
//!   capitalisations); values Rust would read as infinite (`inf`, `1e999`) stay strings.

/// A resolved plain scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(Int),
    Float(f64),
    Str(&'a str),
}

/// An integer, in the smallest of the types serde visitors take that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int {
    U64(u64),
    I64(i64),
    U128(u128),
    I128(i128),
}

/// Resolves the text of a plain scalar.
pub fn resolve(text: &str) -> Resolved<'_> {
    if is_null(text) {
        return Resolved::Null;
    }
    if let Some(value) = parse_bool(text) {
        return Resolved::Bool(value);
    }
    if let Some(value) = parse_int(text) {
        return Resolved::Int(value);
    }
    if !leading_zero_digits(text) {
        if let Some(value) = parse_float(text) {
            return Resolved::Float(value);
        }
    }
    Resolved::Str(text)
}

pub fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `010`, `-007`: digits after a leading zero are a string in YAML 1.2, not octal.
fn leading_zero_digits(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    body.len() > 1 && body.starts_with('0') && body.bytes().all(|b| b.is_ascii_digit())
}

pub fn parse_int(text: &str) -> Option<Int> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(rest) = body.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = body.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = body.strip_prefix("0b") {
        (2, rest)
    } else if leading_zero_digits(body) {
        return None;
    } else {
        (10, body)
    };
    // `from_str_radix` would take a second sign; YAML does not.
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(match u64::try_from(magnitude) {
            Ok(value) => Int::U64(value),
            Err(_) => Int::U128(magnitude),
        });
    }
    if let Some(value) = i64::try_from(magnitude)
        .ok()
        .and_then(|m| m.checked_neg())
        .or_else(|| (magnitude == 1 << 63).then_some(i64::MIN))
    {
        return Some(Int::I64(value));
    }
    let value = i128::try_from(magnitude)
        .ok()
        .and_then(|m| m.checked_neg())
        .or_else(|| (magnitude == 1 << 127).then_some(i128::MIN))?;
    Some(Int::I128(value))
}

pub fn parse_float(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    unsigned
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_the_core_schema_says() {
        let cases: &[(&str, Resolved)] = &[
            ("", Resolved::Null),
            ("~", Resolved::Null),
            ("NULL", Resolved::Null),
            ("True", Resolved::Bool(true)),
            ("FALSE", Resolved::Bool(false)),
            ("yes", Resolved::Str("yes")),
            ("off", Resolved::Str("off")),
            ("0", Resolved::Int(Int::U64(0))),
            ("+12", Resolved::Int(Int::U64(12))),
            ("-12", Resolved::Int(Int::I64(-12))),
            ("0x1f", Resolved::Int(Int::U64(31))),
            ("-0o17", Resolved::Int(Int::I64(-15))),
            ("0b101", Resolved::Int(Int::U64(5))),
            ("0x+1", Resolved::Str("0x+1")),
            ("+-1", Resolved::Str("+-1")),
            ("010", Resolved::Str("010")),
            ("-007", Resolved::Str("-007")),
            ("-9223372036854775808", Resolved::Int(Int::I64(i64::MIN))),
            ("18446744073709551616", Resolved::Int(Int::U128(1 << 64))),
            ("1.5", Resolved::Float(1.5)),
            ("1e3", Resolved::Float(1000.0)),
            (".5", Resolved::Float(0.5)),
            ("-.inf", Resolved::Float(f64::NEG_INFINITY)),
            ("inf", Resolved::Str("inf")),
            ("1e999", Resolved::Str("1e999")),
            ("1.2.3", Resolved::Str("1.2.3")),
            ("1_000", Resolved::Str("1_000")),
            ("0be1ce", Resolved::Str("0be1ce")),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve(text), *expected, "{text:?}");
        }
        assert!(matches!(resolve(".NaN"), Resolved::Float(v) if v.is_nan()));
        assert_eq!(resolve("+.nan"), Resolved::Str("+.nan"));
    }
}
