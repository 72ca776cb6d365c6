//! Dates and times, for every tool: reading ISO 8601 in each form the report formats write and
//! the WCF form `/Date(ms±hhmm)/` Spira's bulk-recording guide uses, and writing both.
//!
//! Every reader here works on bytes with checked access (`get`), never by slicing a `str` at a
//! computed index: any input, however odd, gives `None` or `Err`, never a panic. The readers are
//! checked against jiff, a well-kept date crate, in the tests and in the `date` fuzz target.
//!
//! The ISO forms read: `YYYY-MM-DD`, then optionally `T` (or `t`, or a space) and `hh:mm`,
//! optionally `:ss`, optionally a fraction (`.` or `,` and 1 or more digits), then optionally,
//! after optional white space, a zone: `Z`, `z`, `UTC`, `±hh`, `±hhmm` or `±hh:mm`. The date must
//! exist (no 30 February), hours run to 23, minutes to 59, seconds to 60 (a leap second, read as
//! 59, as jiff reads it), zones to ±23:59.

/// A point in time: milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// A zone as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Zone {
    /// None given: the reader decides.
    Local,
    /// `Z`, `z` or `UTC`.
    Utc,
    /// `±hh[:mm]`, its sign kept (`-00:00` is not `+00:00` in text).
    Offset {
        negative: bool,
        hours: u8,
        minutes: u8,
    },
}

impl Zone {
    fn minutes(self) -> Option<i64> {
        match self {
            Zone::Local => None,
            Zone::Utc => Some(0),
            Zone::Offset {
                negative,
                hours,
                minutes,
            } => {
                let m = i64::from(hours) * 60 + i64::from(minutes);
                Some(if negative { -m } else { m })
            }
        }
    }
}

/// An ISO 8601 timestamp, read and checked, with its fraction's digits as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp<'a> {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    /// The fraction's digits, as written (empty when there is none).
    fraction: &'a str,
    zone: Zone,
}

/// `n` ASCII digits at `at` in `b`, as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u16> {
    let part = b.get(at..at.checked_add(n)?)?;
    part.iter().try_fold(0u16, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0'))
    })
}

fn is_leap(year: u16) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The byte `b[i]` if it is one of `set`.
fn byte_in(b: &[u8], i: usize, set: &[u8]) -> bool {
    b.get(i).is_some_and(|c| set.contains(c))
}

