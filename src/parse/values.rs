//! Reading the values every format writes in its own way: durations, timestamps, status words,
//! and attachments named in test output.

use std::path::Path;

use crate::record::{Property, Status};

/// Why a value could not be read.
#[derive(Debug, PartialEq)]
pub enum Odd {
    /// The attribute is absent or empty.
    Missing,
    /// It has a value that is not a plain non-negative number; the reason.
    Bad(&'static str),
}

/// Seconds from a decimal number (`1.5`, `2`, `1.4e-05`). Thousands separators, negative,
/// infinite and non-numeric values are odd: the caller records null and warns.
pub fn seconds(raw: Option<&str>) -> Result<f64, Odd> {
    let s = raw.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return Err(Odd::Missing);
    }
    if s.contains(',') {
        return Err(Odd::Bad("a thousands or decimal comma"));
    }
    match s.parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(Odd::Bad("not a finite number")),
        Ok(v) if v < 0.0 => Err(Odd::Bad("negative")),
        Ok(v) => Ok(v),
        Err(_) => Err(Odd::Bad("not a number")),
    }
}

/// A count or line number from an attribute; a value that is not one is kept in `extra` under
/// the attribute's name, as written.
pub fn count(
    v: String,
    key: std::borrow::Cow<'static, str>,
    extra: &mut std::collections::BTreeMap<std::borrow::Cow<'static, str>, String>,
) -> Option<u64> {
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            extra.insert(key, v);
            None
        }
    }
}

/// Warns once per file about odd values of one kind.
#[derive(Default)]
pub struct OnceWarn {
    warned: bool,
}

impl OnceWarn {
    /// Calls `f` to warn the first time only.
    pub fn warn(&mut self, f: impl FnOnce()) {
        if !self.warned {
            self.warned = true;
            f();
        }
    }
}

/// A timestamp that is not ISO 8601.
#[derive(Debug, PartialEq, Eq)]
pub struct NotIso;

/// Normalises an ISO 8601 timestamp as written: `T` between date and time, seconds present,
/// the fraction kept, the zone kept only when given (`Z` or `±hh:mm`). A date alone gets
/// midnight. Known "unknown" sentinels (year 1, the Unix epoch without a zone) give `Ok(None)`.
/// Anything else that is not such a timestamp is `Err`.
pub fn timestamp(raw: &str) -> Result<Option<String>, NotIso> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Option<&str> {
        let part = s.get(from..from + n)?;
        part.bytes().all(|c| c.is_ascii_digit()).then_some(part)
    };
    let (year, month, day) = match (digits(0, 4), digits(5, 2), digits(8, 2)) {
        (Some(y), Some(m), Some(d)) if b[4] == b'-' && b[7] == b'-' => (y, m, d),
        _ => return Err(NotIso),
    };
    let (mo, da): (u32, u32) = (month.parse().unwrap_or(0), day.parse().unwrap_or(0));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
        return Err(NotIso);
    }
    let mut out = format!("{year}-{month}-{day}T");
    let mut i = 10;
    if i == b.len() {
        out.push_str("00:00:00");
    } else {
        if b[i] != b'T' && b[i] != b't' && b[i] != b' ' {
            return Err(NotIso);
        }
        i += 1;
        let (h, m) = match (digits(i, 2), digits(i + 3, 2)) {
            (Some(h), Some(m)) if b.get(i + 2) == Some(&b':') => (h, m),
            _ => return Err(NotIso),
        };
        if h.parse::<u32>().unwrap_or(99) > 23 || m.parse::<u32>().unwrap_or(99) > 59 {
            return Err(NotIso);
        }
        out.push_str(h);
        out.push(':');
        out.push_str(m);
        i += 5;
        if b.get(i) == Some(&b':') {
            let sec = digits(i + 1, 2).ok_or(NotIso)?;
            if sec.parse::<u32>().unwrap_or(99) > 60 {
                return Err(NotIso);
            }
            out.push(':');
            out.push_str(sec);
            i += 3;
            if matches!(b.get(i), Some(b'.') | Some(b',')) {
                let f = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if f == 0 {
                    return Err(NotIso);
                }
                out.push('.');
                out.push_str(&s[i + 1..i + 1 + f]);
                i += 1 + f;
            }
        } else {
            out.push_str(":00");
        }
    }
    let zone = s[i..].trim_start();
    match zone {
        "" => {}
        "Z" | "z" => out.push('Z'),
        _ => {
            let zb = zone.as_bytes();
            let sign = zb[0];
            if sign != b'+' && sign != b'-' {
                return Err(NotIso);
            }
            let rest = &zone[1..];
            let (hh, mm) = match rest.len() {
                2 => (rest, "00"),
                4 => (&rest[..2], &rest[2..]),
                5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
                _ => return Err(NotIso),
            };
            if !hh.bytes().chain(mm.bytes()).all(|c| c.is_ascii_digit()) {
                return Err(NotIso);
            }
            out.push(sign as char);
            out.push_str(hh);
            out.push(':');
            out.push_str(mm);
        }
    }
    if year == "0001" || (out.starts_with("1970-01-01T00:00:00") && out.len() <= 20) {
        return Ok(None);
    }
    Ok(Some(out))
}

