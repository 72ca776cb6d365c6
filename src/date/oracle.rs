//! The reference the date readers are checked against, in the tests and in the `date` fuzz
//! target (which includes this file): jiff, read in the forms `crate::date` claims.

use std::sync::LazyLock;

use regex::Regex;

/// The ISO 8601 forms `crate::date` reads (jiff reads more: basic formats, annotations).
static GRAMMAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*(?:[Zz]|(?i:utc)|[+-]\d{2}(?::?\d{2})?))?)?$")
        .unwrap()
});
/// More fraction digits than jiff takes (9).
static LONG_FRACTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[.,]\d{10,}").unwrap());
/// Zones past ±23:59, which jiff takes (to ±25:59) and ISO 8601's two-digit hours do not.
static WIDE_ZONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[+-](2[4-9])(:?\d\d)?$").unwrap());
static UTC_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)^(.*?)\s*((?i:utc))?$").unwrap());
static SPACED_ZONE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+([Zz+-][0-9:]*)$").unwrap());
static ZONED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"([Zz]|[+-]\d\d(:?\d\d)?)$").unwrap());

/// Whether trimmed `t` is in the forms `crate::date` reads.
pub(crate) fn in_grammar(t: &str) -> bool {
    GRAMMAR.is_match(t)
}

/// Whether both readers should give the same answer for trimmed `t`: it is in the grammar, and
/// within what jiff reads (9 fraction digits, zones to ±25:59, instants up to 9999-12-30).
pub(crate) fn comparable(t: &str) -> bool {
    in_grammar(t) && !LONG_FRACTION.is_match(t) && !WIDE_ZONE.is_match(t) && !t.starts_with("9999")
}

/// What jiff makes of `s`: an instant in milliseconds (rounded down, as `crate::date` cuts a
/// fraction), a time without a zone read as UTC. Our spellings jiff does not take (`UTC`, white
/// space before the zone) are given to it in its own.
pub(crate) fn jiff_millis(s: &str) -> Option<i64> {
    let caps = UTC_WORD.captures(s)?;
    let mut text = caps.get(1).map_or("", |m| m.as_str()).to_string();
    text = SPACED_ZONE.replace(&text, "$1").into_owned();
    if caps.get(2).is_some() {
        text.push('Z');
    }
    let ts = if text.get(10..).is_some_and(|t| ZONED.is_match(t)) {
        text.parse::<jiff::Timestamp>().ok()?
    } else {
        let dt = text.parse::<jiff::civil::DateTime>().ok()?;
        dt.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp()
    };
    i64::try_from(ts.as_nanosecond().div_euclid(1_000_000)).ok()
}
