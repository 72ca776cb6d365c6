//! CSV reports: one test per row, columns found by their header under any of several aliases.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use super::input::{Decoded, Syntax};
use super::report::Report;
use super::values::{self, OnceWarn};
use crate::cli;
use crate::error::{Error, Result};
use crate::record::TestResult;

/// The format's name in result lines.
pub(crate) const FORMAT: &str = "csv";

/// The fields a column can fill, with the header aliases that name them (compared in lower
/// case, without spaces, `_` and `-`).
pub(crate) const FIELDS: &[(&str, &[&str])] = &[
    ("name", &["name", "test", "testname", "title", "testcase"]),
    ("classname", &["classname", "class"]),
    ("suite", &["suite", "testsuite", "suitename"]),
    ("status", &["status", "result", "outcome"]),
    (
        "duration",
        &["duration", "time", "elapsed", "seconds", "durations"],
    ),
    ("duration_ms", &["durationms", "timems", "elapsedms"]),
    ("message", &["message", "errormessage", "reason"]),
    ("details", &["details", "stacktrace", "trace"]),
    (
        "start",
        &["start", "startedat", "timestamp", "starttime", "started"],
    ),
    ("test_case_id", &["testcaseid", "tc", "tcid", "spiraid"]),
];

fn norm(h: &str) -> String {
    h.trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a header names, if any.
pub(crate) fn field_of(header: &str) -> Option<&'static str> {
    let h = norm(header);
    FIELDS
        .iter()
        .find(|(_, aliases)| aliases.contains(&h.as_str()))
        .map(|(f, _)| *f)
}

/// Guesses the delimiter of a header line: the most frequent of `,` `;` tab `|`.
pub(crate) fn guess_delimiter(header: &str) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

/// Whether a first line looks like a CSV report header: a name column and a status column.
/// `FIELD=HEADER` overrides count.
pub(crate) fn looks_like_header(
    line: &str,
    delimiter: Option<u8>,
    columns: &[(String, String)],
) -> bool {
    let d = delimiter.unwrap_or_else(|| guess_delimiter(line)) as char;
    let headers: Vec<&str> = line.split(d).map(|h| h.trim().trim_matches('"')).collect();
    let has = |field: &str| {
        headers.iter().any(|h| field_of(h) == Some(field))
            || columns
                .iter()
                .any(|(f, h)| f == field && headers.iter().any(|x| x.eq_ignore_ascii_case(h)))
    };
    has("name") && has("status")
}

/// The field a `--column FIELD=HEADER` names; an unknown one is a usage error.
pub(crate) fn known_field(field: &str, header: &str) -> Result<&'static str> {
    FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(f, _)| *f)
        .ok_or_else(|| {
            Error::Usage(format!(
                "--column {field}={header}: unknown field '{field}' (one of {})",
                FIELDS.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
            ))
        })
}

/// Options for CSV reading.
#[derive(Clone)]
pub(crate) struct Options {
    /// The separator (given, or guessed from the header line by [`guess_delimiter`]).
    pub(crate) delimiter: u8,
    /// `FIELD=HEADER` overrides.
    pub(crate) columns: Vec<(String, String)>,
    /// The most bytes kept of one field.
    pub(crate) max_field_bytes: usize,
}

/// Parses a CSV report.
pub(crate) fn parse<R: Read>(raw: R, opts: &Options, report: &mut Report<'_>) -> Result<()> {
    let arc = report.name.clone();
    let name = arc.to_string();
    let syntax = Syntax::Csv(opts.delimiter);
    let input: Decoded<_> = Decoded::new(raw, &name, syntax, opts.max_field_bytes)
        .map_err(|e| Error::Usage(format!("cannot read '{name}': {}", cli::io_reason(&e))))?;
    let delimiter = opts.delimiter;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .has_headers(true)
        .from_reader(input);
    let headers = rdr
        .headers()
        .map_err(|e| csv_error(&name, &e))?
        .iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    let col = columns(&headers, opts, &name)?;
    let used: Vec<usize> = col.values().copied().collect();
    let mut odd = [OnceWarn::default(), OnceWarn::default()];
    let mut row = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(explain(&name, &e, &rdr)),
        }
        let line = row.position().map_or(0, |p| p.line());
        let get = |f: &str| {
            col.get(f)
                .and_then(|&i| row.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if row.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let mut r = TestResult::new(FORMAT, &arc);
        let at = Row { name: &name, line };
        fill(&mut r, &get, at, &mut odd)?;
        for (i, v) in row.iter().enumerate() {
            if !used.contains(&i) && !v.trim().is_empty() {
                r.extra.insert(headers[i].clone().into(), v.to_string());
            }
        }
        report.emit(&r)?;
    }
    match unclosed_quote(&name, rdr.get_ref()) {
        Some(e) => Err(Error::Data(e)),
        None => Ok(()),
    }
}