impl<'a> Stamp<'a> {
    /// Reads a whole (already trimmed) timestamp; `None` unless every byte is accounted for.
    fn read(s: &'a str) -> Option<Stamp<'a>> {
        let b = s.as_bytes();
        let year = digits(b, 0, 4)?;
        let month = u8::try_from(digits(b, 5, 2)?).ok()?;
        let day = u8::try_from(digits(b, 8, 2)?).ok()?;
        if !byte_in(b, 4, b"-") || !byte_in(b, 7, b"-") {
            return None;
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let mut st = Stamp {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            fraction: "",
            zone: Zone::Local,
        };
        let mut i = 10;
        if i == b.len() {
            return Some(st);
        }
        if !byte_in(b, i, b"Tt ") {
            return None;
        }
        i = st.read_time(s, i + 1)?;
        st.zone = read_zone(s.get(i..)?.trim_start())?;
        Some(st)
    }

    /// Reads `hh:mm[:ss[.fff]]` from byte `i` on; returns where it ends.
    fn read_time(&mut self, s: &'a str, mut i: usize) -> Option<usize> {
        let b = s.as_bytes();
        let hour = u8::try_from(digits(b, i, 2)?).ok()?;
        let minute = u8::try_from(digits(b, i + 3, 2)?).ok()?;
        if !byte_in(b, i + 2, b":") || hour > 23 || minute > 59 {
            return None;
        }
        (self.hour, self.minute) = (hour, minute);
        i += 5;
        if !byte_in(b, i, b":") {
            return Some(i);
        }
        let second = u8::try_from(digits(b, i + 1, 2)?).ok()?;
        if second > 60 {
            return None;
        }
        self.second = second;
        i += 3;
        if byte_in(b, i, b".,") {
            let n = b
                .get(i + 1..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if n == 0 {
                return None;
            }
            // Digits are ASCII: the range ends on character boundaries.
            self.fraction = s.get(i + 1..i + 1 + n)?;
            i += 1 + n;
        }
        Some(i)
    }

    /// Milliseconds since the epoch; a time without a zone is read at `default_offset_min`
    /// minutes from UTC. A leap second counts as the second before it.
    fn millis(&self, default_offset_min: i32) -> Millis {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let offset = self.zone.minutes().unwrap_or(i64::from(default_offset_min));
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second.min(59))
            - offset * 60;
        let ms = self
            .fraction
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'));
        secs * 1000 + ms
    }

    /// True for the values formats write for "no time": year 1, or the Unix epoch with no zone
    /// or `Z` and no fraction.
    fn is_unknown(&self) -> bool {
        let epoch = (
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
        ) == (1970, 1, 1, 0, 0, 0);
        self.year == 1
            || (epoch && self.fraction.is_empty() && matches!(self.zone, Zone::Local | Zone::Utc))
    }

    /// `YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`, the fraction as written.
    fn write(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(32);
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if !self.fraction.is_empty() {
            out.push('.');
            out.push_str(self.fraction);
        }
        match self.zone {
            Zone::Local => {}
            Zone::Utc => out.push('Z'),
            Zone::Offset {
                negative,
                hours,
                minutes,
            } => {
                let sign = if negative { '-' } else { '+' };
                let _ = write!(out, "{sign}{hours:02}:{minutes:02}");
            }
        }
        out
    }
}

/// A zone: nothing, `Z`, `z`, `UTC`, `±hh`, `±hhmm` or `±hh:mm` (at most 23:59).
fn read_zone(z: &str) -> Option<Zone> {
    if z.is_empty() {
        return Some(Zone::Local);
    }
    if z == "Z" || z == "z" || z.eq_ignore_ascii_case("utc") {
        return Some(Zone::Utc);
    }
    let b = z.as_bytes();
    let negative = match b.first()? {
        b'+' => false,
        b'-' => true,
        _ => return None,
    };
    let hours = u8::try_from(digits(b, 1, 2)?).ok()?;
    let minutes = match b.len() {
        3 => 0,
        5 => digits(b, 3, 2)?,
        6 if byte_in(b, 3, b":") => digits(b, 4, 2)?,
        _ => return None,
    };
    let minutes = u8::try_from(minutes).ok()?;
    (hours <= 23 && minutes <= 59).then_some(Zone::Offset {
        negative,
        hours,
        minutes,
    })
}

/// A zone flag's value (`UTC`, `Z`, `+02:00`, `-0800`, `+05`): minutes from UTC.
pub fn parse_offset(z: &str) -> Option<i32> {
    read_zone(z.trim())?
        .minutes()
        .and_then(|m| i32::try_from(m).ok())
}

/// A timestamp that is not ISO 8601 in a form read here.
#[derive(Debug, PartialEq, Eq)]
pub struct NotIso;

/// A report's timestamp in the one form result lines carry: `T` between date and time, seconds
/// present, the fraction as written, the zone only when given (`Z` or `±hh:mm`); a date alone
/// gets midnight. The values formats write for "no time" (year 1, the Unix epoch without a
/// zone) and an empty text give `Ok(None)`.
pub fn normalize(raw: &str) -> Result<Option<String>, NotIso> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let st = Stamp::read(s).ok_or(NotIso)?;
    Ok((!st.is_unknown()).then(|| st.write()))
}

/// An ISO 8601 timestamp as an instant; a time without a zone is read at `default_offset_min`
/// minutes from UTC.
pub fn parse_iso(s: &str, default_offset_min: i32) -> Option<Millis> {
    Stamp::read(s.trim()).map(|st| st.millis(default_offset_min))
}

/// The WCF form: `/Date(ms)/` or `/Date(ms±hhmm)/`, where the offset is informational (the
/// milliseconds are UTC).
fn parse_wcf(s: &str) -> Option<Millis> {
    let inner = s.strip_prefix("/Date(")?.strip_suffix(")/")?;
    // The offset's sign comes after the first byte, which may be the number's own minus.
    let cut = inner
        .bytes()
        .enumerate()
        .skip(1)
        .find(|(_, c)| matches!(c, b'+' | b'-'))
        .map_or(inner.len(), |(i, _)| i);
    let (ms, offset) = (inner.get(..cut)?, inner.get(cut..)?);
    let offset_ok =
        offset.is_empty() || (offset.len() == 5 && digits(offset.as_bytes(), 1, 4).is_some());
    if !offset_ok || ms.starts_with('+') {
        return None;
    }
    ms.parse().ok()
}

/// Either form a run's dates take: ISO 8601 (read as UTC without a zone) or WCF.
pub fn parse_any(s: &str) -> Option<Millis> {
    parse_wcf(s).or_else(|| parse_iso(s, 0))
}

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

/// `2024-05-14T12:00:00.000Z`.
pub fn format_iso(t: Millis) -> String {
    format_iso_cached(t, &mut IsoDay::default())
}

/// The date part of the last day [`format_iso_cached`] wrote: runs follow each other within a
/// day, and the calendar arithmetic is the costly part.
#[derive(Clone, Copy, Default)]
pub(crate) struct IsoDay {
    day: Option<i64>,
    ymd: (i64, i64, i64),
}

/// [`format_iso`], reusing the calendar date from `cache` when `t` falls on the same day.
pub(crate) fn format_iso_cached(t: Millis, cache: &mut IsoDay) -> String {
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

/// Now, in milliseconds since the epoch.
pub(crate) fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX)
        })
}

#[cfg(test)]
mod tests;
