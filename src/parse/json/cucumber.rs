//! Cucumber JSON, as cucumber-ruby, cucumber-js and cucumber-jvm write it: an array of
//! features (streamed one at a time), each with its `elements`. One result per scenario (each
//! example row of a Scenario Outline is an element of its own); a `background` element's steps
//! and hooks belong to the scenario after it. The status is the worst of the steps and hooks
//! (a step with no `result` counts as skipped): failed → failed; ambiguous → error; undefined
//! or pending → skipped (the word kept as the outcome); all skipped → skipped; else passed.
//! Durations are in nanoseconds. Steps (keyword + name; hooks only when they failed) →
//! `steps`; tags → `tag` properties; the feature → the suite, its tags the suite's properties.

use std::sync::Arc;

use serde::Deserialize;

use super::doc::{emit, lenient, Ctx, Doc, Raw, Text, Want};
use super::split::document;
use crate::error::Result;
use crate::parse::report::Report;
use crate::record::{Property, Status, Step, TestResult};

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "cucumber";

struct Cucumber<'r, 'w> {
    report: &'r mut Report<'w>,
    ctx: &'r Ctx,
}

pub(super) fn parse(reader: impl std::io::Read, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = report.name.clone();
    document(
        reader,
        &mut Cucumber { report, ctx },
        &name,
        "Cucumber JSON",
    )
}

impl Doc for Cucumber<'_, '_> {
    /// The document itself is the array of features.
    fn required(&self) -> &'static str {
        ""
    }
    fn want(&self, path: &str) -> Want {
        match path {
            "" => Want::Items,
            _ => Want::Skip,
        }
    }
    fn whole(&mut self, _: &Raw<'_>) -> Result<()> {
        Ok(())
    }
    fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
        let f: Feature<'_> = raw.read()?;
        feature(f, self.report, self.ctx)
    }
}

#[derive(Deserialize)]
struct Feature<'a> {
    #[serde(borrow)]
    uri: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(default, borrow)]
    tags: Option<Vec<Tag<'a>>>,
    #[serde(default, borrow)]
    elements: Option<Vec<Element<'a>>>,
}

#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(borrow)]
    name: Option<Text<'a>>,
}

/// A scenario or a background.
#[derive(Deserialize)]
struct Element<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lenient")]
    line: Option<u64>,
    #[serde(borrow)]
    start_timestamp: Option<Text<'a>>,
    #[serde(default, borrow)]
    tags: Option<Vec<Tag<'a>>>,
    #[serde(default, borrow)]
    before: Option<Vec<Hook<'a>>>,
    #[serde(default, borrow)]
    steps: Option<Vec<GherkinStep<'a>>>,
    #[serde(default, borrow)]
    after: Option<Vec<Hook<'a>>>,
}

#[derive(Deserialize)]
struct GherkinStep<'a> {
    #[serde(borrow)]
    keyword: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
    #[serde(borrow)]
    result: Option<Outcome<'a>>,
    /// cucumber-ruby's AfterStep hooks.
    #[serde(default, borrow)]
    after: Option<Vec<Hook<'a>>>,
}

#[derive(Deserialize)]
struct Hook<'a> {
    #[serde(borrow)]
    result: Option<Outcome<'a>>,
    #[serde(rename = "match", borrow)]
    matched: Option<Match<'a>>,
}

#[derive(Deserialize)]
struct Match<'a> {
    #[serde(borrow)]
    location: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct Outcome<'a> {
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lenient")]
    duration: Option<f64>,
    #[serde(borrow)]
    error_message: Option<Text<'a>>,
}

/// A step or a hook of a scenario, in order.
struct Item {
    name: String,
    word: String,
    hook: bool,
    nanos: f64,
    message: Option<String>,
}

fn tags(t: Option<Vec<Tag<'_>>>) -> Vec<Property> {
    t.into_iter()
        .flatten()
        .filter_map(|t| t.name)
        .map(|n| Property {
            name: "tag".into(),
            value: n.0.into_owned(),
        })
        .collect()
}

