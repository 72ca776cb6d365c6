//! Machinery every XML report parser shares: opening a document through the [`Decoded`] filter,
//! reading events with positions, gathering text across Text, CDATA and reference events,
//! reading attributes, and the warnings that go with them.

use std::borrow::Cow;
use std::io::Read;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::input::{truncation_marker, Decoded};
use crate::cli;
use crate::error::{Error, Result};

/// Deeper nesting than this is refused: no real report comes near it, and it bounds memory.
pub const MAX_DEPTH: usize = 1024;

/// An XML document being read.
pub struct XmlDoc<R: Read> {
    /// The quick-xml reader over the filtered input.
    pub reader: Reader<Decoded<R>>,
    /// The one event buffer, cleared before each event.
    pub buf: Vec<u8>,
    /// Everything else: the name, the cap, depth and warning state.
    pub ctx: Ctx,
}

/// The state of a document that is not the reader or its buffer, so that it can be used while
/// an event borrows the buffer.
pub struct Ctx {
    /// The report's name in messages.
    pub name: String,
    /// The cap on one text field, in bytes.
    pub cap: usize,
    /// Open elements.
    pub depth: usize,
    /// Where the last event started, in the filtered stream.
    pub start: u64,
    warned_refs: bool,
    illegal_refs: u64,
}

impl<R: Read> XmlDoc<R> {
    /// Reads an XML document from `raw`, named `name` in messages, with text capped at `cap`.
    pub fn new(raw: R, name: &str, cap: usize) -> Result<XmlDoc<R>> {
        let decoded = Decoded::new(raw, name, true, cap)
            .map_err(|e| Error::Usage(format!("cannot read '{name}': {}", cli::io_reason(&e))))?;
        let mut reader = Reader::from_reader(decoded);
        let c = reader.config_mut();
        c.allow_dangling_amp = true;
        c.check_end_names = true;
        c.expand_empty_elements = false;
        Ok(XmlDoc {
            reader,
            buf: Vec::with_capacity(4096),
            ctx: Ctx {
                name: name.to_string(),
                cap,
                depth: 0,
                start: 0,
                warned_refs: false,
                illegal_refs: 0,
            },
        })
    }

    /// The next event, with the depth tracked and errors given a position.
    pub fn event(&mut self) -> Result<Event<'_>> {
        self.buf.clear();
        next_event(&mut self.reader, &mut self.buf, &mut self.ctx)
    }

    /// `NAME:LINE:COL` of the start of the last event.
    pub fn here(&self) -> String {
        self.reader.get_ref().position(self.ctx.start)
    }

    /// Reads the rest of the document after its root element closed, warning about anything
    /// but comments and white space there, and gives the end-of-file warnings.
    pub fn finish(&mut self) -> Result<()> {
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
    pub fn warn_totals(&self) {
        let d = self.reader.get_ref();
        let illegal = d.illegal + self.ctx.illegal_refs;
        if illegal > 1 {
            cli::warn(format_args!(
                "{}: {illegal} characters not allowed in XML were replaced with U+FFFD",
                self.ctx.name
            ));
        }
    }
}

