//! Machinery every XML report parser shares, by job: where events come from ([`source`]), the
//! document's state ([`ctx`]), attributes and interning ([`attrs`]), references ([`refs`]),
//! text gathering ([`text`]), the buffer pool ([`pool`]); and here, the document walker that the
//! format parsers call: open a document, read on with a reader thread, children, texts, skips.

mod attrs;
mod ctx;
mod pool;
mod refs;
mod source;
mod text;

use std::borrow::Cow;
use std::io::Read;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::cli;
use crate::error::{Error, Result};
use crate::parse::input::{Decoded, Syntax};
use crate::parse::stream::{self, Stream};
use crate::parse::tokens::Source;
use attrs::intern_element;
pub(crate) use attrs::{attr, take_attr, Attrs, Name};
pub(crate) use ctx::Ctx;
use pool::POOL_LONG;
pub(crate) use source::{next_event, Buf, Src};
pub(crate) use text::{gather, Text};

/// An XML document being read.
pub(crate) struct XmlDoc {
    /// Where the events come from.
    pub(crate) reader: Src,
    /// The event buffer.
    pub(crate) buf: Buf,
    /// Everything else: the name, the cap, depth and warning state.
    pub(crate) ctx: Ctx,
}

/// The root element of an XML report, as read by detection.
pub(crate) struct Root {
    /// Its name.
    pub(crate) name: String,
    /// Its attributes.
    pub(crate) attrs: Attrs,
    /// True for `<root/>`.
    pub(crate) empty: bool,
}

impl XmlDoc {
    /// Reads an XML document from `raw`, named `name` in messages, with text capped at `cap`.
    pub(crate) fn new(raw: impl Read + Send + 'static, name: &str, cap: usize) -> Result<XmlDoc> {
        let raw: Source = Box::new(raw);
        let decoded = Decoded::new(raw, name, Syntax::Xml, cap)
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
            ctx: Ctx::new(name, cap),
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
                Src::Thread(Box::new(stream::spawn(*r, &name, cap, may_wait)))
            }
            other => other,
        };
    }

    /// Gives no warnings from now on: for a second reading of the same input.
    pub(crate) fn quiet(&mut self) {
        self.ctx.quiet = true;
        if let Src::Here(r) = &mut self.reader {
            r.get_mut().set_quiet();
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
