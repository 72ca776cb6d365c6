//! Machinery every XML report parser shares: opening a document through the [`Decoded`] filter,
//! reading events with positions, gathering text across Text, CDATA and reference events,
//! reading attributes, and the warnings that go with them.

use std::borrow::Cow;
use std::io::Read;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::input::{truncation_marker, Decoded};
use super::stream::{split_spans, Span, Stream};
use crate::cli;
use crate::error::{Error, Result};

/// The raw bytes of a report.
pub(crate) type Source = Box<dyn Read + Send>;

/// Deeper nesting than this is refused: no real report comes near it, and it bounds memory.
pub(crate) const MAX_DEPTH: usize = 1024;

/// An XML document being read.
pub(crate) struct XmlDoc {
    /// Where the events come from.
    pub(crate) reader: Src,
    /// The event buffer.
    pub(crate) buf: Buf,
    /// Everything else: the name, the cap, depth and warning state.
    pub(crate) ctx: Ctx,
}

/// The state of a document that is not the reader or its buffer, so that it can be used while
/// an event borrows the buffer.
pub(crate) struct Ctx {
    /// The report's name in messages.
    pub(crate) name: String,
    /// The cap on one text field, in bytes.
    pub(crate) cap: usize,
    /// Open elements.
    pub(crate) depth: usize,
    /// Where the last event started, in the filtered stream.
    pub(crate) start: u64,
    warned_refs: bool,
    warned_dup: bool,
    illegal_refs: u64,
    quiet: bool,
    /// Buffers handed back after use, to be filled again.
    pub(crate) pool: Pool,
    /// Where a start tag's attributes are, when this thread splits them.
    spans: Vec<Span>,
}

/// Strings and attribute lists handed back once a result is written, to be filled again: after
/// the first few test cases, reading one (JUnit's, the hot path, hands everything back)
/// allocates and frees next to nothing. Bounded: at most [`POOL_STRINGS`] short and as many
/// long strings of at most [`POOL_STRING_BYTES`] each are kept.
#[derive(Default)]
pub(crate) struct Pool {
    /// Strings with room for a short value (an attribute), and with more (a text).
    short: Vec<String>,
    long: Vec<String>,
    attrs: Vec<Attrs>,
}

/// The most strings a [`Pool`] keeps of each kind.
const POOL_STRINGS: usize = 16;
/// The room that makes a string long.
const POOL_LONG: usize = 256;
/// The largest capacity of a string a [`Pool`] keeps.
const POOL_STRING_BYTES: usize = 16 << 10;

impl Pool {
    /// An empty string for about `n` bytes, in room handed back if there is some that fits.
    pub(crate) fn string(&mut self, n: usize) -> String {
        let spare = if n < POOL_LONG {
            self.short.pop().or_else(|| self.long.pop())
        } else {
            self.long.pop()
        };
        spare.unwrap_or_default()
    }

    /// A copy of `s`.
    pub(crate) fn copy(&mut self, s: &str) -> String {
        let mut b = self.string(s.len());
        b.push_str(s);
        b
    }

    /// Keeps `s`'s room for a later string (or frees it, when the pool is full or `s` large).
    pub(crate) fn give(&mut self, mut s: String) {
        let keep = if s.capacity() >= POOL_LONG {
            &mut self.long
        } else {
            &mut self.short
        };
        if s.capacity() > 0 && s.capacity() <= POOL_STRING_BYTES && keep.len() < POOL_STRINGS {
            s.clear();
            keep.push(s);
        }
    }

    /// [`Pool::give`] for each string there is.
    pub(crate) fn give_all<const N: usize>(&mut self, strings: [Option<String>; N]) {
        for s in strings.into_iter().flatten() {
            self.give(s);
        }
    }

    /// An empty attribute list, with room from one handed back if there is one.
    pub(crate) fn attrs(&mut self) -> Attrs {
        self.attrs.pop().unwrap_or_default()
    }

    /// Keeps an attribute list and its values' room for later.
    pub(crate) fn give_attrs(&mut self, mut a: Attrs) {
        for (_, v) in a.drain(..) {
            self.give(v);
        }
        if self.attrs.len() < 4 {
            self.attrs.push(a);
        }
    }
}

