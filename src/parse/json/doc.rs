//! What the JSON formats share: the context (the field cap), errors, and the streaming reader
//! of a single JSON document (the [`Doc`] a format implements, read by `split`).

use crate::error::{Error, Result};
use crate::parse::input::truncation_marker;
use crate::parse::report::Report;
use crate::record::TestResult;

/// What every format needs besides the report.
pub(crate) struct Ctx {
    pub(crate) max_field: usize,
}

impl Ctx {
    /// A text field, cut at the cap (on a character boundary) with a visible marker; `None`
    /// when empty.
    pub(crate) fn text(&self, s: impl Into<String>) -> Option<String> {
        let mut s = s.into();
        if s.is_empty() {
            return None;
        }
        if s.len() > self.max_field {
            let mut cut = self.max_field;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            let omitted = (s.len() - cut) as u64;
            s.truncate(cut);
            s.push_str(&truncation_marker(omitted));
        }
        Some(s)
    }
}

/// How a single-document format wants the value at a key path (`results.tests`) read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Skipped unread.
    Skip,
    /// Read whole and handed to [`Doc::whole`] (small values).
    Whole,
    /// An array: each element handed to [`Doc::item`] as it is read, then dropped.
    Items,
    /// An object: its keys visited in turn, as `path.key`.
    Object,
}

/// A single-document format, read by `split::document` as a stream of keys and array elements.
pub(crate) trait Doc {
    /// The top-level key every report of the format has (its tests).
    fn required(&self) -> &'static str;
    fn want(&self, path: &str) -> Want;
    fn whole(&mut self, path: &str, v: serde_json::Value) -> Result<()>;
    fn item(&mut self, path: &str, v: serde_json::Value) -> Result<()>;
}

/// Where the reading is, for the error of a field of the wrong type.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) name: &'a str,
    pub(crate) what: &'a str,
    /// The line the reading has reached.
    pub(crate) lines: &'a std::cell::Cell<u64>,
}

impl At<'_> {
    /// The error for what a handler did, or for a field it found of the wrong type.
    pub(crate) fn check(&self, done: Result<()>, path: &str) -> std::result::Result<(), Error> {
        done?;
        match mismatch() {
            None => Ok(()),
            Some(m) => Err(Error::Data(format!(
                "{}:{}: not a valid {} report: in {path}: {m}",
                self.name,
                self.lines.get(),
                self.what
            ))),
        }
    }
}

/// Each line of a JSON-lines report (go, dart), with its number, as raw bytes.
pub(crate) fn each_line(
    reader: impl std::io::Read,
    name: &str,
    mut f: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    use std::io::BufRead;
    let mut lines = std::io::BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        let read = lines.read_until(b'\n', &mut buf).map_err(|e| {
            Error::Usage(format!(
                "cannot read '{name}': {}",
                crate::cli::io_reason(&e)
            ))
        })?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        f(n, &buf)?;
    }
}

thread_local! {
    /// The first field read with the wrong type since the readers last looked (see [`typed`]).
    static MISMATCH: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// `v[key]` when it is absent, null, or what `is` accepts; otherwise the mismatch is noted
/// (the readers turn it into an error naming the place and what was expected) and `None`.
fn typed<'v>(
    v: &'v serde_json::Value,
    key: &str,
    expected: &str,
    is: fn(&serde_json::Value) -> bool,
) -> Option<&'v serde_json::Value> {
    let x = v.get(key).filter(|x| !x.is_null())?;
    if is(x) {
        return Some(x);
    }
    let found = match x {
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        _ => "an object",
    };
    MISMATCH.with(|m| {
        m.borrow_mut()
            .get_or_insert_with(|| format!("\"{key}\": expected {expected}, found {found}"));
    });
    None
}

/// Writes a result, unless a field of the wrong type was read since the readers last looked:
/// then nothing is written, and the reader reports the field.
pub(crate) fn emit(report: &mut Report<'_>, r: &TestResult) -> Result<()> {
    if MISMATCH.with(|m| m.borrow().is_some()) {
        return Ok(());
    }
    report.emit(r)
}

/// The field read with the wrong type since the last call, if any.
pub(crate) fn mismatch() -> Option<String> {
    MISMATCH.with(|m| m.borrow_mut().take())
}

/// The string at `v[key]`, if there is one.
pub(crate) fn str_of<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v str> {
    typed(v, key, "a string", serde_json::Value::is_string).and_then(serde_json::Value::as_str)
}

/// The number at `v[key]`, if there is one.
pub(crate) fn num_of(v: &serde_json::Value, key: &str) -> Option<f64> {
    typed(v, key, "a number", serde_json::Value::is_number).and_then(serde_json::Value::as_f64)
}

/// The array at `v[key]`, if there is one.
pub(crate) fn arr_of<'v>(
    v: &'v serde_json::Value,
    key: &str,
) -> Option<&'v Vec<serde_json::Value>> {
    typed(v, key, "an array", serde_json::Value::is_array).and_then(serde_json::Value::as_array)
}
