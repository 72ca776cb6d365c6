//! A run record built from a result: its test case and set, status, dates, names, message,
//! stack trace, parameters, steps and the properties every run gets from the command line.

use std::sync::Arc;

use super::args::{Args, DateFormat, Steps};
use super::line::Line;
use super::params::parameters;
use super::statuses::StatusIds;
use super::trace::html_escape;
use crate::date::{self, Millis};
use crate::record::{CustomProperty, RunStep, Status, TestRun};
use crate::spira;

/// What every run gets from the command line, and how dates are written.
pub(super) struct Runs {
    pub(super) statuses: StatusIds,
    pub(super) runner_name: Arc<str>,
    pub(super) release: Option<u64>,
    pub(super) test_set: Option<u64>,
    build: Option<u64>,
    test_configuration: Option<u64>,
    automation_host: Option<u64>,
    custom_properties: Vec<CustomProperty>,
    parameters_from_name: bool,
    steps: Option<Steps>,
    html: bool,
    date_format: DateFormat,
    /// The last day a date was written for.
    day: std::cell::Cell<date::IsoDay>,
}

/// Which test case and set a run is for, and when it ran.
pub(super) struct Placed {
    pub(super) test_case: u64,
    /// The set the map entry, else the suite's map entry gives.
    pub(super) test_set: Option<u64>,
    pub(super) start: Millis,
    pub(super) end: Millis,
}

/// What the names given on the command line stand for, asked of the server once before the
/// first line; with IDs alone, nothing is asked.
pub(super) struct Named {
    pub(super) release: Option<u64>,
    pub(super) test_set: Option<u64>,
    pub(super) automation_host: Option<u64>,
    /// Every `--custom-property`, the named ones resolved.
    pub(super) custom_properties: Vec<CustomProperty>,
}

impl Named {
    /// Also gives the map file's entries that name a test set their IDs.
    pub(super) fn resolve(
        args: &Args,
        resolver: &mut crate::mapping::Resolver,
    ) -> crate::error::Result<Named> {
        use super::args::CustomArg;
        let any_name = args.release_version.is_some()
            || !resolver.test_set_names().is_empty()
            || args.test_set_name.is_some()
            || args.automation_host_name.is_some()
            || args
                .custom_properties
                .iter()
                .any(|c| matches!(c, CustomArg::Named(..)));
        let mut names = match any_name {
            true => Some(crate::names::Names::connect(&args.conn)?),
            false => None,
        };
        let mut named = Named {
            release: None,
            test_set: None,
            automation_host: None,
            custom_properties: Vec::new(),
        };
        let Some(n) = names.as_mut() else {
            for c in &args.custom_properties {
                if let CustomArg::Numbered(p) = c {
                    named.custom_properties.push(p.clone());
                }
            }
            return Ok(named);
        };
        if let Some(v) = &args.release_version {
            named.release = Some(n.release(v)?);
        }
        if let Some(t) = &args.test_set_name {
            named.test_set = Some(n.test_set(t)?);
        }
        resolver.name_test_sets(|name| n.test_set(name))?;
        if let Some(h) = &args.automation_host_name {
            named.automation_host = Some(n.automation_host(h)?);
        }
        for c in &args.custom_properties {
            named.custom_properties.push(match c {
                CustomArg::Numbered(p) => p.clone(),
                CustomArg::Named(name, value) => n.custom_property(name, value)?,
            });
        }
        Ok(named)
    }
}

impl Runs {
    /// From the command line, with the release and test set it resolved (flags or spira.cfg).
    pub(super) fn new(
        args: &Args,
        release: Option<u64>,
        test_set: Option<u64>,
        named: Named,
    ) -> Runs {
        Runs {
            statuses: StatusIds::new(&args.statuses),
            runner_name: args.runner_name.as_str().into(),
            release,
            test_set,
            build: args.build,
            test_configuration: args.test_configuration,
            automation_host: named.automation_host.or(args.automation_host),
            custom_properties: named.custom_properties,
            parameters_from_name: args.parameters_from_name,
            steps: args.steps,
            html: args.html,
            date_format: args.date_format,
            day: Default::default(),
        }
    }

    fn date(&self, t: Millis) -> String {
        match self.date_format {
            DateFormat::Iso => {
                let mut day = self.day.get();
                let s = date::format_iso_cached(t, &mut day);
                self.day.set(day);
                s
            }
            DateFormat::Wcf => date::format_wcf(t),
        }
    }

