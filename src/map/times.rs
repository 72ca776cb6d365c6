//! When each run started and ended. A result with its own start keeps it; one whose suite has a
//! start follows the suite's earlier results (a cursor per suite, moved on by each duration);
//! one with no time at all follows the results before it from the reference time (`--start`,
//! or now).

use std::collections::HashMap;

use crate::date::{self, Millis};

/// The suites' cursors and the reference time.
pub(super) struct Clock {
    /// Where the next run of a suite starts, by report and suite path.
    cursors: HashMap<String, Millis>,
    /// The key of `cursors` being built, kept to spare an allocation per result.
    key: String,
    /// The cursor in use, taken out of `cursors` while results of its suite follow each other.
    current: Option<(String, Millis)>,
    /// Where the next run without any time starts.
    reference: Millis,
    /// Minutes from UTC of times written without a zone.
    zone: i32,
    /// A start or suite start of the last result that could not be read (an impossible date
    /// such as `2024-02-30`): the caller warns about it.
    pub(super) unreadable: Option<String>,
}

/// What of a result the clock reads.
pub(super) struct Times<'a, S: AsRef<str>> {
    pub(super) report: &'a str,
    pub(super) suites: &'a [S],
    pub(super) start: Option<&'a str>,
    pub(super) suite_start: Option<&'a str>,
    pub(super) duration: Option<f64>,
}

impl Clock {
    /// A clock whose runs without any time start at `reference`; times without a zone are read
    /// at `zone` minutes from UTC.
    pub(super) fn new(reference: Millis, zone: i32) -> Clock {
        Clock {
            cursors: HashMap::new(),
            key: String::new(),
            current: None,
            reference,
            zone,
            unreadable: None,
        }
    }

    /// Start and end of a result's run: its own start; else its suite's start plus the
    /// durations of the suite's earlier results; else the reference time plus the durations of
    /// all earlier results without times. Far dates saturate instead of wrapping.
    pub(super) fn times<S: AsRef<str>>(&mut self, r: &Times<'_, S>) -> (Millis, Millis) {
        let dur = r.duration.map_or(0, |d| (d * 1000.0).round() as Millis);
        let zone = self.zone;
        let mut read = |s: Option<&str>| {
            let s = s?;
            let t = date::parse_iso(s, zone);
            if t.is_none() {
                self.unreadable = Some(s.to_string());
            }
            t
        };
        let start = if let Some(t) = read(r.start) {
            t
        } else if let Some(t) = read(r.suite_start) {
            self.key.clear();
            self.key.push_str(r.report);
            for s in r.suites {
                self.key.push('\u{1f}');
                self.key.push_str(s.as_ref());
            }
            let cursor = self.cursor(t);
            let s = *cursor;
            *cursor = cursor.saturating_add(dur);
            s
        } else {
            let s = self.reference;
            self.reference = self.reference.saturating_add(dur);
            s
        };
        (start, start.saturating_add(dur))
    }

    /// The cursor of the suite `self.key`, starting at `suite_start` the first time.
    fn cursor(&mut self, suite_start: Millis) -> &mut Millis {
        if self.current.as_ref().is_some_and(|(k, _)| *k != self.key) {
            if let Some((k, c)) = self.current.take() {
                self.cursors.insert(k, c);
            }
        }
        let (key, cursors) = (&self.key, &mut self.cursors);
        let current = self.current.get_or_insert_with(|| {
            let c = cursors.remove(key.as_str()).unwrap_or(suite_start);
            (key.clone(), c)
        });
        &mut current.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(
        clock: &mut Clock,
        suites: &[&str],
        start: Option<&str>,
        suite_start: Option<&str>,
        d: f64,
    ) -> (Millis, Millis) {
        clock.times(&Times {
            report: "r.xml",
            suites,
            start,
            suite_start,
            duration: Some(d),
        })
    }

    #[test]
    fn cursors_follow_each_suite_and_the_reference() {
        let t0 = date::parse_iso("2024-05-14T12:00:00Z", 0).unwrap();
        let mut c = Clock::new(t0, 0);
        let s1 = Some("2024-05-14T10:00:00Z");
        let s2 = Some("2024-05-14T11:00:00Z");
        let h = 3_600_000;
        // A result's own start wins, and moves nothing.
        assert_eq!(
            at(&mut c, &["a"], Some("2024-05-14T09:00:00Z"), s1, 2.0),
            (t0 - 3 * h, t0 - 3 * h + 2000)
        );
        // Two suites interleaved: each keeps its own cursor.
        assert_eq!(
            at(&mut c, &["a"], None, s1, 1.5),
            (t0 - 2 * h, t0 - 2 * h + 1500)
        );
        assert_eq!(at(&mut c, &["b"], None, s2, 1.0), (t0 - h, t0 - h + 1000));
        assert_eq!(
            at(&mut c, &["a"], None, s1, 1.0),
            (t0 - 2 * h + 1500, t0 - 2 * h + 2500)
        );
        assert_eq!(
            at(&mut c, &["b"], None, s2, 1.0),
            (t0 - h + 1000, t0 - h + 2000)
        );
        // No time at all: from the reference, one after the other.
        assert_eq!(at(&mut c, &["c"], None, None, 3.0), (t0, t0 + 3000));
        assert_eq!(at(&mut c, &["c"], None, None, 1.0), (t0 + 3000, t0 + 4000));
        // A zone-less time is read in the clock's zone.
        let mut c = Clock::new(t0, 120);
        assert_eq!(
            at(&mut c, &["a"], Some("2024-05-14T14:00:00"), None, 0.0),
            (t0, t0)
        );
        // A duration past every date saturates instead of wrapping.
        let (s, e) = at(&mut c, &["a"], None, None, 1e300);
        assert_eq!((s, e), (t0, Millis::MAX));
    }
}
