//! Attributes: a start tag's attributes unescaped and normalised, their names interned (the
//! formats' common names cost no allocation), and looked up.

use std::borrow::Cow;

use quick_xml::events::BytesStart;

use super::ctx::Ctx;
use super::refs::Resolved;
use super::source::Src;
use crate::cli;
use crate::error::{Error, Result};
use crate::parse::tokens::{split_spans, Span};

impl Ctx {
    /// The attributes of a start tag, unescaped and normalised, in document order.
    /// Duplicate attributes (not well-formed XML) are kept, the last one winning for lookups by
    /// [`attr`]; the first in a file is a warning.
    pub(crate) fn attrs(&mut self, e: &BytesStart<'_>, reader: &Src) -> Result<Attrs> {
        let tag: &str = e;
        // The reader thread found the attributes already, or they are split here (a tag that
        // is not plain `name="value"` pairs is read by quick-xml, which says what is wrong).
        if let Src::Thread(s) = reader {
            if let Some(spans) = s
                .attribute_spans()
                .filter(|sp| sp.iter().all(|a| a.value.1 as usize <= tag.len()))
            {
                return Ok(self.attrs_at(tag, spans, e, reader));
            }
        }
        let mut own = std::mem::take(&mut self.spans);
        own.clear();
        let split = split_spans(tag.as_bytes(), e.name().0.len(), &mut own)
            .map(|()| self.attrs_at(tag, &own, e, reader));
        self.spans = own;
        if let Some(out) = split {
            return Ok(out);
        }
        let mut out = Vec::new();
        for a in e.attributes().with_checks(false) {
            let a = a.map_err(|err| {
                use quick_xml::events::attributes::AttrError as A;
                // quick-xml counts from the byte after `<`.
                let (at, what) = match err {
                    A::ExpectedEq(p) => (p, "expected `=` after the attribute name".to_string()),
                    A::ExpectedValue(p) => (p, "expected a quoted attribute value".to_string()),
                    A::UnquotedValue(p) => (p, "attribute value must be in quotes".to_string()),
                    A::ExpectedQuote(p, q) => (
                        p,
                        format!("attribute value not closed: `{}` not found", q as char),
                    ),
                    A::Duplicated(p, _) => (p, "duplicate attribute".to_string()),
                };
                Error::Data(format!(
                    "{}: malformed XML: in <{}>: {what}",
                    reader.position(self.start + 1 + at as u64),
                    e.name().0
                ))
            })?;
            let value = self.unescape_attr(&a.value, reader);
            let key = intern(a.key.0);
            self.check_duplicate(&out, &key, e, reader);
            out.push((key, value));
        }
        Ok(out)
    }

    /// The attributes of start tag `tag` at `spans`, values unescaped.
    fn attrs_at(&mut self, tag: &str, spans: &[Span], e: &BytesStart<'_>, reader: &Src) -> Attrs {
        let mut out = self.pool.attrs();
        out.reserve(spans.len());
        for a in spans {
            let raw = &tag[a.value.0 as usize..a.value.1 as usize];
            let value = if a.escaped {
                self.normalize_attr(raw, reader)
            } else {
                self.pool.copy(raw)
            };
            let key = intern(&tag[a.key.0 as usize..a.key.1 as usize]);
            self.check_duplicate(&out, &key, e, reader);
            out.push((key, value));
        }
        out
    }

    /// Warns (once per file) when `key` is among the attributes read before.
    fn check_duplicate(&mut self, before: &Attrs, key: &str, e: &BytesStart<'_>, reader: &Src) {
        if !self.warned_dup && !self.quiet && before.iter().any(|(k, _)| k == key) {
            self.warned_dup = true;
            cli::warn(format_args!(
                "{}: <{}> has the attribute '{key}' more than once; the last value is used (further ones in this file are not reported)",
                reader.position(self.start),
                e.name().0
            ));
        }
    }

    /// Attribute-value normalisation: references resolved, literal white space made a space.
    fn unescape_attr(&mut self, raw: &str, reader: &Src) -> String {
        let b = raw.as_bytes();
        // Values are short: one plain pass beats two memchr calls.
        if !b.iter().any(|&c| matches!(c, b'&' | b'\t' | b'\n' | b'\r')) {
            return raw.to_string();
        }
        self.normalize_attr(raw, reader)
    }

