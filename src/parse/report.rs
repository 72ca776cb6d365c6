//! Where a format parser sends the results of one report: written as result lines, and
//! counted by status.

use std::path::Path;
use std::sync::Arc;

use crate::cli;
use crate::error::Result;
use crate::record::{Status, TestResult};

/// Counts of results written, by status.
#[derive(Default, Debug, Clone, Copy)]
pub(crate) struct Counts {
    /// Results per status, in [`Status::ALL`] order.
    pub(crate) by_status: [u64; 5],
}

impl Counts {
    /// All results.
    pub(crate) fn total(&self) -> u64 {
        self.by_status.iter().sum()
    }
}

/// Where a parser sends the results of one report.
pub(crate) struct Report<'w> {
    /// The report's name in messages and in result lines.
    pub(crate) name: Arc<str>,
    /// The report's folder, against which relative attachment paths are resolved.
    pub(crate) dir: Option<&'w Path>,
    pub(super) out: &'w mut cli::LineOut,
    pub(super) counts: &'w mut Counts,
    pub(super) shared: crate::record::SharedJson,
}

impl Report<'_> {
    /// Writes out the result lines gathered: the input may wait now.
    pub(crate) fn hand_on(&mut self) -> Result<()> {
        self.out.hand_on()
    }

    /// Writes one result line.
    pub(crate) fn emit(&mut self, r: &TestResult) -> Result<()> {
        let shared = &mut self.shared;
        self.out.line(|buf| r.write_json_shared(buf, shared))?;
        let i = Status::ALL.iter().position(|s| *s == r.status).unwrap_or(0);
        self.counts.by_status[i] += 1;
        Ok(())
    }
}