    fn status_id(&self, r: &Line<'_>) -> u8 {
        self.statuses
            .of(r.status, r.flaky, r.spira_status.as_deref())
    }

    /// The run of result `r` at `at`; `trace` is its stack trace as text (written as HTML with
    /// `--html`), when not written straight from the line.
    pub(super) fn build(&self, r: &Line<'_>, at: &Placed, trace: Option<String>) -> TestRun {
        let (trace, format) = match (trace, self.html) {
            (Some(t), true) => (Some(format!("<pre>{}</pre>", html_escape(&t))), 2),
            (t, _) => (t, 1),
        };
        let text = |s: &str| spira::truncate_utf16(s, spira::TEXT_255).into_owned();
        TestRun {
            test_case_id: at.test_case,
            execution_status_id: self.status_id(r),
            start_date: self.date(at.start),
            end_date: Some(self.date(at.end)),
            runner_name: self.runner_name.clone(),
            runner_test_name: text(&super::line::display_name(r)),
            runner_message: text(&message(r).unwrap_or_else(|| outcome(r.status).into())),
            runner_stack_trace: trace.unwrap_or_default(),
            test_run_format_id: format,
            runner_assert_count: r.assertions,
            release_id: self.release,
            test_set_id: at.test_set.or(self.test_set),
            build_id: self.build,
            test_configuration_id: self.test_configuration,
            automation_host_id: self.automation_host,
            parameters: match (self.parameters_from_name, r.name.as_deref()) {
                (true, Some(n)) => parameters(n),
                _ => Vec::new(),
            },
            test_run_steps: match self.steps {
                Some(Steps::Reruns) if !r.reruns.is_empty() => self.steps(r),
                Some(Steps::Steps) => self.result_steps(r),
                _ => Vec::new(),
            },
            custom_properties: self.custom_properties.clone(),
            attachments: r.attachments.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// One step per attempt: the earlier ones from `reruns`, the last one the result itself.
    fn steps(&self, r: &Line<'_>) -> Vec<RunStep> {
        let mut steps: Vec<RunStep> = r
            .reruns
            .iter()
            .enumerate()
            .map(|(i, x)| RunStep {
                description: format!("Attempt {} ({})", i + 1, x.kind),
                execution_status_id: match x.status {
                    Some(Status::Error) => self.statuses.error,
                    _ => self.statuses.failed,
                },
                actual_result: join_nonempty(&[x.message.as_deref(), x.details.as_deref()], "\n"),
                position: i as u32 + 1,
            })
            .collect();
        steps.push(RunStep {
            description: format!("Attempt {} (final)", steps.len() + 1),
            execution_status_id: self.status_id(r),
            actual_result: r.message.as_deref().map(str::to_string),
            position: steps.len() as u32 + 1,
        });
        steps
    }
}

impl Runs {
    /// One TestRunStep per step of the result: Description its name (Spira refuses an empty
    /// one), ActualResult its message, the status by the same table as runs.
    fn result_steps(&self, r: &Line<'_>) -> Vec<RunStep> {
        r.steps
            .iter()
            .enumerate()
            .map(|(i, x)| RunStep {
                description: match x.name.trim() {
                    "" => format!("Step {}", i + 1),
                    n => n.to_string(),
                },
                execution_status_id: self.statuses.of(x.status, false, None),
                actual_result: x.message.as_deref().map(str::to_string),
                position: i as u32 + 1,
            })
            .collect()
    }
}

/// RunnerMessage: the first line of the message that is not blank; a flaky pass says so.
fn message(r: &Line<'_>) -> Option<String> {
    let first = r
        .message
        .as_deref()
        .and_then(|m| m.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(str::to_string);
    if !(r.flaky && r.status == Status::Passed) {
        return first;
    }
    let n = r.reruns.len();
    let note = format!(
        "Flaky: passed after {n} failed attempt{}",
        if n == 1 { "" } else { "s" }
    );
    Some(match first {
        Some(m) => format!("{note}; {m}"),
        None => note,
    })
}

/// RunnerMessage of a result without a message: its outcome.
fn outcome(s: Status) -> &'static str {
    match s {
        Status::Passed => "Passed",
        Status::Failed => "Failed",
        Status::Error => "Error",
        Status::Skipped => "Skipped",
        Status::Warning => "Warning",
    }
}

fn join_nonempty(parts: &[Option<&str>], sep: &str) -> Option<String> {
    let v: Vec<&str> = parts
        .iter()
        .flatten()
        .copied()
        .filter(|s| !s.is_empty())
        .collect();
    (!v.is_empty()).then(|| v.join(sep))
}