    /// [`Ctx::unescape_attr`] for a value known to hold a reference, tab or line end.
    fn normalize_attr(&mut self, raw: &str, reader: &Src) -> String {
        let mut s = self.pool.string(raw.len());
        s.reserve(raw.len());
        let mut rest = raw;
        while let Some(i) = rest
            .bytes()
            .position(|c| matches!(c, b'&' | b'\t' | b'\n' | b'\r'))
        {
            s.push_str(&rest[..i]);
            let c = rest.as_bytes()[i];
            if c != b'&' {
                // A CR LF pair is one line end, so one space.
                let crlf = c == b'\r' && rest.as_bytes().get(i + 1) == Some(&b'\n');
                s.push(' ');
                rest = &rest[i + 1 + usize::from(crlf)..];
                continue;
            }
            let tail = &rest.as_bytes()[i + 1..];
            match memchr::memchr(b';', &tail[..tail.len().min(40)]) {
                Some(j) if j > 0 => {
                    let name = &rest[i + 1..i + 1 + j];
                    match self.resolve(name, reader) {
                        Resolved::Str(t) => s.push_str(t),
                        Resolved::Char(c) => s.push(c),
                        Resolved::Undefined(n) => {
                            s.push('&');
                            s.push_str(n);
                            s.push(';');
                        }
                    }
                    rest = &rest[i + 2 + j..];
                }
                _ => {
                    s.push('&');
                    rest = &rest[i + 1..];
                }
            }
        }
        s.push_str(rest);
        s
    }
}

/// Attributes in document order: names (common ones without an allocation) and values.
pub(crate) type Attrs = Vec<(Cow<'static, str>, String)>;

/// `$name` as the one of the literals that it equals (no allocation), or an owned copy.
macro_rules! interned {
    ($name:expr; $($n:literal),* $(,)?) => {
        match $name {
            $($n => Cow::Borrowed($n),)*
            other => Cow::Owned(other.to_string()),
        }
    };
}

/// A name from the formats' common attribute names, or an owned copy.
fn intern(name: &str) -> Cow<'static, str> {
    interned!(
        name;
        "name",
        "classname",
        "time",
        "message",
        "type",
        "value",
        "timestamp",
        "file",
        "line",
        "status",
        "result",
        "assertions",
        "tests",
        "failures",
        "errors",
        "skipped",
        "hostname",
        "id",
        "package",
        "disabled",
        "class",
        "fullname",
        "methodname",
        "duration",
        "label",
        "start-time",
        "end-time",
        "asserts",
        "executed",
        "success",
        "outcome",
        "testName",
        "testId",
        "executionId",
        "startTime",
        "endTime",
        "className",
        "method",
        "signature",
        "is-config",
        "duration-ms",
        "started-at",
        "finished-at",
        "computerName",
        "testType",
        "testListId",
        "relativeResultsDirectory",
        "runstate",
        "seed",
        "site",
        "source-file",
        "source-line",
        "start-rtf",
        "finish-rtf",
        "time-rtf",
        "index",
        "path",
        "storage",
        "exception-type",
    )
}

/// An element name: the formats' common ones without an allocation.
pub(crate) type Name = Cow<'static, str>;

/// A name from the formats' common element names, or an owned copy.
pub(super) fn intern_element(name: &str) -> Name {
    interned!(
        name;
        // JUnit
        "testsuites",
        "testsuite",
        "testcase",
        "properties",
        "property",
        "failure",
        "error",
        "skipped",
        "warning",
        "system-out",
        "system-err",
        "rerunFailure",
        "rerunError",
        "flakyFailure",
        "flakyError",
        "stackTrace",
        // NUnit
        "test-run",
        "test-suite",
        "test-case",
        "test-results",
        "results",
        "reason",
        "message",
        "stack-trace",
        "output",
        "categories",
        "category",
        "assertions",
        "assertion",
        "attachments",
        "attachment",
        // xUnit.net
        "assemblies",
        "assembly",
        "collection",
        "test",
        "traits",
        "trait",
        // TestNG
        "testng-results",
        "suite",
        "class",
        "test-method",
        "params",
        "param",
        "value",
        "exception",
        "full-stacktrace",
        "reporter-output",
        "line",
        // TRX
        "TestRun",
        "Results",
        "UnitTestResult",
        "Output",
        "StdOut",
        "StdErr",
        "ErrorInfo",
        "Message",
        "StackTrace",
        "TestDefinitions",
        "UnitTest",
        "TestMethod",
        "Execution",
        "TestCategory",
        "TestCategoryItem",
        "Properties",
        "Property",
        "Key",
        "Value",
    )
}

/// The value of attribute `key`, if present (the last one, if duplicated).
pub(crate) fn attr<'a>(attrs: &'a [(Cow<'static, str>, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Takes the value of attribute `key` out of `attrs` (the one [`attr`] gives), if present.
pub(crate) fn take_attr(attrs: &mut Attrs, key: &str) -> Option<String> {
    let i = attrs.iter().rposition(|(k, _)| k == key)?;
    Some(attrs.swap_remove(i).1)
}
