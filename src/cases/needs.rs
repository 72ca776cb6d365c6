//! Which tests need a test case: every test of the result lines that the map, an ID property
//! or a name token does not already give one, once per key, in input order.

use std::borrow::Cow;
use std::collections::HashSet;

use super::args::Folders;
use crate::cli::{self, Input};
use crate::error::Result;
use crate::mapping::{key, Resolver, Test};
use crate::record::Kind;

/// A test that needs a test case.
#[derive(Clone, Debug)]
pub(super) struct Needed {
    /// The key spira-map matches on: `classname.name`, or `name`.
    pub(super) key: String,
    /// The test case's name: the test's name (or its key when it has none).
    pub(super) name: String,
    /// The folder path it goes in, outermost first.
    pub(super) path: Vec<String>,
}

/// The fields of a result line read here (`status` only to tell a result line from others).
#[derive(serde::Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    suites: Vec<Cow<'a, str>>,
    #[allow(dead_code)]
    status: crate::record::Status,
    #[serde(borrow, default)]
    classname: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    test_case_id: Option<u64>,
    #[serde(borrow, default)]
    properties: Vec<Pair<'a>>,
}

#[derive(serde::Deserialize)]
struct Pair<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

/// What reading the result lines found.
#[derive(Default)]
pub(super) struct Found {
    /// The tests that need a test case.
    pub(super) needed: Vec<Needed>,
    /// Distinct tests seen.
    pub(super) seen: u64,
    /// Of them, mapped already.
    pub(super) mapped: u64,
    /// Lines that are not result lines (each reported).
    pub(super) bad: u64,
}

/// Reads every result line: a bad one is reported by its place and passed over.
pub(super) fn read(inputs: &[Input], resolver: &Resolver, folders: Folders) -> Result<Found> {
    let mut found = Found::default();
    let mut keys: HashSet<String> = HashSet::new();
    cli::each_line(inputs, |name, n, text| {
        let line: Line<'_> = match serde_json::from_slice(text) {
            Ok(l) => l,
            Err(e) => {
                match Kind::hint(text, Kind::Result) {
                    Some(hint) => cli::error(format_args!("{name}:{n}: not a result line: {hint}")),
                    None => cli::error(format_args!("{name}:{n}: not a result line: {e}")),
                }
                found.bad += 1;
                return Ok(());
            }
        };
        let (classname, test) = (line.classname.as_deref(), line.name.as_deref());
        let Some(k) = key(classname, test) else {
            cli::warn(format_args!(
                "{name}:{n}: a result with neither a name nor a classname: passed over"
            ));
            return Ok(());
        };
        if !keys.insert(k.to_lowercase()) {
            return Ok(());
        }
        found.seen += 1;
        let t = Test {
            classname,
            name: test,
            test_case_id: line.test_case_id,
            properties: line
                .properties
                .iter()
                .map(|p| (p.name.as_ref(), p.value.as_ref()))
                .collect(),
        };
        if !resolver.test_cases(&t).0.is_empty() {
            found.mapped += 1;
            return Ok(());
        }
        found.needed.push(Needed {
            name: test.unwrap_or(&k).to_string(),
            path: path(folders, &line.suites, classname),
            key: k,
        });
        Ok(())
    })?;
    Ok(found)
}

/// The folder path of a test.
fn path(folders: Folders, suites: &[Cow<'_, str>], classname: Option<&str>) -> Vec<String> {
    let parts: Vec<String> = match folders {
        Folders::Suites => suites.iter().map(|s| s.to_string()).collect(),
        Folders::Classname => classname
            .unwrap_or("")
            .split('.')
            .map(str::to_string)
            .collect(),
        Folders::None => Vec::new(),
    };
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}