/// Collects `[[ATTACHMENT|path]]` and `[[PROPERTY|name=value]]` lines from test output.
/// Attachment paths are resolved against `dir` (the report's folder) unless absolute or URLs.
pub fn scan_output(
    text: &str,
    dir: Option<&Path>,
    attachments: &mut Vec<String>,
    props: &mut Vec<Property>,
) {
    if !text.contains("[[") {
        return;
    }
    for line in text.lines() {
        let line = line.trim();
        if let Some(p) = line
            .strip_prefix("[[ATTACHMENT|")
            .and_then(|r| r.strip_suffix("]]"))
        {
            if let Some(a) = resolve_attachment(p, dir) {
                attachments.push(a);
            }
        } else if let Some(p) = line
            .strip_prefix("[[PROPERTY|")
            .and_then(|r| r.strip_suffix("]]"))
        {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            props.push(Property {
                name: name.to_string(),
                value: value.to_string(),
            });
        }
    }
}

/// An attachment path as a user can open it: URLs and absolute paths as written, relative
/// paths joined to the report's folder. An empty path is no attachment.
pub fn resolve_attachment(path: &str, dir: Option<&Path>) -> Option<String> {
    let p = path.trim();
    if p.is_empty() {
        return None;
    }
    if p.contains("://") || Path::new(p).is_absolute() {
        return Some(p.to_string());
    }
    Some(match dir {
        Some(d) if !d.as_os_str().is_empty() => d.join(p).display().to_string(),
        _ => p.to_string(),
    })
}

/// A status word as CSV files and free-form reports write it, and the Spira status it names
/// directly, if any.
pub fn status_word(raw: &str) -> Option<(Status, Option<&'static str>)> {
    let w: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    Some(match w.as_str() {
        "pass" | "passed" | "ok" | "success" | "successful" | "succeeded" | "green" | "good" => {
            (Status::Passed, None)
        }
        "fail" | "failed" | "failure" | "ko" | "red" | "bad" | "nok" => (Status::Failed, None),
        "error" | "errored" | "broken" | "crash" | "crashed" | "exception" | "timeout"
        | "timedout" => (Status::Error, None),
        "skip" | "skipped" | "ignore" | "ignored" | "pending" | "disabled" | "todo"
        | "excluded" | "xfail" | "xfailed" | "notexecuted" => (Status::Skipped, None),
        "warning" | "warn" | "warned" => (Status::Warning, None),
        "blocked" => (Status::Error, Some("Blocked")),
        "caution" => (Status::Warning, Some("Caution")),
        "notrun" => (Status::Skipped, Some("Not Run")),
        "n/a" | "na" | "notapplicable" => (Status::Skipped, Some("N/A")),
        _ => return None,
    })
}