impl XmlDoc {
    /// Reads an XML document from `raw`, named `name` in messages, with text capped at `cap`.
    pub(crate) fn new(raw: impl Read + Send + 'static, name: &str, cap: usize) -> Result<XmlDoc> {
        let raw: Source = Box::new(raw);
        let decoded = Decoded::new(raw, name, true, cap)
            .map_err(|e| Error::Usage(format!("cannot read '{name}': {}", cli::io_reason(&e))))?;
        let mut reader = Reader::from_reader(decoded);
        let c = reader.config_mut();
        c.allow_dangling_amp = true;
        c.check_end_names = true;
        c.expand_empty_elements = false;
        Ok(XmlDoc {
            reader: Src::Here(Box::new(reader)),
            buf: Buf {
                bytes: Vec::with_capacity(4096),
                text: String::new(),
            },
            ctx: Ctx {
                name: name.to_string(),
                cap,
                depth: 0,
                start: 0,
                warned_refs: false,
                warned_dup: false,
                illegal_refs: 0,
                quiet: false,
                pool: Pool::default(),
                spans: Vec::new(),
            },
        })
    }

    /// Reads on with a thread of its own (see [`stream`](super::stream)), unless the whole
    /// input has been read already: a small file is read faster on one thread. `may_wait`:
    /// the input is not a file, and a read may wait for more.
    pub(crate) fn read_ahead(&mut self, may_wait: bool) {
        let name = self.ctx.name.clone();
        let placeholder = Src::Thread(Box::new(Stream::failed(
            &name,
            format!("{name}: cannot read"),
        )));
        self.reader = match std::mem::replace(&mut self.reader, placeholder) {
            Src::Here(r) if !r.get_ref().is_finished() => {
                let cap = r.get_ref().history_cap();
                Src::Thread(Box::new(super::stream::spawn(*r, &name, cap, may_wait)))
            }
            other => other,
        };
    }

    /// Gives no warnings from now on: for a second reading of the same input.
    pub(crate) fn quiet(&mut self) {
        self.ctx.quiet = true;
        if let Src::Here(r) = &mut self.reader {
            r.get_mut().quiet = true;
        }
    }

    /// The next event, with the depth tracked and errors given a position.
    pub(crate) fn event(&mut self) -> Result<Event<'_>> {
        next_event(&mut self.reader, &mut self.buf, &mut self.ctx)
    }

    /// `NAME:LINE:COL` of the start of the last event.
    pub(crate) fn here(&self) -> String {
        self.reader.position(self.ctx.start)
    }

    /// Reads the rest of the document after its root element closed, warning about anything
    /// but comments and white space there, and gives the end-of-file warnings.
    pub(crate) fn finish(&mut self) -> Result<()> {
        let mut warned = false;
        loop {
            let ev = self.event()?;
            let stray = match &ev {
                Event::Eof => break,
                Event::Text(t) => !t.trim().is_empty(),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => false,
                _ => true,
            };
            if stray && !warned {
                warned = true;
                let at = self.here();
                cli::warn(format_args!(
                    "{at}: content after the root element is ignored"
                ));
            }
        }
        self.warn_totals();
        Ok(())
    }

    /// The end-of-file summaries of recovered problems.
    pub(crate) fn warn_totals(&self) {
        let illegal = self.reader.illegal() + self.ctx.illegal_refs;
        if illegal > 1 {
            cli::warn(format_args!(
                "{}: {illegal} characters not allowed in XML were replaced with U+FFFD",
                self.ctx.name
            ));
        }
    }
}

/// The source of a document's events: quick-xml on this thread, or a reader thread.
pub(crate) enum Src {
    /// quick-xml over the filter, on this thread.
    Here(Box<Reader<Decoded<Source>>>),
    /// A reader thread (see [`stream`](super::stream)).
    Thread(Box<Stream>),
}

