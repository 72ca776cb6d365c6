//! What the JSON formats share: the context (the field cap), errors, and the streaming reader
//! of a single JSON document (the [`Doc`] a format implements, read by `split`).

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::parse::input::truncation_marker;
use crate::parse::report::Report;
use crate::record::TestResult;

/// What every format needs besides the report.
pub(crate) struct Ctx {
    pub(crate) max_field: usize,
}

impl Ctx {
    /// The first line of `s` that is not blank, trimmed and cut at the cap: a result's message
    /// from its error text.
    pub(crate) fn first_line(&self, s: &str) -> Option<String> {
        plain(s)
            .lines()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| self.text(l.trim()))
    }

    /// A whole message (not its first line only): [`Ctx::text`] without the blank lines and
    /// spaces around it, which colour codes alone can leave.
    pub(crate) fn message(&self, s: &str) -> Option<String> {
        self.text(plain(s).trim())
    }

    /// A text field, cut at the cap (on a character boundary) with a visible marker; `None`
    /// when empty.
    pub(crate) fn text(&self, s: impl Into<String>) -> Option<String> {
        let s = s.into();
        let mut s = match plain(&s) {
            Cow::Borrowed(_) => s,
            Cow::Owned(p) => p,
        };
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

/// `s` without its terminal escape sequences (colours, cursor moves), which Jest, Vitest,
/// Playwright and Mocha's assertion libraries write into their error texts and Spira would
/// show as they are. Only a text holding an ESC is rewritten (by anstream's stripper, already
/// in the build for clap; it also drops the other control characters but white space).
fn plain(s: &str) -> Cow<'_, str> {
    match memchr::memchr(0x1b, s.as_bytes()) {
        None => Cow::Borrowed(s),
        Some(_) => Cow::Owned(anstream::adapter::strip_str(s).to_string()),
    }
}

/// A single-document format, read by `split::document` as a stream of keys and array elements.
pub(crate) trait Doc {
    /// The top-level key every report of the format has (its tests).
    fn required(&self) -> &'static str;
    fn want(&self, path: &str) -> Want;
    /// The value at a path wanted [`Want::Whole`].
    fn whole(&mut self, v: &Raw<'_>) -> Result<()>;
    /// An element of an array wanted as [`Want::Items`].
    fn item(&mut self, v: &Raw<'_>) -> Result<()>;
}

/// A value of a document, where it starts: read it with [`Raw::read`] into the format's own
/// type (borrowing its strings where it can). A handler reads it once, before doing anything
/// else: when the value runs past the block read so far, `read` fails and the reader calls the
/// handler again with more of the input.
pub(crate) struct Raw<'a> {
    /// The input from the value's start to the end of the block read so far.
    pub(crate) rest: &'a [u8],
    /// The start of `rest` that is known to be UTF-8 (all of it, but for a character cut by
    /// the block's end or a malformed byte).
    pub(crate) text: &'a str,
    /// Whether the block reaches the end of the input.
    pub(crate) eof: bool,
    /// The value's length, once read.
    pub(crate) used: std::cell::Cell<Option<usize>>,
    /// Set when the value runs past the block.
    pub(crate) short: std::cell::Cell<bool>,
    /// The line the value starts on (counted only for an error).
    pub(crate) line: &'a dyn Fn() -> u64,
    /// Where it is in the document: the key path, and the index in its array.
    pub(crate) path: &'a str,
    pub(crate) index: Option<usize>,
    pub(crate) at: At<'a>,
}

impl<'a> Raw<'a> {
    /// The value read as `T`. A value of the wrong shape is an error naming the line and the
    /// place in the document (`in testResults[1].assertionResults[0].title: invalid type:
    /// integer `5`, expected a string`): the place is found by reading the value again, only
    /// when it failed.
    pub(crate) fn read<T: serde::Deserialize<'a>>(&self) -> Result<T> {
        // Read from text known to be UTF-8, serde_json checks no string again (a tenth of the
        // time); a value that runs past that text is read from the bytes, as below.
        let mut it = serde_json::Deserializer::from_str(self.text).into_iter::<T>();
        if let Some(Ok(v)) = it.next() {
            let end = it.byte_offset();
            if end < self.text.len() || (self.eof && self.text.len() == self.rest.len()) {
                self.used.set(Some(end));
                return Ok(v);
            }
        }
        let mut it = serde_json::Deserializer::from_slice(self.rest).into_iter::<T>();
        let found = it.next();
        let end = it.byte_offset();
        match found {
            // A scalar that reaches the end of the block may go on in the next one.
            Some(Ok(v)) if end < self.rest.len() || self.eof => {
                self.used.set(Some(end));
                Ok(v)
            }
            Some(Err(e)) if self.eof || !e.is_eof() => Err(self.error::<T>(&e)),
            None if self.eof => Err(Error::Data(format!(
                "{}:{}: not a valid {} report: the file ends where a value was expected",
                self.at.name,
                (self.line)(),
                self.at.what
            ))),
            _ => {
                self.short.set(true);
                Err(Error::Data("more input needed".into()))
            }
        }
    }