/// Reads one event into `buf`: the free-function form of [`XmlDoc::event`], for parsers that
/// keep the reader, the buffer and the context apart.
pub fn next_event<'b, R: Read>(
    reader: &mut Reader<Decoded<R>>,
    buf: &'b mut Vec<u8>,
    ctx: &mut Ctx,
) -> Result<Event<'b>> {
    ctx.start = reader.buffer_position();
    match reader.read_event_into(buf) {
        Ok(ev) => {
            match &ev {
                Event::Start(_) => {
                    ctx.depth += 1;
                    if ctx.depth > MAX_DEPTH {
                        return Err(Error::Data(format!(
                            "{}: elements nested more than {MAX_DEPTH} deep",
                            reader.get_ref().position(ctx.start)
                        )));
                    }
                }
                Event::End(_) => ctx.depth = ctx.depth.saturating_sub(1),
                Event::Eof if ctx.depth > 0 => {
                    return Err(Error::Data(format!(
                        "{}: unexpected end of file: {} element{} not closed (truncated file?)",
                        reader.get_ref().position(reader.buffer_position()),
                        ctx.depth,
                        if ctx.depth == 1 { "" } else { "s" }
                    )));
                }
                _ => {}
            }
            Ok(ev)
        }
        Err(e) => {
            let pos = reader.error_position();
            Err(Error::Data(format!(
                "{}: malformed XML: {}",
                reader.get_ref().position(pos),
                describe(&e)
            )))
        }
    }
}

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
    pub fn push_ref<R: Read>(&mut self, name: &str, out: &mut Text, reader: &Reader<Decoded<R>>) {
        match self.resolve(name, reader) {
            Resolved::Str(s) => out.push(s),
            Resolved::Char(c) => out.push(c.encode_utf8(&mut [0u8; 4])),
            Resolved::Undefined(n) => out.push_ref_raw(n),
        }
    }

    fn resolve<'a, R: Read>(&mut self, name: &'a str, reader: &Reader<Decoded<R>>) -> Resolved<'a> {
        if let Some(s) = resolve_predefined_entity(name) {
            return Resolved::Str(s);
        }
        if name.starts_with('#') {
            return match BytesRef::new(name).resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => Resolved::Char(c),
                _ => {
                    self.illegal_ref(name, reader.get_ref().position(self.start));
                    Resolved::Char('\u{FFFD}')
                }
            };
        }
        self.undefined_ref(name, reader.get_ref().position(self.start));
        Resolved::Undefined(name)
    }

    fn illegal_ref(&mut self, name: &str, at: String) {
        self.illegal_refs += 1;
        if self.illegal_refs == 1 {
            cli::warn(format_args!(
                "{at}: character reference &{name}; is not allowed in XML; replaced with U+FFFD"
            ));
        }
    }

    fn undefined_ref(&mut self, name: &str, at: String) {
        if !self.warned_refs {
            self.warned_refs = true;
            cli::warn(format_args!(
                "{at}: undefined entity &{name}; kept as written (DTDs are never read)"
            ));
        }
    }

    /// The attributes of a start tag, unescaped and normalised, in document order.
    /// Duplicate attributes are kept (the last one wins for lookups by [`attr`]).
    pub fn attrs<R: Read>(
        &mut self,
        e: &BytesStart<'_>,
        reader: &Reader<Decoded<R>>,
    ) -> Result<Attrs> {
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
                    reader.get_ref().position(self.start + 1 + at as u64),
                    e.name().0
                ))
            })?;
            let value = self.unescape_attr(&a.value, reader);
            out.push((intern(a.key.0), value));
        }
        Ok(out)
    }

    /// Attribute-value normalisation: references resolved, literal white space made a space.
    fn unescape_attr<R: Read>(&mut self, raw: &str, reader: &Reader<Decoded<R>>) -> String {
        let b = raw.as_bytes();
        if memchr::memchr3(b'&', b'\n', b'\r', b).is_none() && memchr::memchr(b'\t', b).is_none() {
            return raw.to_string();
        }
        let mut s = String::with_capacity(raw.len());
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
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A text field being gathered, capped at a number of bytes with a visible marker.
pub struct Text {
    s: String,
    cap: usize,
    omitted: u64,
}

/// Room left past the cap for the filter's own marker, so a run it already cut passes whole.
const MARKER_SLACK: usize = 64;

impl Text {
    /// An empty field capped at `cap` bytes.
    pub fn new(cap: usize) -> Text {
        Text {
            s: String::new(),
            cap: cap + MARKER_SLACK,
            omitted: 0,
        }
    }

    /// Appends `t`, cutting at the cap on a character boundary.
    pub fn push(&mut self, t: &str) {
        if self.omitted > 0 {
            self.omitted += t.len() as u64;
            return;
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
    pub fn push_ref_raw(&mut self, name: &str) {
        self.push("&");
        self.push(name);
        self.push(";");
    }

    /// True when nothing was gathered.
    pub fn is_empty(&self) -> bool {
        self.s.is_empty()
    }

    /// The gathered text with the marker if it was cut; `None` when empty.
    pub fn finish(mut self) -> Option<String> {
        if self.omitted > 0 {
            self.s.push_str(&truncation_marker(self.omitted));
        }
        if self.s.is_empty() {
            None
        } else {
            Some(self.s)
        }
    }
}

/// Adds a text-like event (Text, CDATA, reference) to `out`; returns false for other events.
pub fn gather<R: Read>(
    ev: &Event<'_>,
    out: &mut Text,
    ctx: &mut Ctx,
    reader: &Reader<Decoded<R>>,
) -> bool {
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
pub fn read_text<R: Read>(doc: &mut XmlDoc<R>) -> Result<Option<String>> {
    let mut text = Text::new(doc.ctx.cap);
    let depth = doc.ctx.depth;
    loop {
        doc.buf.clear();
        let ev = next_event(&mut doc.reader, &mut doc.buf, &mut doc.ctx)?;
        if let Event::End(_) = ev {
            if doc.ctx.depth < depth {
                break;
            }
        }
        gather(&ev, &mut text, &mut doc.ctx, &doc.reader);
    }
    Ok(text.finish())
}

/// Skips the element whose start tag was just read, up to its end tag.
pub fn skip<R: Read>(doc: &mut XmlDoc<R>) -> Result<()> {
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
pub type Attrs = Vec<(Cow<'static, str>, String)>;

/// A name from the formats' common attribute names, or an owned copy.
fn intern(name: &str) -> Cow<'static, str> {
    const COMMON: &[&str] = &[
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
    ];
    match COMMON.iter().find(|c| **c == name) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(name.to_string()),
    }
}

/// The value of attribute `key`, if present (the last one, if duplicated).
pub fn attr<'a>(attrs: &'a [(Cow<'static, str>, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// What [`next_item`] found.
pub enum Item {
    /// An element start (`empty` for `<x/>`), with its attributes read.
    Open {
        /// The element's name.
        name: String,
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
pub fn next_item<R: Read>(doc: &mut XmlDoc<R>, mut text: Option<&mut Text>) -> Result<Item> {
    let XmlDoc { reader, buf, ctx } = doc;
    loop {
        buf.clear();
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
            name: e.name().0.to_string(),
            attrs,
            empty,
        });
    }
}