impl Src {
    /// `NAME:LINE:COL` of a recent offset in the filtered stream.
    pub(crate) fn position(&self, offset: u64) -> String {
        match self {
            Src::Here(r) => r.get_ref().position(offset),
            Src::Thread(s) => s.position(offset),
        }
    }

    /// Characters the filter replaced so far.
    fn illegal(&self) -> u64 {
        match self {
            Src::Here(r) => r.get_ref().illegal,
            Src::Thread(s) => s.illegal(),
        }
    }
}

/// Where an event's text is kept.
pub(crate) struct Buf {
    /// For quick-xml on this thread: cleared before each event.
    bytes: Vec<u8>,
    /// For a reader thread: the text of the current batch.
    text: String,
}

/// Reads one event into `buf`: the free-function form of [`XmlDoc::event`], for parsers that
/// keep the reader, the buffer and the context apart.
pub(crate) fn next_event<'b>(
    reader: &mut Src,
    buf: &'b mut Buf,
    ctx: &mut Ctx,
) -> Result<Event<'b>> {
    let read = match reader {
        Src::Here(r) => {
            ctx.start = r.buffer_position();
            buf.bytes.clear();
            r.read_event_into(&mut buf.bytes)
                .map_err(|e| malformed(r, &e))
        }
        Src::Thread(s) => s.next_event(&mut buf.text, &mut ctx.start),
    };
    match read {
        Ok(ev) => {
            match &ev {
                Event::Start(_) => {
                    ctx.depth += 1;
                    if ctx.depth > MAX_DEPTH {
                        return Err(Error::Data(format!(
                            "{}: elements nested more than {MAX_DEPTH} deep",
                            reader.position(ctx.start)
                        )));
                    }
                }
                Event::End(_) => ctx.depth = ctx.depth.saturating_sub(1),
                Event::Eof if ctx.depth > 0 => {
                    return Err(Error::Data(format!(
                        "{}: unexpected end of file: {} element{} not closed (truncated file?)",
                        // The end of file event consumes nothing: it starts where the input ends.
                        reader.position(ctx.start),
                        ctx.depth,
                        if ctx.depth == 1 { "" } else { "s" }
                    )));
                }
                _ => {}
            }
            Ok(ev)
        }
        Err(msg) => Err(Error::Data(msg)),
    }
}

/// The message for quick-xml's error `e`, at the position where `reader` found it.
pub(super) fn malformed(reader: &Reader<Decoded<Source>>, e: &quick_xml::Error) -> String {
    format!(
        "{}: malformed XML: {}",
        reader.get_ref().position(reader.error_position()),
        describe(e)
    )
}

/// What was wrong, in words.
fn describe(e: &quick_xml::Error) -> String {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match e {
        quick_xml::Error::Syntax(SyntaxError::UnclosedCData) => {
            "CDATA section not closed before the end of the file (truncated file?)".into()
        }
        quick_xml::Error::Syntax(s) => format!("{s} (truncated file?)"),
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("closing tag </{found}> does not match the open <{expected}>")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(n)) => {
            format!("closing tag </{n}> has no opening tag")
        }
        quick_xml::Error::Io(io) => format!("cannot read: {}", cli::io_reason(io)),
        other => other.to_string(),
    }
}

/// What a reference stands for.
enum Resolved<'a> {
    Str(&'static str),
    Char(char),
    Undefined(&'a str),
}

impl Ctx {
    /// Resolves a reference into `out`: predefined entities and character references. An
    /// undefined entity is kept as written, with a warning; a reference to a character XML
    /// forbids becomes U+FFFD, with a warning.
    pub(crate) fn push_ref(&mut self, name: &str, out: &mut Text, reader: &Src) {
        match self.resolve(name, reader) {
            Resolved::Str(s) => out.push(s),
            Resolved::Char(c) => out.push(c.encode_utf8(&mut [0u8; 4])),
            Resolved::Undefined(n) => out.push_ref_raw(n),
        }
    }

    fn resolve<'a>(&mut self, name: &'a str, reader: &Src) -> Resolved<'a> {
        if let Some(s) = resolve_predefined_entity(name) {
            return Resolved::Str(s);
        }
        if name.starts_with('#') {
            return match BytesRef::new(name).resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => Resolved::Char(c),
                _ => {
                    self.illegal_ref(name, reader.position(self.start));
                    Resolved::Char('\u{FFFD}')
                }
            };
        }
        self.undefined_ref(name, reader.position(self.start));
        Resolved::Undefined(name)
    }

    fn illegal_ref(&mut self, name: &str, at: String) {
        self.illegal_refs += 1;
        if self.illegal_refs == 1 && !self.quiet {
            cli::warn(format_args!(
                "{at}: character reference &{name}; is not allowed in XML; replaced with U+FFFD"
            ));
        }
    }

    fn undefined_ref(&mut self, name: &str, at: String) {
        if !self.warned_refs && !self.quiet {
            self.warned_refs = true;
            cli::warn(format_args!(
                "{at}: undefined entity &{name}; kept as written (DTDs are never read)"
            ));
        }
    }

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

