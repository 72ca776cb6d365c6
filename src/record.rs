//! The serde types that are the JSON-lines contracts between the tools.
//!
//! A **result** line ([`TestResult`]) is one executed test as a report describes it; its schema
//! is `schemas/test-result.schema.json`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::json;

/// The records a pipeline passes along, for the hint a tool gives when it is handed the wrong
/// ones (`spira-post` given run lines: "put spira-batch before spira-post").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A result line: spira-parse's output, spira-map's and spira-cases' input.
    Result,
    /// A run line: spira-map's output, spira-batch's input.
    Run,
    /// A batch line: spira-batch's output, spira-post's input.
    Batch,
}

impl Kind {
    /// What a line looks like, from its keys (a batch: from its first run); `None` when it is
    /// none of the three.
    pub(crate) fn of(line: &[u8]) -> Option<Kind> {
        let v: serde_json::Value = serde_json::from_slice(line).ok()?;
        let is_run = |o: &serde_json::Value| {
            o.get("TestCaseId").is_some() && o.get("ExecutionStatusId").is_some()
        };
        match &v {
            serde_json::Value::Array(a) => a.first().filter(|r| is_run(r)).map(|_| Kind::Batch),
            o if is_run(o) => Some(Kind::Run),
            o if o.get("format").is_some() && o.get("status").is_some() => Some(Kind::Result),
            _ => None,
        }
    }

    /// The hint for a tool that reads `wanted` and was given `line`, when the line looks like
    /// another stage's records.
    pub(crate) fn hint(line: &[u8], wanted: Kind) -> Option<&'static str> {
        let got = Kind::of(line).filter(|k| *k != wanted)?;
        Some(match (got, wanted) {
            (Kind::Run, Kind::Batch) => "this looks like a run line: put spira-batch before spira-post",
            (Kind::Result, Kind::Batch) => {
                "this looks like a result line: put spira-map and spira-batch before spira-post"
            }
            (Kind::Result, _) => "this looks like a result line: put spira-map before spira-batch",
            (Kind::Batch, Kind::Run) => {
                "this looks like a batch line already: spira-batch --unbatch turns it back into run lines"
            }
            (Kind::Run, _) => {
                "this looks like a run line (spira-map's output): this tool reads the result lines of spira-parse"
            }
            (Kind::Batch, _) => {
                "this looks like a batch line (spira-batch's output): this tool reads the result lines of spira-parse"
            }
        })
    }
}

/// The normalised outcome of one test.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// The test passed.
    Passed,
    /// The test ran and a check failed.
    Failed,
    /// The test could not run to its end: an exception, a crash, a setup failure.
    Error,
    /// The test was not run.
    Skipped,
    /// The test passed with a warning (JUnit `<warning>`, NUnit Warning, TRX Warning).
    Warning,
}

impl Status {
    /// The lower-case name used in result lines.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Skipped => "skipped",
            Status::Warning => "warning",
        }
    }

    /// All statuses, in the order summaries print them.
    pub(crate) const ALL: [Status; 5] = [
        Status::Passed,
        Status::Failed,
        Status::Error,
        Status::Skipped,
        Status::Warning,
    ];
}

/// A status word as CSV files and free-form reports write it, and the Spira status it names
/// directly, if any.
pub(crate) fn status_word(raw: &str) -> Option<(Status, Option<&'static str>)> {
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
pub(crate) fn test_case_id(raw: &str) -> Option<u64> {
    let s = raw.trim();
    let s = s
        .strip_prefix("TC")
        .or_else(|| s.strip_prefix("tc"))
        .map(|r| r.trim_start_matches([':', '-', ' ']))
        .unwrap_or(s);
    s.parse::<u64>().ok().filter(|&n| n > 0)
}

/// The longest duration a test run is believed to take: 30 days, in seconds. A longer one (a
/// report's `time="1e300"`) is counted as unknown, with a warning, rather than sending a run
/// into the year -292275001.
pub(crate) const MAX_DURATION: f64 = 30.0 * 86_400.0;

/// A name/value pair: a report property, an xUnit trait, a CSV extra column.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub(crate) struct Property {
    /// The property's name.
    pub(crate) name: String,
    /// Its value: the `value` attribute, or the element's text when there is no attribute.
    pub(crate) value: String,
}