    fn error<T: serde::Deserialize<'a>>(&self, e: &serde_json::Error) -> Error {
        let line = (self.line)() + (e.line() as u64).saturating_sub(1);
        if e.is_eof() {
            return Error::Data(format!(
                "{}:{line}: not a valid {} report: the file ends inside a value (truncated?)",
                self.at.name, self.at.what
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(self.rest);
        let sub = serde_path_to_error::deserialize::<_, T>(&mut de)
            .err()
            .map(|p| p.path().to_string())
            .filter(|p| p != ".");
        let mut place = self.path.to_string();
        if let Some(i) = self.index {
            place.push_str(&format!("[{i}]"));
        }
        if let Some(sub) = sub {
            if !place.is_empty() && !sub.starts_with('[') {
                place.push('.');
            }
            place.push_str(&sub);
        }
        let reason = crate::json::reason(e);
        let place = match place.as_str() {
            "" => String::new(),
            p => format!("in {p}: "),
        };
        Error::Data(format!(
            "{}:{line}: not a valid {} report: {place}{reason}",
            self.at.name, self.at.what
        ))
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

/// Where the reading is, for the errors of a format.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) name: &'a str,
    pub(crate) what: &'a str,
}

impl At<'_> {
    /// The error for what a handler did, or for a field it found of the wrong type (on `line`).
    pub(crate) fn check(
        &self,
        done: Result<()>,
        path: &str,
        index: Option<usize>,
        line: impl FnOnce() -> u64,
    ) -> std::result::Result<(), Error> {
        done?;
        match mismatch() {
            None => Ok(()),
            Some(m) => {
                let index = index.map(|i| format!("[{i}]")).unwrap_or_default();
                Err(Error::Data(format!(
                    "{}:{}: not a valid {} report: in {path}{index}: {m}",
                    self.name,
                    line(),
                    self.what
                )))
            }
        }
    }
}

/// A line of a line-based report (its line break included).
pub(crate) struct Line<'a> {
    pub(crate) bytes: &'a [u8],
    /// The line as text, when the block it came in is all UTF-8 (checked once per block, so
    /// that a reader needs no check per line, and serde_json none per string).
    pub(crate) text: Option<&'a str>,
}

/// The smallest read of [`each_line`].
const LINE_BLOCK: usize = 1 << 20;

/// Each line of a line-based report (go, dart, TAP), with its number. The input is read in
/// blocks of a megabyte and each line handed over where it lies in the block; only the part
/// of a line cut by a block's end is moved, to the next block's start. A read that brings less
/// (a pipe) is handed over at once, so results stream; and then `f` is given `None`, since the
/// next read may wait: what is held is to be written out (a pipeline records runs while the
/// tests run).
pub(crate) fn each_line(
    mut reader: impl std::io::Read,
    name: &str,
    mut f: impl FnMut(u64, Option<Line<'_>>) -> Result<()>,
) -> Result<()> {
    // `buf` is zeroed once, where it grows, and reused from file to file: `filled` says how
    // much of it was read.
    let mut buf: Vec<u8> = LINES.with_borrow_mut(std::mem::take);
    let mut filled = 0;
    let mut n = 0u64;
    let result = loop {
        let want = filled + LINE_BLOCK.max(filled);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let got = match crate::cli::read_some(&mut reader, &mut buf[filled..want], name) {
            Ok(got) => got,
            Err(e) => break Err(e),
        };
        filled += got;
        let eof = got == 0;
        let read = buf.get(..filled).unwrap_or_default();
        // The whole lines: up to the last line break (at the end of the input, all of it).
        let end = match memchr::memrchr(b'\n', read) {
            _ if eof => filled,
            Some(i) => i + 1,
            None => 0,
        };
        if let Err(e) = lines(read.get(..end).unwrap_or_default(), &mut n, &mut f) {
            break Err(e);
        }
        if eof {
            break Ok(());
        }
        if filled < want {
            if let Err(e) = f(n, None) {
                break Err(e);
            }
        }
        buf.copy_within(end..filled, 0);
        filled -= end;
    };
    if buf.len() <= 4 * LINE_BLOCK {
        LINES.with_borrow_mut(|l| *l = buf);
    }
    result
}

thread_local! {
    /// The line reader's block, kept by this thread for its next input.
    static LINES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Hands each line of `whole` (whole lines) to `f`, numbering them on from `n`.
fn lines(
    whole: &[u8],
    n: &mut u64,
    f: &mut impl FnMut(u64, Option<Line<'_>>) -> Result<()>,
) -> Result<()> {
    let end = whole.len();
    let text = std::str::from_utf8(whole).ok();
    let mut start = 0;
    while start < end {
        let stop = memchr::memchr(b'\n', whole.get(start..).unwrap_or_default())
            .map_or(end, |i| start + i + 1);
        *n += 1;
        let line = Line {
            bytes: whole.get(start..stop).unwrap_or_default(),
            text: text.and_then(|t| t.get(start..stop)),
        };
        f(*n, Some(line))?;
        start = stop;
    }
    Ok(())
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

/// For a field the formats' writers do not always give the same type (a line number written
/// as a string): the value when it is a `T`, else nothing.
pub(crate) fn lenient<'de, D, T>(de: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = <serde_json::Value as serde::Deserialize>::deserialize(de)?;
    Ok(T::deserialize(v).ok())
}

/// A string of a document, borrowed from it when it has no escapes (serde's own `Cow<str>`
/// always copies inside an `Option` or a `Vec`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) std::borrow::Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v)))
            }
        }
        de.deserialize_str(V)
    }
}

