//! The fields of a **result** line that spira-map reads, borrowed from the line where no escape
//! forces a copy. Other fields are passed over unread.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::record::Status;

/// A result line, as spira-map reads it.
#[derive(serde::Deserialize)]
pub(super) struct Line<'a> {
    #[serde(borrow)]
    pub(super) report: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) suites: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) classname: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) name: Option<Cow<'a, str>>,
    pub(super) status: Status,
    #[serde(borrow, default)]
    pub(super) spira_status: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) test_case_id: Option<u64>,
    pub(super) duration: Option<f64>,
    #[serde(borrow)]
    pub(super) start: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) suite_start: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    pub(super) failure_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) details: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) stdout: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) stderr: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) other_outcomes: Vec<Text3<'a>>,
    #[serde(borrow, default)]
    pub(super) properties: Vec<Pair<'a>>,
    #[serde(borrow, default)]
    pub(super) reruns: Vec<Attempt<'a>>,
    #[serde(borrow, default)]
    pub(super) steps: Vec<StepLine<'a>>,
    #[serde(default)]
    pub(super) flaky: bool,
    #[serde(borrow, default)]
    pub(super) attachments: Vec<Cow<'a, str>>,
    #[serde(default)]
    pub(super) assertions: Option<u64>,
}

/// A property, borrowed.
#[derive(serde::Deserialize)]
pub(super) struct Pair<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(borrow)]
    pub(super) value: Cow<'a, str>,
}

/// Another outcome, borrowed.
#[derive(serde::Deserialize)]
pub(super) struct Text3<'a> {
    #[serde(borrow)]
    pub(super) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    pub(super) failure_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) details: Option<Cow<'a, str>>,
}

/// An earlier attempt, borrowed.
#[derive(serde::Deserialize)]
pub(super) struct Attempt<'a> {
    #[serde(borrow)]
    pub(super) kind: Cow<'a, str>,
    #[serde(default)]
    pub(super) status: Option<Status>,
    #[serde(borrow, default)]
    pub(super) message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) details: Option<Cow<'a, str>>,
}

/// A step of the test, borrowed.
#[derive(serde::Deserialize)]
pub(super) struct StepLine<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    pub(super) status: Status,
    #[serde(borrow, default)]
    pub(super) message: Option<Cow<'a, str>>,
}

/// The name warnings and aggregates show: `classname.name`.
pub(super) fn display_name(r: &Line<'_>) -> String {
    match (r.classname.as_deref(), r.name.as_deref()) {
        (Some(c), Some(n)) if !c.is_empty() => format!("{c}.{n}"),
        (_, Some(n)) => n.to_string(),
        (Some(c), None) => c.to_string(),
        (None, None) => "(unnamed test)".to_string(),
    }
}