/// One result element besides the one that decided the status (a second `<failure>`, a
/// `<skipped>` beside an `<error>`...).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub(crate) struct Outcome {
    /// The element as written: `failure`, `error`, `skipped`, `warning`.
    pub(crate) kind: String,
    /// Its message.
    pub(crate) message: Option<String>,
    /// Its type (exception class).
    #[serde(rename = "type")]
    pub(crate) failure_type: Option<String>,
    /// Its body: usually a stack trace.
    pub(crate) details: Option<String>,
}

/// One earlier attempt of a rerun test (surefire `rerunFailure`, `flakyError`, ...).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub(crate) struct Rerun {
    /// The element as written: `rerunFailure`, `rerunError`, `flakyFailure`, `flakyError`.
    pub(crate) kind: String,
    /// The attempt's status: `failed` or `error`.
    pub(crate) status: Option<Status>,
    /// Its message.
    pub(crate) message: Option<String>,
    /// Its type (exception class).
    #[serde(rename = "type")]
    pub(crate) failure_type: Option<String>,
    /// Its stack trace.
    pub(crate) details: Option<String>,
    /// Its standard output.
    pub(crate) stdout: Option<String>,
    /// Its standard error.
    pub(crate) stderr: Option<String>,
    /// Its duration in seconds.
    pub(crate) duration: Option<f64>,
}

/// One step of a test (a BDD step, a Robot keyword, an Allure step), in order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct Step {
    /// What the step did (a BDD step's keyword and text).
    pub(crate) name: String,
    /// Its status.
    pub(crate) status: Status,
    /// Its duration in seconds.
    #[serde(default)]
    pub(crate) duration: Option<f64>,
    /// Its message (the error of a failed step).
    #[serde(default)]
    pub(crate) message: Option<String>,
}

impl Step {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = json::Obj::new(out);
        o.str("name", Some(&self.name));
        o.str("status", Some(self.status.as_str()));
        json::float(o.key("duration"), self.duration);
        o.str("message", self.message.as_deref());
        o.end();
    }
}

fn is_empty_slice<T>(s: &Arc<[T]>) -> bool {
    s.is_empty()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A **result** line: one executed (or skipped) test case as the report describes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct TestResult {
    /// The report's format: `junit`, `csv`, `nunit3`, ...
    pub(crate) format: Cow<'static, str>,
    /// The report file the result comes from, as named on the command line (`<stdin>` for `-`).
    pub(crate) report: Arc<str>,
    /// Enclosing suite names, outer to inner.
    pub(crate) suites: Arc<[String]>,
    /// The class (or group) name, if any.
    pub(crate) classname: Option<String>,
    /// The test's name, if any.
    pub(crate) name: Option<String>,
    /// The normalised status.
    pub(crate) status: Status,
    /// The outcome word as the report wrote it (`failure`, `Failed`, `SKIP`, ...), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) outcome: Option<String>,
    /// A Spira execution status named directly by the report (CSV `blocked`, `caution`,
    /// `not run`, `n/a`): `Blocked`, `Caution`, `Not Run` or `N/A`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) spira_status: Option<String>,
    /// A Spira test case ID given by the report itself (a CSV test case ID column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) test_case_id: Option<u64>,
    /// Duration in seconds; null when the report gives none or an unreadable one.
    pub(crate) duration: Option<f64>,
    /// The test's own start time, ISO 8601, with its offset only when the report gives one.
    pub(crate) start: Option<String>,
    /// The enclosing suite's start time (JUnit `testsuite@timestamp`), same form as `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) suite_start: Option<Arc<str>>,
    /// The message of the result element that decided the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
    /// The failure type (exception class).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_type: Option<String>,
    /// The failure details: usually a stack trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) details: Option<String>,
    /// Standard output captured for this test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stdout: Option<String>,
    /// Standard error captured for this test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stderr: Option<String>,
    /// Further result elements of the same test, in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) other_outcomes: Vec<Outcome>,
    /// The test's own properties, duplicates kept, in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) properties: Vec<Property>,
    /// Properties of the enclosing suites that come before the test, outer suite first.
    #[serde(default, skip_serializing_if = "is_empty_slice")]
    pub(crate) suite_properties: Arc<[Property]>,
    /// The test's source file, if the report names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
    /// The test's source line, if the report names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<u64>,
    /// Number of assertions, if the report counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) assertions: Option<u64>,
    /// Earlier attempts of a rerun test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) reruns: Vec<Rerun>,
    /// The test's steps, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) steps: Vec<Step>,
    /// True when the test passed after failed attempts.
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) flaky: bool,
    /// Attachment paths (resolved against the report's folder) and URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) attachments: Vec<String>,
    /// Everything else the report says about the test: attributes and elements this contract
    /// has no field for, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) extra: BTreeMap<Cow<'static, str>, String>,
}