/// A test case ID as users write it: `123`, `TC123`, `TC:123`, `TC-123`.
pub fn test_case_id(raw: &str) -> Option<u64> {
    let s = raw.trim();
    let s = s
        .strip_prefix("TC")
        .or_else(|| s.strip_prefix("tc"))
        .map(|r| r.trim_start_matches([':', '-', ' ']))
        .unwrap_or(s);
    s.parse::<u64>().ok().filter(|&n| n > 0)
}

/// `Namespace.Class.Method` with class `Namespace.Class` becomes `Method`, the full name kept
/// in `extra.fullname`, so that `classname.name` does not repeat the class.
pub fn strip_class_prefix(r: &mut crate::record::TestResult) {
    if let (Some(c), Some(n)) = (&r.classname, &r.name) {
        if let Some(rest) = n.strip_prefix(c.as_str()).and_then(|x| x.strip_prefix('.')) {
            if !rest.is_empty() {
                let full = n.clone();
                r.name = Some(rest.to_string());
                r.extra.insert("fullname".into(), full);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seconds() {
        assert_eq!(seconds(Some("1.5")), Ok(1.5));
        assert_eq!(seconds(Some(" 2 ")), Ok(2.0));
        assert_eq!(seconds(Some("1.4e-05")), Ok(1.4e-05));
        assert_eq!(seconds(None), Err(Odd::Missing));
        assert_eq!(seconds(Some("")), Err(Odd::Missing));
        assert!(seconds(Some("1,234.5")).is_err());
        assert!(seconds(Some("-1")).is_err());
        assert!(seconds(Some("NaN")).is_err());
        assert!(seconds(Some("abc")).is_err());
    }

    #[test]
    fn normalises_timestamps() {
        let t = |s| timestamp(s);
        assert_eq!(
            t("2024-05-14T12:00:00Z"),
            Ok(Some("2024-05-14T12:00:00Z".into()))
        );
        assert_eq!(
            t("2024-05-14 12:00:00"),
            Ok(Some("2024-05-14T12:00:00".into()))
        );
        assert_eq!(
            t("2024-05-14T12:00:00.123+0200"),
            Ok(Some("2024-05-14T12:00:00.123+02:00".into()))
        );
        assert_eq!(t("2024-05-14"), Ok(Some("2024-05-14T00:00:00".into())));
        assert_eq!(
            t("2024-05-14T12:00"),
            Ok(Some("2024-05-14T12:00:00".into()))
        );
        assert_eq!(t("0001-01-01T00:00:00Z"), Ok(None));
        assert_eq!(t("1970-01-01T00:00:00"), Ok(None));
        assert_eq!(t(""), Ok(None));
        assert_eq!(t("yesterday"), Err(NotIso));
        assert_eq!(t("2024-13-01"), Err(NotIso));
    }

    #[test]
    fn finds_attachments_and_properties() {
        let mut a = Vec::new();
        let mut p = Vec::new();
        scan_output(
            "x\n[[ATTACHMENT|shots/a.png]]\n[[ATTACHMENT|]]\n[[ATTACHMENT|https://e/x]]\n[[PROPERTY|k=v]]\n",
            Some(Path::new("reports")),
            &mut a,
            &mut p,
        );
        assert_eq!(a, ["reports/shots/a.png", "https://e/x"]);
        assert_eq!(
            p,
            [Property {
                name: "k".into(),
                value: "v".into()
            }]
        );
    }

    #[test]
    fn reads_status_words_and_ids() {
        assert_eq!(status_word("OK"), Some((Status::Passed, None)));
        assert_eq!(
            status_word("Not Run"),
            Some((Status::Skipped, Some("Not Run")))
        );
        assert_eq!(
            status_word("blocked"),
            Some((Status::Error, Some("Blocked")))
        );
        assert_eq!(status_word("maybe"), None);
        assert_eq!(test_case_id("TC:12"), Some(12));
        assert_eq!(test_case_id("TC-7"), Some(7));
        assert_eq!(test_case_id("42"), Some(42));
        assert_eq!(test_case_id("x"), None);
    }
}

/// Odd durations and timestamps in one file: each read gives null for an odd value, and the
/// first odd value of each kind is warned about, with where it was.
#[derive(Default)]
pub struct OddValues {
    time: OnceWarn,
    stamp: OnceWarn,
}

impl OddValues {
    /// Seconds from attribute `attr` of element `elem`; `scale` divides (1000 for ms).
    pub fn seconds(
        &mut self,
        raw: Option<&str>,
        scale: f64,
        elem: &str,
        attr: &str,
        at: impl FnOnce() -> String,
    ) -> Option<f64> {
        match seconds(raw) {
            Ok(v) => Some(v / scale),
            Err(odd) => {
                self.time.warn(|| {
                    let what = match (&odd, raw) {
                        (Odd::Missing, None) => format!("has no {attr}"),
                        (Odd::Missing, Some(_)) => format!("has an empty {attr}"),
                        (Odd::Bad(why), Some(t)) => format!("has {attr} \"{t}\" ({why})"),
                        (Odd::Bad(why), None) => why.to_string(),
                    };
                    crate::cli::warn(format_args!(
                        "{}: {elem} {what}; duration null (further ones in this file are not reported)",
                        at()
                    ))
                });
                None
            }
        }
    }

    /// A duration already read some other way, or the reason it could not be.
    pub fn other(&mut self, v: Result<f64, String>, at: impl FnOnce() -> String) -> Option<f64> {
        match v {
            Ok(v) => Some(v),
            Err(why) => {
                self.time.warn(|| {
                    crate::cli::warn(format_args!(
                        "{}: {why}; duration null (further ones in this file are not reported)",
                        at()
                    ))
                });
                None
            }
        }
    }

    /// A normalised timestamp, or null (and the first time, a warning) when it is not ISO 8601.
    pub fn timestamp(&mut self, raw: &str, at: impl FnOnce() -> String) -> Option<String> {
        match timestamp(raw) {
            Ok(t) => t,
            Err(NotIso) => {
                self.stamp.warn(|| {
                    crate::cli::warn(format_args!(
                        "{}: timestamp \"{raw}\" is not ISO 8601; null used (further ones in this file are not reported)",
                        at()
                    ))
                });
                None
            }
        }
    }
}

/// Seconds from a .NET `TimeSpan` as TRX writes it: `[d.]hh:mm:ss[.fffffff]`.
pub fn timespan(raw: &str) -> Result<f64, String> {
    let s = raw.trim();
    let bad = || format!("duration \"{raw}\" is not [d.]hh:mm:ss[.fffffff]");
    let (days, rest) = match s.split_once(':') {
        Some((h, _)) if h.contains('.') => {
            let (d, _) = h.split_once('.').ok_or_else(bad)?;
            (d.parse::<f64>().map_err(|_| bad())?, &s[d.len() + 1..])
        }
        _ => (0.0, s),
    };
    let mut parts = rest.split(':');
    let (h, m, sec) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(m), Some(sec), None) => (h, m, sec),
        _ => return Err(bad()),
    };
    let h: f64 = h.parse().map_err(|_| bad())?;
    let m: f64 = m.parse().map_err(|_| bad())?;
    let sec: f64 = sec.parse().map_err(|_| bad())?;
    let total = days * 86400.0 + h * 3600.0 + m * 60.0 + sec;
    if total.is_finite() && total >= 0.0 && !sec.is_sign_negative() {
        Ok(total)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod timespan_tests {
    use super::*;

    #[test]
    fn reads_timespans() {
        assert_eq!(timespan("00:00:01.5000000"), Ok(1.5));
        assert_eq!(timespan("01:02:03"), Ok(3723.0));
        assert_eq!(timespan("1.00:00:01"), Ok(86401.0));
        assert!(timespan("soon").is_err());
        assert!(timespan("1:2").is_err());
    }
}