/// The results of one feature.
fn feature(f: Feature<'_>, report: &mut Report<'_>, ctx: &Ctx) -> Result<()> {
    let name = f.name.map(|n| n.0.into_owned()).unwrap_or_default();
    let suites: Arc<[String]> = Arc::from(vec![name.clone()]);
    let suite_tags: Arc<[Property]> = Arc::from(tags(f.tags));
    let file = f.uri.map(|u| u.0.into_owned());
    let mut background: Vec<Item> = Vec::new();
    for e in f.elements.into_iter().flatten() {
        if e.kind.as_deref() == Some("background") {
            background = items(e.before, e.steps, e.after);
            continue;
        }
        let mut r = TestResult::in_suites(
            FORMAT,
            &report.name,
            suites.clone(),
            suite_tags.clone(),
            None,
        );
        r.classname = Some(name.clone());
        r.name = e.name.as_ref().map(|n| n.to_string());
        r.file = file.clone();
        r.line = e.line;
        r.start = e
            .start_timestamp
            .as_deref()
            .and_then(|t| crate::date::normalize(t).ok().flatten());
        r.properties = tags(e.tags);
        let mut all = std::mem::take(&mut background);
        let (before, after): (Vec<Item>, Vec<Item>) = {
            let mut own = items(e.before, e.steps, e.after);
            let split = own.iter().position(|i| !i.hook).unwrap_or(own.len());
            let rest = own.split_off(split);
            (own, rest)
        };
        // The scenario's Before hooks run before the background's steps.
        let mut ordered = before;
        ordered.append(&mut all);
        ordered.extend(after);
        scenario(&mut r, &ordered, ctx);
        emit(report, &r)?;
    }
    Ok(())
}

/// The hooks and steps of an element, in the order they ran.
fn items(
    before: Option<Vec<Hook<'_>>>,
    steps: Option<Vec<GherkinStep<'_>>>,
    after: Option<Vec<Hook<'_>>>,
) -> Vec<Item> {
    let hook = |h: Hook<'_>, when: &str| {
        let at = h
            .matched
            .and_then(|m| m.location)
            .map(|l| format!(" ({})", &*l));
        item(
            format!("{when} hook{}", at.unwrap_or_default()),
            h.result,
            true,
        )
    };
    let mut out: Vec<Item> = before
        .into_iter()
        .flatten()
        .map(|h| hook(h, "Before"))
        .collect();
    for s in steps.into_iter().flatten() {
        let keyword = s.keyword.as_deref().unwrap_or("").trim();
        let name = s.name.as_deref().unwrap_or("");
        let label = match keyword {
            "" => name.to_string(),
            k => format!("{k} {name}"),
        };
        out.push(item(label, s.result, false));
        out.extend(s.after.into_iter().flatten().map(|h| hook(h, "AfterStep")));
    }
    out.extend(after.into_iter().flatten().map(|h| hook(h, "After")));
    out
}

fn item(name: String, result: Option<Outcome<'_>>, hook: bool) -> Item {
    let (word, nanos, message) = match result {
        Some(o) => (
            o.status.map_or("skipped".to_string(), |s| s.to_lowercase()),
            o.duration.unwrap_or(0.0),
            o.error_message.map(|m| m.0.into_owned()),
        ),
        None => ("skipped".to_string(), 0.0, None),
    };
    Item {
        name,
        word,
        hook,
        nanos,
        message,
    }
}

/// A step's status by its word.
fn status_of(word: &str) -> Status {
    match word {
        "passed" => Status::Passed,
        "failed" => Status::Failed,
        "ambiguous" => Status::Error,
        _ => Status::Skipped,
    }
}

/// The scenario's status, outcome, message, duration and steps from its items.
fn scenario(r: &mut TestResult, items: &[Item], ctx: &Ctx) {
    let any = |w: &str| items.iter().find(|i| i.word == w);
    let deciding = any("failed").or_else(|| any("ambiguous")).or_else(|| {
        items
            .iter()
            .find(|i| i.word == "undefined" || i.word == "pending")
    });
    let (status, word) = match deciding {
        Some(i) => (status_of(&i.word), i.word.clone()),
        None if !items.is_empty()
            && items.iter().all(|i| status_of(&i.word) == Status::Skipped) =>
        {
            (Status::Skipped, "skipped".to_string())
        }
        None => (Status::Passed, "passed".to_string()),
    };
    r.status = status;
    r.outcome = Some(word);
    if let Some(m) = deciding.and_then(|i| i.message.as_deref()) {
        r.message = ctx.first_line(m);
        r.details = ctx.text(m);
    }
    r.duration = Some(items.iter().map(|i| i.nanos.max(0.0)).sum::<f64>() / 1e9);
    r.steps = items
        .iter()
        .filter(|i| !i.hook || i.word == "failed")
        .map(|i| Step {
            name: i.name.clone(),
            status: status_of(&i.word),
            duration: Some(i.nanos.max(0.0) / 1e9),
            message: i.message.as_deref().and_then(|m| ctx.text(m)),
        })
        .collect();
}