impl TestResult {
    /// An empty result of `format` from `report`, passed until something says otherwise.
    pub(crate) fn new(format: &'static str, report: &Arc<str>) -> TestResult {
        static NO_SUITES: OnceLock<Arc<[String]>> = OnceLock::new();
        static NO_PROPERTIES: OnceLock<Arc<[Property]>> = OnceLock::new();
        TestResult::in_suites(
            format,
            report,
            Arc::clone(NO_SUITES.get_or_init(|| Arc::from([]))),
            Arc::clone(NO_PROPERTIES.get_or_init(|| Arc::from([]))),
            None,
        )
    }

    /// Like [`TestResult::new`], in the suites `suites` (outer to inner) with their properties
    /// and start time (shared by the results of a suite, not copied).
    pub(crate) fn in_suites(
        format: &'static str,
        report: &Arc<str>,
        suites: Arc<[String]>,
        suite_properties: Arc<[Property]>,
        suite_start: Option<Arc<str>>,
    ) -> TestResult {
        TestResult {
            format: Cow::Borrowed(format),
            report: Arc::clone(report),
            suites,
            classname: None,
            name: None,
            status: Status::Passed,
            outcome: None,
            spira_status: None,
            test_case_id: None,
            duration: None,
            start: None,
            suite_start,
            message: None,
            failure_type: None,
            details: None,
            stdout: None,
            stderr: None,
            other_outcomes: Vec::new(),
            properties: Vec::new(),
            suite_properties,
            file: None,
            line: None,
            assertions: None,
            reruns: Vec::new(),
            steps: Vec::new(),
            flaky: false,
            attachments: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

impl Property {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = json::Obj::new(out);
        o.str("name", Some(&self.name));
        o.str("value", Some(&self.value));
        o.end();
    }
}

impl Outcome {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = json::Obj::new(out);
        o.str("kind", Some(&self.kind));
        o.str("message", self.message.as_deref());
        o.str("type", self.failure_type.as_deref());
        o.str("details", self.details.as_deref());
        o.end();
    }
}

impl Rerun {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = json::Obj::new(out);
        o.str("kind", Some(&self.kind));
        o.str("status", self.status.map(Status::as_str));
        o.str("message", self.message.as_deref());
        o.str("type", self.failure_type.as_deref());
        o.str("details", self.details.as_deref());
        o.str("stdout", self.stdout.as_deref());
        o.str("stderr", self.stderr.as_deref());
        json::float(o.key("duration"), self.duration);
        o.end();
    }
}

fn array<T>(o: &mut json::Obj<'_>, key: &str, items: &[T], each: impl Fn(&T, &mut Vec<u8>)) {
    if items.is_empty() {
        return;
    }
    let out = o.key(key);
    out.push(b'[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        each(it, out);
    }
    out.push(b']');
}

