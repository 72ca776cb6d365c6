//! Facts about Spira the tools share: execution status IDs, field limits, and the two date
//! forms the REST API reads (ISO 8601 with milliseconds, and WCF `/Date(ms±hhmm)/`).

/// Execution status IDs.
pub mod status {
    /// Failed.
    pub const FAILED: u8 = 1;
    /// Passed.
    pub const PASSED: u8 = 2;
    /// Not Run.
    pub const NOT_RUN: u8 = 3;
    /// N/A.
    pub const NOT_APPLICABLE: u8 = 4;
    /// Blocked.
    pub const BLOCKED: u8 = 5;
    /// Caution.
    pub const CAUTION: u8 = 6;

    /// Spira's name for a status ID.
    pub fn name(id: u8) -> &'static str {
        match id {
            FAILED => "Failed",
            PASSED => "Passed",
            NOT_RUN => "Not Run",
            NOT_APPLICABLE => "N/A",
            BLOCKED => "Blocked",
            CAUTION => "Caution",
            _ => "unknown",
        }
    }

    /// The ID of a Spira status name (`Blocked`, `not run`, `N/A`, ...).
    pub fn by_name(name: &str) -> Option<u8> {
        let n: String = name
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect();
        Some(match n.as_str() {
            "failed" => FAILED,
            "passed" => PASSED,
            "notrun" => NOT_RUN,
            "n/a" | "na" | "notapplicable" => NOT_APPLICABLE,
            "blocked" => BLOCKED,
            "caution" => CAUTION,
            _ => return None,
        })
    }

    /// Worst first, for aggregation: Failed > Blocked > Caution > Not Run > N/A > Passed.
    pub fn severity(id: u8) -> u8 {
        match id {
            FAILED => 6,
            BLOCKED => 5,
            CAUTION => 4,
            NOT_RUN => 3,
            NOT_APPLICABLE => 2,
            PASSED => 1,
            _ => 0,
        }
    }
}

/// `RunnerName`: a database column of 20 characters.
pub const RUNNER_NAME_MAX: usize = 20;
/// `RunnerTestName` and `RunnerMessage`: 255 characters.
pub const TEXT_255: usize = 255;

/// The length of `s` in UTF-16 code units, as the server's columns count it.
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `s` cut to at most `max` UTF-16 units on a character boundary, ending with `…` when cut.
pub fn truncate_utf16(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    // A character never takes more UTF-16 units than UTF-8 bytes.
    if s.len() <= max || utf16_len(s) <= max {
        return std::borrow::Cow::Borrowed(s);
    }
    let budget = max.saturating_sub(1); // room for the ellipsis (one unit)
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    std::borrow::Cow::Owned(format!("{}…", &s[..end]))
}

/// A point in time: milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses a normalised ISO 8601 timestamp (`YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`, as result
/// lines carry them). A time without a zone is read at `default_offset_min` minutes from UTC.
pub fn parse_iso(s: &str, default_offset_min: i32) -> Option<Millis> {
    let b = s.as_bytes();
    let num = |a: usize, n: usize| -> Option<i64> {
        let part = s.get(a..a + n)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let frac = &s[i + 1..i + 1 + digits];
        let first3: String = frac.chars().chain("000".chars()).take(3).collect();
        ms = first3.parse().ok()?;
        i += 1 + digits;
    }
    let offset_min: i64 = match &s[i..] {
        "" => i64::from(default_offset_min),
        "Z" | "z" => 0,
        z => parse_offset(z)? as i64,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + ms)
}

