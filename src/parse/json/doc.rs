//! What the JSON formats share: the context (the field cap), errors, and the streaming reader
//! of a single JSON document ([`document`], [`Doc`]).

use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

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

/// A serde error of the document `name` as spira-parse reports bad input: the place, and what
/// was expected.
pub(crate) fn bad(name: &str, what: &str, e: &serde_json::Error) -> Error {
    let msg = e.to_string();
    let reason = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(r, _)| r);
    Error::Data(format!(
        "{name}:{}:{}: not a valid {what} report: {reason}",
        e.line(),
        e.column()
    ))
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

/// A single-document format, read by [`document`] as a stream of keys and array elements.
pub(crate) trait Doc {
    /// The top-level key every report of the format has (its tests).
    fn required(&self) -> &'static str;
    fn want(&self, path: &str) -> Want;
    fn whole(&mut self, path: &str, v: serde_json::Value) -> Result<()>;
    fn item(&mut self, path: &str, v: serde_json::Value) -> Result<()>;
}

/// Reads the single JSON document of `reader` into `doc`; `what` names the format in errors.
pub(crate) fn document(reader: impl Read, doc: &mut dyn Doc, name: &str, what: &str) -> Result<()> {
    let mut failure = None;
    mismatch();
    let lines = std::rc::Rc::new(std::cell::Cell::new(1));
    let counting = Counting {
        inner: std::io::BufReader::with_capacity(1 << 16, reader),
        lines: lines.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(counting);
    let required = doc.required();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(false));
    let mut doc = Seen {
        doc,
        seen: seen.clone(),
    };
    let seed = Obj {
        doc: &mut doc,
        path: String::new(),
        failure: &mut failure,
        at: At {
            name,
            what,
            lines: &lines,
        },
    };
    let r = seed.deserialize(&mut de).and_then(|()| de.end());
    if let Some(e) = failure {
        return Err(e);
    }
    r.map_err(|e| bad(name, what, &e))?;
    if !*seen.borrow() {
        return Err(Error::Data(format!(
            "{name}:{}: not a valid {what} report: it has no \"{}\"",
            lines.get(),
            required
        )));
    }
    Ok(())
}

/// A [`Doc`] that notes whether the required key came by.
struct Seen<'a> {
    doc: &'a mut dyn Doc,
    seen: std::rc::Rc<std::cell::RefCell<bool>>,
}

impl Doc for Seen<'_> {
    fn required(&self) -> &'static str {
        self.doc.required()
    }
    fn want(&self, path: &str) -> Want {
        if path == self.doc.required() {
            *self.seen.borrow_mut() = true;
        }
        self.doc.want(path)
    }
    fn whole(&mut self, path: &str, v: serde_json::Value) -> Result<()> {
        self.doc.whole(path, v)
    }
    fn item(&mut self, path: &str, v: serde_json::Value) -> Result<()> {
        self.doc.item(path, v)
    }
}

/// Where the reading is, for the error of a field of the wrong type.
#[derive(Clone, Copy)]
struct At<'a> {
    name: &'a str,
    what: &'a str,
    lines: &'a std::cell::Cell<u64>,
}

impl At<'_> {
    /// The error for what a handler did, or for a field it found of the wrong type.
    fn check(&self, done: Result<()>, path: &str) -> std::result::Result<(), Error> {
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

/// The object at `path`.
struct Obj<'a> {
    doc: &'a mut dyn Doc,
    path: String,
    failure: &'a mut Option<Error>,
    at: At<'a>,
}

impl<'de> DeserializeSeed<'de> for Obj<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Obj<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path.as_str() {
            "" => write!(f, "a {} report (a JSON object)", self.at.what),
            p => write!(f, "an object at {p}"),
        }
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        match self.path.as_str() {
            "" => Err(E::invalid_type(de::Unexpected::Unit, &self)),
            _ => Ok(()),
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let path = match self.path.as_str() {
                "" => key,
                p => format!("{p}.{key}"),
            };
            match self.doc.want(&path) {
                Want::Skip => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                Want::Whole => {
                    let v = map.next_value::<serde_json::Value>()?;
                    let done = self.doc.whole(&path, v);
                    if let Err(e) = self.at.check(done, &path) {
                        return Err(fail(self.failure, e));
                    }
                }
                Want::Items => map.next_value_seed(Items {
                    doc: &mut *self.doc,
                    path: &path,
                    failure: &mut *self.failure,
                    at: self.at,
                })?,
                Want::Object => map.next_value_seed(Obj {
                    doc: &mut *self.doc,
                    path,
                    failure: &mut *self.failure,
                    at: self.at,
                })?,
            }
        }
        Ok(())
    }
}

/// The array at `path`, element by element.
struct Items<'a> {
    doc: &'a mut dyn Doc,
    path: &'a str,
    failure: &'a mut Option<Error>,
    at: At<'a>,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array at {}", self.path)
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut i = 0;
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            let done = self.doc.item(self.path, v);
            if let Err(e) = self.at.check(done, &format!("{}[{i}]", self.path)) {
                return Err(fail(self.failure, e));
            }
            i += 1;
        }
        Ok(())
    }
}

/// Keeps `e` aside and turns it into a serde error that stops the reading.
fn fail<E: de::Error>(slot: &mut Option<Error>, e: Error) -> E {
    *slot = Some(e);
    E::custom("stopped")
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

/// A reader that counts the lines read through it: serde_json reads its input a byte at a
/// time, so the count is the line the parser has reached.
struct Counting<R> {
    inner: R,
    lines: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let nl = buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        self.lines.set(self.lines.get() + nl);
        Ok(n)
    }
}