/// The format, report and suites a [`SharedJson`] head was written for.
type HeadOf = (Cow<'static, str>, Arc<str>, Arc<[String]>);

/// The JSON of the members that the results of one suite share (format, report, suites; the
/// suite properties), kept from one result to the next: a suite's results carry the same
/// shared slices, so their JSON is written once per suite, not once per result.
#[derive(Default)]
pub(crate) struct SharedJson {
    head_of: Option<HeadOf>,
    head: Vec<u8>,
    /// The length of the head's format and report: the suites follow.
    head_report: usize,
    props_of: Option<Arc<[Property]>>,
    props: Vec<u8>,
}

/// The members `write` writes, as JSON without the object's braces.
fn members(write: impl FnOnce(&mut json::Obj<'_>)) -> Vec<u8> {
    let mut v = Vec::new();
    write(&mut json::Obj::within(&mut v, true));
    v
}

impl SharedJson {
    /// The head for `r`: rewritten only when its suites changed, and then in the same buffer,
    /// from the suites on when the format and report are the same (results that change suites
    /// at every line, as tests interleaved from many files do, cost the suites alone).
    fn head(&mut self, r: &TestResult) -> &[u8] {
        let (same_report, same) = match &self.head_of {
            Some((f, rep, s)) if *f == r.format && Arc::ptr_eq(rep, &r.report) => {
                (true, Arc::ptr_eq(s, &r.suites))
            }
            _ => (false, false),
        };
        if same {
            return &self.head;
        }
        if same_report {
            self.head.truncate(self.head_report);
        } else {
            self.head.clear();
            let mut o = json::Obj::within(&mut self.head, true);
            o.str("format", Some(&r.format));
            o.str("report", Some(&r.report));
            self.head_report = self.head.len();
        }
        let mut o = json::Obj::within(&mut self.head, false);
        array(&mut o, "suites", &r.suites, |s, out| json::string(out, s));
        if r.suites.is_empty() {
            o.key("suites").extend_from_slice(b"[]");
        }
        self.head_of = Some((r.format.clone(), r.report.clone(), r.suites.clone()));
        &self.head
    }

    fn props(&mut self, r: &TestResult) -> &[u8] {
        if !self
            .props_of
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &r.suite_properties))
        {
            self.props = members(|o| {
                array(
                    o,
                    "suite_properties",
                    &r.suite_properties,
                    Property::write_json,
                )
            });
            self.props_of = Some(r.suite_properties.clone());
        }
        &self.props
    }
}

impl TestResult {
    /// Appends this result as one compact JSON object, exactly as serde would write it, but
    /// faster: this is the hot path of `spira-parse` (which writes through
    /// [`TestResult::write_json_shared`]; this form is for the tests).
    #[cfg(test)]
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        self.write_json_shared(out, &mut SharedJson::default())
    }

    /// Like [`TestResult::write_json`], taking what this result shares with the one before
    /// from `shared`.
    pub(crate) fn write_json_shared(&self, out: &mut Vec<u8>, shared: &mut SharedJson) {
        let mut o = json::Obj::new(out);
        o.members(shared.head(self));
        o.str("classname", self.classname.as_deref());
        o.str("name", self.name.as_deref());
        o.str("status", Some(self.status.as_str()));
        o.opt_str("outcome", self.outcome.as_deref());
        o.opt_str("spira_status", self.spira_status.as_deref());
        o.opt_u64("test_case_id", self.test_case_id);
        json::float(o.key("duration"), self.duration);
        o.str("start", self.start.as_deref());
        o.opt_str("suite_start", self.suite_start.as_deref());
        o.opt_str("message", self.message.as_deref());
        o.opt_str("type", self.failure_type.as_deref());
        o.opt_str("details", self.details.as_deref());
        o.opt_str("stdout", self.stdout.as_deref());
        o.opt_str("stderr", self.stderr.as_deref());
        array(
            &mut o,
            "other_outcomes",
            &self.other_outcomes,
            Outcome::write_json,
        );
        array(&mut o, "properties", &self.properties, Property::write_json);
        o.members(shared.props(self));
        o.opt_str("file", self.file.as_deref());
        o.opt_u64("line", self.line);
        o.opt_u64("assertions", self.assertions);
        array(&mut o, "reruns", &self.reruns, Rerun::write_json);
        array(&mut o, "steps", &self.steps, Step::write_json);
        if self.flaky {
            o.key("flaky").extend_from_slice(b"true");
        }
        array(&mut o, "attachments", &self.attachments, |s, out| {
            json::string(out, s)
        });
        if !self.extra.is_empty() {
            let out = o.key("extra");
            let mut e = json::Obj::new(out);
            for (k, v) in &self.extra {
                let out = e.key_escaped(k);
                json::string(out, v);
            }
            e.end();
        }
        o.end();
    }
}

