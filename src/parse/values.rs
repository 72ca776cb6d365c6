//! Reading the values every format writes in its own way: durations, timestamps, status words,
//! and attachments named in test output.

use std::path::Path;

use crate::record::Property;

/// Why a value could not be read.
#[derive(Debug, PartialEq)]
pub(crate) enum Odd {
    /// The attribute is absent or empty.
    Missing,
    /// It has a value that is not a plain non-negative number; the reason.
    Bad(&'static str),
}

/// Seconds from a decimal number (`1.5`, `2`, `1.4e-05`). Thousands separators, negative,
/// infinite and non-numeric values are odd: the caller records null and warns.
pub(crate) fn seconds(raw: Option<&str>) -> Result<f64, Odd> {
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

/// [`seconds`] divided by `scale` (1000 for milliseconds), at most 30 days
/// ([`MAX_DURATION`](crate::record::MAX_DURATION)).
pub(crate) fn seconds_scaled(raw: Option<&str>, scale: f64) -> Result<f64, Odd> {
    let v = seconds(raw)? / scale;
    if v > crate::record::MAX_DURATION {
        return Err(Odd::Bad("longer than 30 days"));
    }
    Ok(v)
}

/// A count or line number from an attribute; a value that is not one is kept in `extra` under
/// the attribute's name, as written.
pub(crate) fn count(
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
pub(crate) struct OnceWarn {
    warned: bool,
}

impl OnceWarn {
    /// Calls `f` to warn the first time only.
    pub(crate) fn warn(&mut self, f: impl FnOnce()) {
        if !self.warned {
            self.warned = true;
            f();
        }
    }
}

/// Collects `[[ATTACHMENT|path]]` and `[[PROPERTY|name=value]]` lines from test output.
/// Attachment paths are resolved against `dir` (the report's folder) unless absolute or URLs.
pub(crate) fn scan_output(
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
pub(crate) fn resolve_attachment(path: &str, dir: Option<&Path>) -> Option<String> {
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

/// `Namespace.Class.Method` with class `Namespace.Class` becomes `Method`, the full name kept
/// in `extra.fullname`, so that `classname.name` does not repeat the class.
pub(crate) fn strip_class_prefix(r: &mut crate::record::TestResult) {
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
        assert_eq!(
            seconds_scaled(Some("1e300"), 1.0),
            Err(Odd::Bad("longer than 30 days"))
        );
        assert_eq!(seconds_scaled(Some("2592000000"), 1000.0), Ok(2_592_000.0));
        assert!(seconds_scaled(Some("2592001"), 1.0).is_err());
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
}

/// Odd durations and timestamps in one file: each read gives null for an odd value, and the
/// first odd value of each kind is warned about, with where it was.
#[derive(Default)]
pub(crate) struct OddValues {
    time: OnceWarn,
    stamp: OnceWarn,
}

impl OddValues {
    /// Seconds from attribute `attr` of element `elem`; `scale` divides (1000 for ms).
    pub(crate) fn seconds(
        &mut self,
        raw: Option<&str>,
        scale: f64,
        elem: &str,
        attr: &str,
        at: impl FnOnce() -> String,
    ) -> Option<f64> {
        match seconds_scaled(raw, scale) {
            Ok(v) => Some(v),
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
    pub(crate) fn other(
        &mut self,
        v: Result<f64, String>,
        at: impl FnOnce() -> String,
    ) -> Option<f64> {
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
    pub(crate) fn timestamp(&mut self, raw: &str, at: impl FnOnce() -> String) -> Option<String> {
        match crate::date::normalize(raw) {
            Ok(t) => t,
            Err(crate::date::NotIso) => {
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
pub(crate) fn timespan(raw: &str) -> Result<f64, String> {
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
    if total > crate::record::MAX_DURATION && total.is_finite() {
        return Err(format!("duration \"{raw}\" is longer than 30 days"));
    }
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
        assert!(timespan("31.00:00:00").is_err(), "longer than 30 days");
    }
}