/// Whether XML 1.0 allows the character in a document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A text field being gathered, capped at a number of bytes with a visible marker.
pub(crate) struct Text {
    s: String,
    cap: usize,
    omitted: u64,
}

/// Room left past the cap for the filter's own marker, so a run it already cut passes whole.
const MARKER_SLACK: usize = 64;

impl Text {
    /// An empty field capped at `cap` bytes.
    pub(crate) fn new(cap: usize) -> Text {
        Text::in_buffer(String::new(), cap)
    }

    /// An empty field capped at `cap` bytes, gathered in `s` (emptied first).
    pub(crate) fn in_buffer(mut s: String, cap: usize) -> Text {
        s.clear();
        Text {
            s,
            cap: cap + MARKER_SLACK,
            omitted: 0,
        }
    }

    /// Appends `t`, cutting at the cap on a character boundary.
    pub(crate) fn push(&mut self, t: &str) {
        if self.omitted > 0 {
            self.omitted += t.len() as u64;
            return;
        }
        if self.s.is_empty() {
            // Text usually comes in pieces (references between them): room for a few.
            self.s.reserve(t.len().max(256).min(self.cap));
        }
        let room = self.cap.saturating_sub(self.s.len());
        if t.len() <= room {
            self.s.push_str(t);
            return;
        }
        let mut cut = room.saturating_sub(MARKER_SLACK);
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        self.s.push_str(&t[..cut]);
        self.omitted = (t.len() - cut) as u64;
    }

    /// Appends a reference kept as written: `&name;`.
    pub(crate) fn push_ref_raw(&mut self, name: &str) {
        self.push("&");
        self.push(name);
        self.push(";");
    }

    /// The gathered text with the marker if it was cut; `None` when empty.
    pub(crate) fn finish(mut self) -> Option<String> {
        if self.omitted > 0 {
            self.s.push_str(&truncation_marker(self.omitted));
        }
        if self.s.is_empty() {
            None
        } else {
            Some(self.s)
        }
    }

    /// [`Text::finish`], handing the buffer back to `pool` when there is no text.
    pub(crate) fn finish_pooled(self, pool: &mut Pool) -> Option<String> {
        if self.s.is_empty() && self.omitted == 0 {
            pool.give(self.s);
            return None;
        }
        self.finish()
    }
}

/// Adds a text-like event (Text, CDATA, reference) to `out`; returns false for other events.
pub(crate) fn gather(ev: &Event<'_>, out: &mut Text, ctx: &mut Ctx, reader: &Src) -> bool {
    match ev {
        Event::Text(t) => out.push(&t.xml10_content()),
        Event::CData(t) => out.push(&t.xml10_content()),
        Event::GeneralRef(r) => ctx.push_ref(r, out, reader),
        _ => return false,
    }
    true
}

/// Reads the text content of the element whose start tag was just read, up to its end tag.
/// Text inside nested elements is included; comments and instructions are not.
pub(crate) fn read_text(doc: &mut XmlDoc) -> Result<Option<String>> {
    let mut text = Text::in_buffer(doc.ctx.pool.string(POOL_LONG), doc.ctx.cap);
    let depth = doc.ctx.depth;
    loop {
        let ev = next_event(&mut doc.reader, &mut doc.buf, &mut doc.ctx)?;
        if let Event::End(_) = ev {
            if doc.ctx.depth < depth {
                break;
            }
        }
        gather(&ev, &mut text, &mut doc.ctx, &doc.reader);
    }
    Ok(text.finish_pooled(&mut doc.ctx.pool))
}