/// A name and value of a parameterised test (`{Name, Value}`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RunParameter {
    /// Parameter name.
    pub(crate) name: String,
    /// Its value.
    pub(crate) value: String,
}

/// One step of a run (here: one attempt of a rerun test).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RunStep {
    /// What the step is; never empty.
    pub(crate) description: String,
    /// The step's execution status ID.
    pub(crate) execution_status_id: u8,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) actual_result: Option<String>,
    /// 1-based position.
    pub(crate) position: u32,
}

/// A value of a project's custom property.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CustomProperty {
    /// The property's number (1-based custom field).
    pub(crate) property_number: u32,
    /// A text value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) string_value: Option<String>,
    /// An integer value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) integer_value: Option<i64>,
    /// A decimal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) decimal_value: Option<f64>,
    /// A yes/no value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) boolean_value: Option<bool>,
    /// A date value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) date_time_value: Option<String>,
    /// A list of IDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) integer_list_value: Option<Vec<i64>>,
}

/// A **run** line: a Spira `RemoteAutomatedTestRun`, ready for `record-multiple`. Its schema is
/// `schemas/remote-automated-test-run.schema.json`. Absent optional fields are left out, as
/// the server prefers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TestRun {
    /// The Spira test case.
    pub(crate) test_case_id: u64,
    /// 1 Failed, 2 Passed, 3 Not Run, 4 N/A, 5 Blocked, 6 Caution.
    pub(crate) execution_status_id: u8,
    /// Start, ISO 8601 UTC or WCF form.
    pub(crate) start_date: String,
    /// End, same form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) end_date: Option<String>,
    /// The runner's name, at most 20 characters (shared: the same on every run).
    pub(crate) runner_name: std::sync::Arc<str>,
    /// `classname.name`, at most 255 characters. Required by Spira's API description, as are
    /// the message, the stack trace and the format: every run has them.
    #[serde(deserialize_with = "null_as_empty")]
    pub(crate) runner_test_name: String,
    /// The first line of the message, at most 255 characters; without one, the outcome
    /// (`Passed`, `Failed`, …).
    #[serde(deserialize_with = "null_as_empty")]
    pub(crate) runner_message: String,
    /// Type, message, details, output and properties; `""` when there are none.
    #[serde(deserialize_with = "null_as_empty")]
    pub(crate) runner_stack_trace: String,
    /// 1 plain text, 2 HTML.
    pub(crate) test_run_format_id: u8,
    /// Assertions counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) runner_assert_count: Option<u64>,
    /// Release (iteration) the run belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) release_id: Option<u64>,
    /// Test set the run belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) test_set_id: Option<u64>,
    /// Build the run belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) build_id: Option<u64>,
    /// Test configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) test_configuration_id: Option<u64>,
    /// Automation host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) automation_host_id: Option<u64>,
    /// Parameters of a parameterised test.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) parameters: Vec<RunParameter>,
    /// Steps: one per attempt with `--steps reruns`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) test_run_steps: Vec<RunStep>,
    /// Custom property values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) custom_properties: Vec<CustomProperty>,
    /// Files and links to attach once the run exists. Never sent: spira-post strips every
    /// field whose name starts with `_` and uploads these through `documents/file` or `/url`.
    #[serde(
        rename = "_Attachments",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(crate) attachments: Vec<String>,
}

