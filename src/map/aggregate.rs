//! `--aggregate`: one run per test case and test set, the worst status, the earliest start, the
//! latest end, and a list of its members.

use std::collections::{BTreeMap, HashMap};

use super::trace::html_escape;
use crate::cli;
use crate::date;
use crate::error::Result;
use crate::record::TestRun;
use crate::spira::{self, status as sid};

/// Runs gathered by (test case, test set), in first-seen order, each with its members' names
/// and statuses.
#[derive(Default)]
pub(super) struct Groups {
    groups: Vec<(TestRun, Vec<(String, u8)>)>,
    index: HashMap<(u64, Option<u64>), usize>,
}

impl Groups {
    /// Adds a run of the test `name`.
    pub(super) fn add(&mut self, run: TestRun, name: String) {
        let key = (run.test_case_id, run.test_set_id);
        let member = (name, run.execution_status_id);
        match self.index.get(&key) {
            Some(&i) => merge(&mut self.groups[i], run, member),
            None => {
                self.index.insert(key, self.groups.len());
                self.groups.push((run, vec![member]));
            }
        }
    }

    /// Writes the aggregates; returns how many.
    pub(super) fn write(self, out: &mut cli::LineOut, html: bool) -> Result<u64> {
        let mut n = 0;
        for (mut run, members) in self.groups {
            if members.len() > 1 {
                finish_aggregate(&mut run, &members, html);
            }
            n += 1;
            out.line(|buf| run.write_json(buf))?;
        }
        Ok(n)
    }
}

/// Folds a run into its aggregate: worst status, earliest start, latest end.
fn merge(group: &mut (TestRun, Vec<(String, u8)>), run: TestRun, member: (String, u8)) {
    let g = &mut group.0;
    if sid::severity(run.execution_status_id) > sid::severity(g.execution_status_id) {
        g.execution_status_id = run.execution_status_id;
    }
    let key = |d: &str| date::parse_any(d).unwrap_or(0);
    if key(&run.start_date) < key(&g.start_date) {
        g.start_date = run.start_date;
    }
    if let (Some(a), Some(b)) = (&run.end_date, &g.end_date) {
        if key(a) > key(b) {
            g.end_date = run.end_date.clone();
        }
    }
    g.runner_assert_count = match (g.runner_assert_count, run.runner_assert_count) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    };
    g.attachments.extend(run.attachments);
    group.1.push(member);
}

/// The aggregate's texts: a summary message and each member with its status.
fn finish_aggregate(run: &mut TestRun, members: &[(String, u8)], html: bool) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, s) in members {
        *counts.entry(sid::name(*s)).or_default() += 1;
    }
    let summary = counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    run.runner_message = spira::truncate_utf16(
        &format!("{} tests: {summary}", members.len()),
        spira::TEXT_255,
    )
    .into_owned();
    run.runner_test_name = spira::truncate_utf16(
        &format!("{} tests aggregated", members.len()),
        spira::TEXT_255,
    )
    .into_owned();
    let list: String = members
        .iter()
        .map(|(n, s)| format!("{}: {n}\n", sid::name(*s)))
        .collect();
    run.runner_stack_trace = if html {
        format!("<pre>{}</pre>", html_escape(&list))
    } else {
        list.trim_end().to_string()
    };
}