/// A reader's error, explained by what the lexer saw: a row too wide, or a quote never closed.
/// The reader sees the second as a wrong field count, on a row that runs over several lines
/// inside quotes (a quote opened and closed by the next one, rows later).
fn explain<R: Read>(name: &str, e: &csv::Error, rdr: &csv::Reader<Decoded<R>>) -> Error {
    let plain = csv_error(name, e);
    let line = e.position().map_or(0, |p| p.line());
    if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
        return plain;
    }
    if rdr.get_ref().csv_too_wide() == Some(line) {
        return Error::Data(format!(
            "{name}:{line}: row has more than {} fields",
            super::input::MAX_FIELDS
        ));
    }
    // The reader stands after the bad row's line end.
    let last = rdr.position().line().saturating_sub(1);
    if last > line {
        return Error::Data(format!(
            "{plain}; the row runs on inside quotes to line {last}: is a closing quote missing on line {line}?"
        ));
    }
    plain
}

/// At the end of input: a message if it ends inside a quoted field.
fn unclosed_quote<R: Read>(name: &str, input: &Decoded<R>) -> Option<String> {
    let (first_multiline, open) = input.csv_quotes();
    let open = open?;
    Some(match first_multiline {
        Some(first) if first < open => format!(
            "{name}:{first}: a quote is never closed: the file ends inside a quoted field, and the first quoted field that spans lines starts on this line"
        ),
        _ => format!(
            "{name}:{open}: a quote is never closed: the quoted field that starts on this line runs to the end of the file"
        ),
    })
}

/// Where a row is, for messages.
#[derive(Clone, Copy)]
struct Row<'a> {
    name: &'a str,
    line: u64,
}

impl std::fmt::Display for Row<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.line)
    }
}

/// Which column each field is in: by the header's name (the first column of each field), or
/// as `--column` says; name and status are required.
fn columns(headers: &[String], opts: &Options, name: &str) -> Result<HashMap<&'static str, usize>> {
    let mut col: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(f) = field_of(h) {
            col.entry(f).or_insert(i);
        }
    }
    for (field, header) in &opts.columns {
        let f = known_field(field, header)?;
        let i = headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(header.trim()))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--column {field}={header}: {name} has no column '{header}' (it has: {})",
                    headers.join(", ")
                ))
            })?;
        col.insert(f, i);
    }
    for needed in ["name", "status"] {
        if !col.contains_key(needed) {
            return Err(Error::Data(format!(
                "{name}:1: no {needed} column in the header ({}); name one with --column {needed}=HEADER",
                headers.join(", ")
            )));
        }
    }
    Ok(col)
}

/// The fields of a result from one row (`get` gives a field's trimmed, non-empty text); odd
/// durations and start times are warned about once each per file (`odd`).
fn fill<'r>(
    r: &mut TestResult,
    get: &impl Fn(&str) -> Option<&'r str>,
    at: Row<'_>,
    odd: &mut [OnceWarn; 2],
) -> Result<()> {
    r.name = get("name").map(str::to_string);
    r.classname = get("classname").map(str::to_string);
    if let Some(s) = get("suite") {
        r.suites = Arc::from([s.to_string()]);
    }
    let raw_status = get("status").unwrap_or("");
    let (status, spira) = crate::record::status_word(raw_status).ok_or_else(|| {
        Error::Data(format!(
            "{at}: unknown status \"{raw_status}\" (expected a word such as pass, fail, error, skip, blocked, caution, not run, n/a)"
        ))
    })?;
    r.status = status;
    r.spira_status = spira.map(str::to_string);
    r.outcome = Some(raw_status.to_string());
    r.duration = match (get("duration"), get("duration_ms")) {
        (Some(s), _) => duration(s, 1.0, at.name, at.line, &mut odd[0]),
        (None, Some(ms)) => duration(ms, 1000.0, at.name, at.line, &mut odd[0]),
        (None, None) => None,
    };
    r.message = get("message").map(str::to_string);
    r.details = get("details").map(str::to_string);
    if let Some(s) = get("start") {
        r.start = crate::date::normalize(s).unwrap_or_else(|_| {
            odd[1].warn(|| {
                cli::warn(format_args!(
                    "{at}: start \"{s}\" is not ISO 8601; null used (further ones in this file are not reported)"
                ))
            });
            None
        });
    }
    if let Some(id) = get("test_case_id") {
        r.test_case_id = Some(crate::record::test_case_id(id).ok_or_else(|| {
            Error::Data(format!(
                "{at}: test case ID \"{id}\" is not a number (write 123 or TC:123)"
            ))
        })?);
    }
    Ok(())
}

fn duration(s: &str, div: f64, name: &str, line: u64, once: &mut OnceWarn) -> Option<f64> {
    match values::seconds_scaled(Some(s), div) {
        Ok(v) => Some(v),
        Err(odd) => {
            let why = match odd {
                values::Odd::Bad(why) => why,
                values::Odd::Missing => "empty",
            };
            once.warn(|| {
                cli::warn(format_args!(
                    "{name}:{line}: duration \"{s}\" is not a duration ({why}); null used (further ones in this file are not reported)"
                ))
            });
            None
        }
    }
}

fn csv_error(name: &str, e: &csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    let what = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("row has {len} fields, but the header has {expected_len}"),
        csv::ErrorKind::Io(io) => return Error::Usage(format!("cannot read '{name}': {io}")),
        _ => e.to_string(),
    };
    Error::Data(format!("{name}:{line}: {what}"))
}