/// A string that may be written as `null` (the seed of Spira's own example sends a null
/// RunnerStackTrace), read as `""`.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl TestRun {
    /// Appends this run as one compact JSON object, as serde would write it but faster: the
    /// hot path of `spira-map`.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        self.write_json_with_trace(out, None)
    }

    /// Like [`TestRun::write_json`], with `trace`, when given, as the RunnerStackTrace: the
    /// inside of a JSON string literal, already escaped.
    pub(crate) fn write_json_with_trace(&self, out: &mut Vec<u8>, trace: Option<&[u8]>) {
        let mut o = json::Obj::new(out);
        o.opt_u64("TestCaseId", Some(self.test_case_id));
        o.opt_u64(
            "ExecutionStatusId",
            Some(u64::from(self.execution_status_id)),
        );
        o.str("StartDate", Some(&self.start_date));
        o.opt_str("EndDate", self.end_date.as_deref());
        o.str("RunnerName", Some(&self.runner_name));
        o.str("RunnerTestName", Some(&self.runner_test_name));
        o.str("RunnerMessage", Some(&self.runner_message));
        match trace {
            Some(t) => {
                let out = o.key("RunnerStackTrace");
                out.push(b'"');
                out.extend_from_slice(t);
                out.push(b'"');
            }
            None => o.str("RunnerStackTrace", Some(&self.runner_stack_trace)),
        }
        o.opt_u64("TestRunFormatId", Some(u64::from(self.test_run_format_id)));
        o.opt_u64("RunnerAssertCount", self.runner_assert_count);
        o.opt_u64("ReleaseId", self.release_id);
        o.opt_u64("TestSetId", self.test_set_id);
        o.opt_u64("BuildId", self.build_id);
        o.opt_u64("TestConfigurationId", self.test_configuration_id);
        o.opt_u64("AutomationHostId", self.automation_host_id);
        // The rarer arrays go through serde; they are small.
        if !self.parameters.is_empty() {
            let _ = serde_json::to_writer(&mut *o.key("Parameters"), &self.parameters);
        }
        if !self.test_run_steps.is_empty() {
            let _ = serde_json::to_writer(&mut *o.key("TestRunSteps"), &self.test_run_steps);
        }
        if !self.custom_properties.is_empty() {
            let _ = serde_json::to_writer(&mut *o.key("CustomProperties"), &self.custom_properties);
        }
        array(&mut o, "_Attachments", &self.attachments, |s, out| {
            json::string(out, s)
        });
        o.end();
    }
}

#[cfg(test)]
mod word_tests {
    use super::*;

    #[test]
    fn tells_the_records_apart_for_a_hint() {
        let run = br#"{"TestCaseId":1,"ExecutionStatusId":2,"StartDate":"x"}"#;
        let result = br#"{"format":"junit","report":"r","suites":[],"status":"passed"}"#;
        let batch = br#"[{"TestCaseId":1,"ExecutionStatusId":2}]"#;
        assert_eq!(Kind::of(run), Some(Kind::Run));
        assert_eq!(Kind::of(result), Some(Kind::Result));
        assert_eq!(Kind::of(batch), Some(Kind::Batch));
        assert_eq!(Kind::of(b"[1]"), None);
        assert_eq!(Kind::of(b"{"), None);
        assert_eq!(Kind::hint(run, Kind::Run), None);
        assert!(Kind::hint(run, Kind::Batch)
            .unwrap()
            .contains("put spira-batch before"));
        assert!(Kind::hint(result, Kind::Run)
            .unwrap()
            .contains("put spira-map before"));
        assert!(Kind::hint(run, Kind::Result)
            .unwrap()
            .contains("result lines of spira-parse"));
        assert!(Kind::hint(batch, Kind::Run).unwrap().contains("--unbatch"));
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

/// The hand-written writers against serde's derive, on every golden line: each line read back
/// into its record is written again byte for byte, and serde's own serialisation of the record
/// holds the same JSON value.
#[cfg(test)]
mod golden_tests {
    use super::*;

    fn golden(dir: &str, name_ends: &str) -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut out = Vec::new();
        let mut dirs: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        for p in dirs
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(name_ends))
        {
            for line in std::fs::read_to_string(&p).unwrap().lines() {
                out.push((p.display().to_string(), line.to_string()));
            }
        }
        out
    }

