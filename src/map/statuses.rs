//! Which Spira execution status a result gets: its own Spira status word if it carries one,
//! else its outcome, through a table the user may change (`--status NAME=ID`).

use crate::record::Status;
use crate::spira::status as sid;

/// The status ID of each outcome and Spira status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StatusIds {
    pub(super) passed: u8,
    pub(super) failed: u8,
    pub(super) error: u8,
    pub(super) skipped: u8,
    pub(super) warning: u8,
    pub(super) flaky: u8,
    pub(super) blocked: u8,
    pub(super) caution: u8,
    pub(super) not_run: u8,
    pub(super) not_applicable: u8,
}

impl StatusIds {
    /// The defaults, changed by `overrides` (names as `--status` takes them).
    pub(super) fn new(overrides: &[(String, u8)]) -> StatusIds {
        let mut s = StatusIds {
            passed: sid::PASSED,
            failed: sid::FAILED,
            error: sid::BLOCKED,
            skipped: sid::NOT_APPLICABLE,
            warning: sid::CAUTION,
            flaky: sid::PASSED,
            blocked: sid::BLOCKED,
            caution: sid::CAUTION,
            not_run: sid::NOT_RUN,
            not_applicable: sid::NOT_APPLICABLE,
        };
        for (name, id) in overrides {
            if let Some(slot) = s.slot(name) {
                *slot = *id;
            }
        }
        s
    }

    /// The entry for a `--status` name: `passed`, `not-run`, `n/a`, ...
    fn slot(&mut self, name: &str) -> Option<&mut u8> {
        Some(match name {
            "passed" => &mut self.passed,
            "failed" => &mut self.failed,
            "error" => &mut self.error,
            "skipped" => &mut self.skipped,
            "warning" => &mut self.warning,
            "flaky" => &mut self.flaky,
            "blocked" => &mut self.blocked,
            "caution" => &mut self.caution,
            "not-run" => &mut self.not_run,
            "n/a" => &mut self.not_applicable,
            _ => return None,
        })
    }

    /// The status of a result: its Spira status word (`Blocked`, `Not Run`, as the table or
    /// Spira names it) when it has one that is known, else its outcome (a flaky pass apart).
    pub(super) fn of(&self, status: Status, flaky: bool, spira_status: Option<&str>) -> u8 {
        if let Some(native) = spira_status {
            let key = native.to_lowercase().replace(' ', "-");
            let mut table = *self;
            if let Some(id) = table.slot(&key) {
                return *id;
            }
            if let Some(id) = sid::by_name(native) {
                return id;
            }
        }
        match status {
            Status::Passed if flaky => self.flaky,
            Status::Passed => self.passed,
            Status::Failed => self.failed,
            Status::Error => self.error,
            Status::Skipped => self.skipped,
            Status::Warning => self.warning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_words_and_overrides() {
        let s = StatusIds::new(&[("error".into(), 1), ("n/a".into(), 3)]);
        assert_eq!(s.of(Status::Error, false, None), 1);
        assert_eq!(s.of(Status::Skipped, false, None), sid::NOT_APPLICABLE);
        assert_eq!(s.of(Status::Passed, true, None), sid::PASSED);
        assert_eq!(s.of(Status::Failed, false, None), sid::FAILED);
        // A Spira word: through the table first (n/a was changed), then Spira's own names.
        assert_eq!(s.of(Status::Skipped, false, Some("N/A")), 3);
        assert_eq!(s.of(Status::Error, false, Some("Not Run")), sid::NOT_RUN);
        assert_eq!(s.of(Status::Error, false, Some("Blocked")), sid::BLOCKED);
        assert_eq!(s.of(Status::Warning, false, Some("whatever")), sid::CAUTION);
    }
}