/// Skips the element whose start tag was just read, up to its end tag.
pub(crate) fn skip(doc: &mut XmlDoc) -> Result<()> {
    let depth = doc.ctx.depth;
    loop {
        let ev = doc.event()?;
        if let Event::End(_) = ev {
            if doc.ctx.depth < depth {
                return Ok(());
            }
        }
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
fn intern_element(name: &str) -> Name {
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

/// What [`next_item`] found.
pub(crate) enum Item {
    /// An element start (`empty` for `<x/>`), with its attributes read.
    Open {
        /// The element's name.
        name: Name,
        /// Its attributes.
        attrs: Attrs,
        /// True for an empty-element tag.
        empty: bool,
    },
    /// An element end; `ctx.depth` is already the depth outside it.
    Close,
    /// The end of the file.
    Eof,
}

/// Reads up to the next element start or end. Text, CDATA and references on the way are
/// gathered into `text` when given; comments and instructions are passed over.
pub(crate) fn next_item(doc: &mut XmlDoc, mut text: Option<&mut Text>) -> Result<Item> {
    let XmlDoc { reader, buf, ctx } = doc;
    loop {
        let ev = next_event(reader, buf, ctx)?;
        let (e, empty) = match ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => return Ok(Item::Close),
            Event::Eof => return Ok(Item::Eof),
            ev => {
                if let Some(t) = text.as_deref_mut() {
                    gather(&ev, t, ctx, reader);
                }
                continue;
            }
        };
        let attrs = ctx.attrs(&e, reader)?;
        return Ok(Item::Open {
            name: intern_element(e.name().0),
            attrs,
            empty,
        });
    }
}

/// Calls `f` for each child element of the element whose start tag was just read, up to that
/// element's end tag. `f` may read a child's text or children, or leave it: whatever it leaves
/// unread of a child is skipped. Text between children goes to `text` when given.
pub(crate) fn each_child(
    doc: &mut XmlDoc,
    mut text: Option<&mut Text>,
    mut f: impl FnMut(&mut XmlDoc, Name, Attrs, bool) -> Result<()>,
) -> Result<()> {
    let depth = doc.ctx.depth;
    loop {
        match next_item(doc, text.as_deref_mut())? {
            Item::Open { name, attrs, empty } => {
                let inside = doc.ctx.depth;
                f(doc, name, attrs, empty)?;
                if !empty && doc.ctx.depth >= inside {
                    skip_to(doc, inside)?;
                }
            }
            Item::Close if doc.ctx.depth < depth => return Ok(()),
            Item::Close => {}
            Item::Eof => return Ok(()),
        }
    }
}

/// Reads on until the element open at depth `depth` has closed.
fn skip_to(doc: &mut XmlDoc, depth: usize) -> Result<()> {
    while doc.ctx.depth >= depth {
        if let Event::Eof = doc.event()? {
            break;
        }
    }
    Ok(())
}

/// The text of the element just opened (`None` for an empty element), trimmed of the white
/// space that formats put around CDATA.
pub(crate) fn trimmed_text(doc: &mut XmlDoc, empty: bool) -> Result<Option<String>> {
    if empty {
        return Ok(None);
    }
    Ok(read_text(doc)?.and_then(cli::trim_owned))
}

/// `message` or `stack-trace` style children of a failure-like element, by name, trimmed.
pub(crate) fn child_texts(doc: &mut XmlDoc, names: &[&str]) -> Result<Vec<Option<String>>> {
    let mut out: Vec<Option<String>> = vec![None; names.len()];
    each_child(doc, None, |doc, name, _, empty| {
        if let Some(i) = names.iter().position(|n| *n == name) {
            let t = trimmed_text(doc, empty)?;
            match (&mut out[i], t) {
                (Some(s), Some(t)) => {
                    s.push('\n');
                    s.push_str(&t);
                }
                (slot, t) if slot.is_none() => *slot = t,
                _ => {}
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// The `message` and `stack-trace` children of a failure element.
pub(crate) fn message_and_trace(doc: &mut XmlDoc) -> Result<(Option<String>, Option<String>)> {
    let mut t = child_texts(doc, &["message", "stack-trace"])?;
    let trace = t.pop().flatten();
    Ok((t.pop().flatten(), trace))
}

/// Keeps an element no field is for in `extra`: its text under its name, its attributes as
/// `name@attribute`.
pub(crate) fn keep_unknown(
    doc: &mut XmlDoc,
    extra: &mut std::collections::BTreeMap<Cow<'static, str>, String>,
    name: Name,
    attrs: Attrs,
    empty: bool,
) -> Result<()> {
    let t = trimmed_text(doc, empty)?;
    for (k, v) in attrs {
        extra.insert(format!("{name}@{k}").into(), v);
    }
    if let Some(t) = t {
        let slot = extra.entry(name).or_default();
        if !slot.is_empty() {
            slot.push('\n');
        }
        slot.push_str(&t);
    }
    Ok(())
}

/// Passes over the rest of the element `name` whose start tag was just read, without parsing
/// it: the input is searched for `</name` directly. For large sections whose content is not
/// wanted (the results in a first reading of a TRX file). The end tag is then read as usual.
pub(crate) fn skip_raw(doc: &mut XmlDoc, name: &str) -> Result<()> {
    use std::io::BufRead;
    let pattern = format!("</{name}");
    let finder = memchr::memmem::Finder::new(pattern.as_bytes());
    let keep = pattern.len() - 1;
    let read_error =
        |e: std::io::Error| Error::Data(format!("cannot read: {}", cli::io_reason(&e)));
    // quick-xml's own stream, so that its idea of the position stays right. A reader thread
    // has read ahead: there the element is skipped event by event.
    let Src::Here(reader) = &mut doc.reader else {
        return skip(doc);
    };
    let mut stream = reader.stream();
    loop {
        let buf = stream.fill_buf().map_err(read_error)?;
        if let Some(i) = finder.find(buf) {
            stream.consume(i);
            break;
        }
        // The input hands out at least `keep` + 1 bytes but at its end: a match cut by a
        // chunk's end is seen whole next time.
        if buf.len() <= keep {
            let n = buf.len();
            stream.consume(n);
            if n == 0 {
                break;
            }
            continue;
        }
        let n = buf.len() - keep;
        stream.consume(n);
    }
    drop(stream);
    skip(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_hands_room_back_and_stays_bounded() {
        let mut pool = Pool::default();
        let long = String::with_capacity(4096);
        let ptr = long.as_ptr();
        pool.give(long);
        pool.give(String::with_capacity(POOL_STRING_BYTES + 1));
        pool.give(String::new());
        // The long string comes back for a long text, emptied.
        let again = pool.string(POOL_LONG);
        assert_eq!((again.as_ptr(), again.len()), (ptr, 0));
        // A short copy takes a short string first, and is a copy.
        pool.give(String::with_capacity(8));
        pool.give(again);
        let c = pool.copy("name");
        assert_eq!((c.as_str(), c.capacity()), ("name", 8));
        // Nothing beyond the bound is kept: the too large and the empty were not.
        for _ in 0..100 {
            pool.give(String::with_capacity(300));
            pool.give(String::with_capacity(30));
        }
        assert_eq!(pool.long.len(), POOL_STRINGS);
        assert_eq!(pool.short.len(), POOL_STRINGS);
        assert!(pool.long.iter().all(|s| s.capacity() <= POOL_STRING_BYTES));
        // Attribute lists come back empty, their values kept as room.
        let mut a = pool.attrs();
        a.push((Cow::Borrowed("name"), pool.copy("x")));
        let before = pool.short.len();
        pool.give_attrs(a);
        assert_eq!(pool.short.len(), before.max(POOL_STRINGS));
        assert!(pool.attrs().is_empty());
    }
}