    fn same_as_serde<T: Serialize>(r: &T, line: &str, at: &str) {
        let ours: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_value(r).unwrap(), ours, "{at}: {line}");
    }

    #[test]
    fn result_lines_are_written_as_serde_would() {
        let mut n = 0;
        for dir in [
            "junit", "nunit2", "nunit3", "xunit", "trx", "testng", "csv", "json",
        ] {
            for (at, line) in golden(dir, ".expected.jsonl") {
                let r: TestResult = serde_json::from_str(&line).unwrap();
                let mut again = Vec::new();
                r.write_json(&mut again);
                assert_eq!(String::from_utf8(again).unwrap(), line, "{at}");
                same_as_serde(&r, &line, &at);
                n += 1;
            }
        }
        assert!(n > 150, "only {n} golden result lines");
    }

    #[test]
    fn run_lines_are_written_as_serde_would() {
        let lines = golden("map", "runs.expected.jsonl");
        for (at, line) in &lines {
            let r: TestRun = serde_json::from_str(line).unwrap();
            let mut again = Vec::new();
            r.write_json(&mut again);
            assert_eq!(&String::from_utf8(again).unwrap(), line, "{at}");
            same_as_serde(&r, line, at);
        }
        // Every optional part of a run is among them.
        for part in [
            "TestRunSteps",
            "Parameters",
            "CustomProperties",
            "BuildId",
            "/Date(",
        ] {
            assert!(
                lines.iter().any(|(_, l)| l.contains(part)),
                "no golden run has {part}"
            );
        }
        assert!(lines.len() > 200, "only {} golden run lines", lines.len());
    }
}

#[cfg(test)]
mod shared_tests {
    use super::*;

    /// A line written with the head of the lines before it is the line written alone, whether
    /// the suites, the report or neither changed.
    #[test]
    fn a_shared_head_writes_what_a_fresh_one_does() {
        let (r1, r2): (Arc<str>, Arc<str>) = (Arc::from("a.json"), Arc::from("b \"q\".json"));
        let s1: Arc<[String]> = Arc::from(vec!["f1.js".to_string(), "S".into()]);
        let s2: Arc<[String]> = Arc::from(vec!["f2.js".to_string()]);
        let none: Arc<[String]> = Arc::from([]);
        let props: Arc<[Property]> = Arc::from([]);
        let cases = [
            ("mocha", &r1, &s1),
            ("mocha", &r1, &s1),
            ("mocha", &r1, &s2),
            ("mocha", &r1, &none),
            ("mocha", &r2, &none),
            ("jest", &r2, &none),
            ("jest", &r2, &s1),
            ("jest", &r1, &s1),
        ];
        let mut shared = SharedJson::default();
        for (i, (format, report, suites)) in cases.into_iter().enumerate() {
            let mut r = TestResult::in_suites(format, report, suites.clone(), props.clone(), None);
            r.name = Some(format!("t{i}"));
            let (mut alone, mut after) = (Vec::new(), Vec::new());
            r.write_json(&mut alone);
            r.write_json_shared(&mut after, &mut shared);
            assert_eq!(
                String::from_utf8(after).unwrap(),
                String::from_utf8(alone).unwrap(),
                "case {i}"
            );
        }
    }
}