/// The suites of the last result written: consecutive tests of one file or describe block
/// share them (and the result writer reuses the head of the line it wrote for them, which it
/// recognises by the shared suites).
#[derive(Default)]
pub(crate) struct LastSuites(Option<std::sync::Arc<[String]>>);

impl LastSuites {
    pub(crate) fn of<'a>(
        &mut self,
        names: impl Iterator<Item = &'a str> + Clone,
    ) -> std::sync::Arc<[String]> {
        let same = self
            .0
            .as_ref()
            .is_some_and(|s| s.iter().map(String::as_str).eq(names.clone()));
        if !same {
            self.0 = Some(names.map(str::to_string).collect::<Vec<_>>().into());
        }
        self.0.clone().unwrap_or_else(|| std::sync::Arc::from([]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most `k` bytes a read, as a pipe may.
    struct Trickle<'a>(&'a [u8], usize);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn lines(data: &[u8], k: usize) -> Vec<(u64, Vec<u8>, Option<String>)> {
        let mut got = Vec::new();
        each_line(Trickle(data, k), "t", |n, l| {
            if let Some(l) = l {
                got.push((n, l.bytes.to_vec(), l.text.map(str::to_string)));
            }
            Ok(())
        })
        .unwrap();
        got
    }

    #[test]
    fn lines_come_whole_however_the_input_is_cut() {
        let text = "a\nb\u{e9}\u{1F600}\n\n\nlast";
        for k in 1..12 {
            let got = lines(text.as_bytes(), k);
            let want: Vec<_> = ["a\n", "b\u{e9}\u{1F600}\n", "\n", "\n", "last"]
                .iter()
                .zip(1..)
                .map(|(l, n)| (n, l.as_bytes().to_vec(), Some(l.to_string())))
                .collect();
            assert_eq!(got, want, "{k} bytes a read");
        }
        // A line that is not UTF-8 is handed over as bytes only.
        let got = lines(b"ok\nx\xffy\n", 1 << 20);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].1, b"x\xffy\n");
        assert_eq!(got[1].2, None);
        assert!(lines(b"", 3).is_empty());
    }
}
