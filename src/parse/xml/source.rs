//! Where a document's events come from: quick-xml over the input filter on this thread, or a
//! reader thread; with the depth tracked and errors given a position.

use quick_xml::events::Event;

use super::ctx::Ctx;
use crate::error::{Error, Result};
use crate::parse::stream::{Stream, XmlReader};
use crate::parse::tokens::malformed;

/// Deeper nesting than this is refused: no real report comes near it, and it bounds memory.
pub(crate) const MAX_DEPTH: usize = 1024;

/// The source of a document's events: quick-xml on this thread, or a reader thread.
pub(crate) enum Src {
    /// quick-xml over the filter, on this thread.
    Here(Box<XmlReader>),
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
    pub(super) fn illegal(&self) -> u64 {
        match self {
            Src::Here(r) => r.get_ref().illegal(),
            Src::Thread(s) => s.illegal(),
        }
    }
}

/// Where an event's text is kept.
pub(crate) struct Buf {
    /// For quick-xml on this thread: cleared before each event.
    pub(super) bytes: Vec<u8>,
    /// For a reader thread: the text of the current batch.
    pub(super) text: String,
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