/// Minutes from UTC of `+hh:mm`, `-hhmm`, `+hh`, `Z` or `UTC`.
pub fn parse_offset(z: &str) -> Option<i32> {
    let z = z.trim();
    if z.eq_ignore_ascii_case("z") || z.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest: String = z[1..].chars().filter(|c| *c != ':').collect();
    if !rest.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match rest.len() {
        2 => (rest.parse::<i32>().ok()?, 0),
        4 => (
            rest[..2].parse::<i32>().ok()?,
            rest[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

/// `2024-05-14T12:00:00.000Z`.
pub fn format_iso(t: Millis) -> String {
    format_iso_cached(t, &mut IsoDay::default())
}

/// The date part of the last day [`format_iso_cached`] wrote: runs follow each other within a
/// day, and the calendar arithmetic is the costly part.
#[derive(Clone, Copy, Default)]
pub struct IsoDay {
    day: Option<i64>,
    ymd: (i64, i64, i64),
}

/// [`format_iso`], reusing the calendar date from `cache` when `t` falls on the same day.
pub fn format_iso_cached(t: Millis, cache: &mut IsoDay) -> String {
    let secs = t.div_euclid(1000);
    let ms = t.rem_euclid(1000);
    let day = secs.div_euclid(86_400);
    if cache.day != Some(day) {
        *cache = IsoDay {
            day: Some(day),
            ymd: civil_from_days(day),
        };
    }
    let (y, m, d) = cache.ymd;
    let rem = secs.rem_euclid(86_400);
    if !(0..=9999).contains(&y) {
        return format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        );
    }
    // The hot path of spira-map: digits written directly.
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, rem / 3600);
    put(14, 2, rem % 3600 / 60);
    put(17, 2, rem % 60);
    put(20, 3, ms);
    // Only ASCII digits and separators were written.
    String::from_utf8(b.to_vec()).unwrap_or_default()
}

/// `/Date(1715688000000-0000)/`, the WCF form of Spira's bulk-recording guide.
pub fn format_wcf(t: Millis) -> String {
    format!("/Date({t}-0000)/")
}

/// Parses either date form: ISO 8601 (with or without fractional seconds and zone) or WCF
/// `/Date(ms±hhmm)/` (the offset there is informational: the milliseconds are UTC).
pub fn parse_any(s: &str) -> Option<Millis> {
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let end = inner[1..]
            .find(['+', '-'])
            .map(|i| i + 1)
            .unwrap_or(inner.len());
        return inner[..end].parse().ok();
    }
    parse_iso(s, 0)
}

/// Now, in milliseconds since the epoch.
pub fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let t = parse_iso("2024-05-14T12:00:00Z", 0).unwrap();
        assert_eq!(t, 1_715_688_000_000);
        assert_eq!(format_iso(t), "2024-05-14T12:00:00.000Z");
        assert_eq!(format_wcf(t), "/Date(1715688000000-0000)/");
        assert_eq!(parse_any("/Date(1715688000000-0000)/"), Some(t));
        assert_eq!(parse_any("/Date(1715688000000+0200)/"), Some(t));
        assert_eq!(parse_iso("2024-05-14T14:00:00.5+02:00", 0), Some(t + 500));
        assert_eq!(parse_iso("2024-05-14T14:00:00", 120), Some(t));
        assert_eq!(parse_iso("2024-05-14T12:00:00.1234567Z", 0), Some(t + 123));
        assert_eq!(
            format_iso(parse_iso("1999-12-31T23:59:59.999Z", 0).unwrap()),
            "1999-12-31T23:59:59.999Z"
        );
        assert_eq!(parse_iso("garbage", 0), None);
    }

    #[test]
    fn the_cached_day_is_recomputed_when_the_day_changes() {
        let mut cache = IsoDay::default();
        let base = parse_iso("2024-02-28T23:59:59.500Z", 0).unwrap();
        for t in [
            base,
            base + 400,
            base + 600,
            base + 86_400_000,
            base - 86_400_000,
            base + 1,
        ] {
            assert_eq!(format_iso_cached(t, &mut cache), format_iso(t));
        }
        assert_eq!(
            format_iso_cached(base + 600, &mut cache),
            "2024-02-29T00:00:00.100Z"
        );
    }

    #[test]
    fn truncates_by_utf16_units() {
        assert_eq!(truncate_utf16("abc", 3), "abc");
        assert_eq!(truncate_utf16("abcd", 3), "ab…");
        // An astral character is two units and is never split.
        assert_eq!(truncate_utf16("a😀b", 3), "a…");
        assert_eq!(utf16_len("a😀b"), 4);
        assert_eq!(truncate_utf16("ééééé", 4), "ééé…");
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+05:30"), Some(330));
        assert_eq!(parse_offset("-0800"), Some(-480));
        assert_eq!(parse_offset("UTC"), Some(0));
        assert_eq!(parse_offset("Europe/Paris"), None);
    }
}
