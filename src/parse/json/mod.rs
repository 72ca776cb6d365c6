//! The JSON report formats: Go's test2json, Jest (and Vitest), Mocha, Dart, RSpec, Playwright,
//! CTRF and Cucumber. Each is told apart from the content (the first JSON line of a JSON-lines stream,
//! or the top-level keys at the head of a document), never from the file name.
//!
//! The JSON-lines formats (go, dart) are read line by line. The single-document formats are
//! read by a byte scanner over the top-level object (`doc::document`, `split`): each
//! element of the test arrays is read into a small value, turned into results and dropped, so
//! that memory stays flat in the size of the report (one element at a time: a Jest test file,
//! a Playwright spec file, one Mocha test).

pub(super) mod ctrf;
pub(super) mod cucumber;
pub(super) mod dart;
mod doc;
pub(super) mod go;
pub(super) mod jest;
pub(super) mod mocha;
pub(super) mod playwright;
pub(super) mod rspec;
mod split;
mod spool;

use std::io::Read;

use crate::error::Result;
use crate::parse::report::Report;
use doc::Ctx;
pub(super) use doc::{each_line, LastSuites};

/// A text field cut at `max` bytes with a visible marker, as the JSON formats cut theirs; `None`
/// when empty (for the line formats beside them: TAP).
pub(super) fn cap_text(s: &str, max: usize) -> Option<String> {
    Ctx { max_field: max }.text(s)
}

/// The first line of `s` that is not blank, trimmed and cut at `max` (see [`Ctx::first_line`]).
pub(super) fn cap_first_line(s: &str, max: usize) -> Option<String> {
    Ctx { max_field: max }.first_line(s)
}

/// The JSON report formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Go,
    Jest,
    Mocha,
    Dart,
    Rspec,
    Playwright,
    Ctrf,
    Cucumber,
    /// One Allure result (read by `parse::allure`).
    Allure,
}

/// The JSON format the head of an input shows, if any.
pub(crate) fn detect(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    // JSON lines: the first line that is a JSON object (go's may follow plain text lines).
    for line in text.lines().take(2000) {
        let line = line.trim();
        if !line.starts_with('{') {
            continue;
        }
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_str(line) {
            if o.contains_key("Action") {
                return Some(Format::Go);
            }
            if o.contains_key("type")
                && (o.contains_key("protocolVersion") || o.contains_key("test"))
            {
                return Some(Format::Dart);
            }
        }
        break;
    }
    // Cucumber: a top-level array of features (or an empty one: no features ran).
    let body = text.trim_start();
    if let Some(rest) = body.strip_prefix('[') {
        let rest = rest.trim_start();
        let feature = rest.starts_with('{')
            && (rest.contains("\"elements\"")
                || (rest.contains("\"keyword\"") && rest.contains("\"Feature\"")));
        return (rest.starts_with(']') || feature).then_some(Format::Cucumber);
    }
    let keys = top_keys(text);
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("numTotalTests") {
        Some(Format::Jest)
    } else if has("stats") && text.contains("\"passes\"") {
        Some(Format::Mocha)
    } else if has("examples") && (has("version") || has("summary") || has("summary_line")) {
        Some(Format::Rspec)
    } else if has("results") && text.contains("\"tool\"") {
        Some(Format::Ctrf)
    } else if has("config") && (has("suites") || text.contains("\"projects\"")) {
        Some(Format::Playwright)
    } else if has("name")
        && !has("format")
        && !has("report")
        && [
            "uuid",
            "historyId",
            "parameters",
            "fullName",
            "statusDetails",
            "stage",
            "steps",
            "labels",
        ]
        .iter()
        .any(|k| has(k))
    {
        Some(Format::Allure)
    } else {
        None
    }
}

/// The keys of the top-level object found in `text` (a head, possibly cut short).
fn top_keys(text: &str) -> Vec<String> {
    // Bytes, not chars: every byte that matters is ASCII, and a string's end is found with
    // memchr (a directory of small reports runs this once per file).
    let b = text.as_bytes();
    let (mut depth, mut keys) = (0i32, Vec::new());
    let mut expect_key = false;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i += 1;
        match c {
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let start = i;
                // An unclosed string is an empty key, and the end of the text.
                let mut end = start;
                loop {
                    match b.get(i..).and_then(|r| memchr::memchr2(b'"', b'\\', r)) {
                        Some(k) if b.get(i + k) == Some(&b'\\') => i += k + 2,
                        Some(k) => {
                            end = i + k;
                            i = end + 1;
                            break;
                        }
                        None => {
                            i = b.len();
                            break;
                        }
                    }
                }
                if expect_key && depth == 1 {
                    keys.push(text.get(start..end).unwrap_or("").to_string());
                    expect_key = false;
                }
            }
            _ => {}
        }
    }
    keys
}

/// Reads one input in a JSON format.
pub(super) fn parse(
    format: Format,
    reader: impl Read,
    report: &mut Report<'_>,
    max_field: usize,
) -> Result<()> {
    let ctx = Ctx { max_field };
    match format {
        Format::Go => go::parse(reader, report, &ctx),
        Format::Dart => dart::parse(reader, report, &ctx),
        Format::Jest => jest::parse(reader, report, &ctx),
        Format::Mocha => mocha::parse(reader, report, &ctx),
        Format::Rspec => rspec::parse(reader, report, &ctx),
        Format::Playwright => playwright::parse(reader, report, &ctx),
        Format::Ctrf => ctrf::parse(reader, report, &ctx),
        Format::Cucumber => cucumber::parse(reader, report, &ctx),
        // Read by `parse::allure` before it comes here.
        Format::Allure => Ok(()),
    }
}
