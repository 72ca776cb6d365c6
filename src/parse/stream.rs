//! Reading an XML report on two threads. A reader thread runs the input filter and quick-xml's
//! tokeniser and hands the events on in batches; the calling thread turns them back into
//! quick-xml events for the format parsers, which build and write the result lines. The two
//! halves of the work are about the same size, so on two free cores a large report is read in
//! 0.5 to 0.7 times the time one thread takes.
//!
//! The events come out exactly as from a reader on the calling thread: the same events, the same
//! errors with the same positions, the same warnings in the same order. For positions, the
//! reader thread hands on, with each batch, the filter's chunks of filtered bytes read so far
//! (shared, not copied; see [`super::input::Relay`]), so that the calling thread can tell the
//! line and column of any recent offset itself. Memory stays bounded: batches are small (64 KiB
//! of text), four at most wait, and their buffers go back to the reader thread to be used again.
//!
//! One part of the work goes to whichever thread has time for it: splitting start tags into
//! attributes. The reader thread splits them while batches wait for the calling thread (which
//! then is the slower half), and leaves them to the calling thread while it waits for batches.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use quick_xml::events::{
    BytesCData, BytesDecl, BytesEnd, BytesPI, BytesRef, BytesStart, BytesText, Event,
};
use quick_xml::Reader;

use super::input::Decoded;
use super::input::{Chunk, History, Relay};
use super::tokens::{malformed, split_spans, Source, Span};
use crate::cli;

/// quick-xml's reader over the input filter, which can hand its work to a reader thread.
pub(crate) type XmlReader = Reader<Decoded<Source, Outbox>>;

/// A batch is handed on when its text reaches this size...
const BATCH_TEXT: usize = 64 * 1024;
/// ...or it holds this many events.
const BATCH_EVENTS: usize = 2048;
/// Batches waiting for the calling thread at most (and two more wait to be used again).
const QUEUE: usize = 4;
/// The reader thread splits attributes while at least this many batches wait.
const SPLIT_WHEN_WAITING: usize = 2;

/// What an event was.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Start,
    Empty,
    End,
    Text,
    CData,
    Comment,
    Decl,
    Pi,
    DocType,
    GeneralRef,
    Eof,
    /// A malformed document: the text is the whole message, position included.
    Error,
}

/// One event: its kind, where it started in the filtered stream, and its text in the batch.
#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Kind,
    start: u64,
    from: u32,
    to: u32,
    /// The name's length, for start tags.
    name_len: u32,
    /// A start tag's attributes in the batch's spans (`SPANS_UNKNOWN`: not split here).
    spans_from: u32,
    spans_to: u32,
}

/// A start tag whose attributes the reader thread did not split (it had no time, or the tag is
/// malformed): the calling thread splits them itself, or reports the error.
const SPANS_UNKNOWN: u32 = u32::MAX;

/// Events handed on at once, with the filtered bytes they came from and the warnings about them.
#[derive(Default)]
pub(crate) struct Batch {
    text: String,
    toks: Vec<Tok>,
    spans: Vec<Span>,
    /// The filtered bytes read up to the batch's end, for positions: the filter's chunks,
    /// shared.
    views: Vec<Chunk>,
    warnings: Vec<String>,
    /// Characters replaced by the filter so far.
    illegal: u64,
}

/// The reader thread's end of the hand-over.
pub(crate) struct Outbox {
    batch: Batch,
    tx: SyncSender<Batch>,
    back: Receiver<Batch>,
    /// True once the calling thread has gone: the reader thread stops.
    closed: bool,
    /// Batches sent and not yet taken.
    waiting: Arc<AtomicUsize>,
    /// Whether to split attributes (batches were waiting at the last hand-over).
    split: bool,
}

impl Relay for Outbox {
    fn relay(&mut self, views: Vec<Chunk>, warnings: Vec<String>, illegal: u64, force: bool) {
        self.add(views, warnings, illegal);
        self.send(force);
    }
}

impl Outbox {
    /// Adds filtered bytes, warnings and the running count of replaced characters.
    fn add(&mut self, views: Vec<Chunk>, warnings: Vec<String>, illegal: u64) {
        self.batch.views.extend(views);
        self.batch.warnings.extend(warnings);
        self.batch.illegal = illegal;
    }

    /// Hands the batch on if it holds events (or `force`).
    fn send(&mut self, force: bool) {
        if self.closed || (self.batch.toks.is_empty() && !force) {
            return;
        }
        let next = match self.back.try_recv() {
            Ok(mut b) => {
                b.text.clear();
                b.toks.clear();
                b.spans.clear();
                b.views.clear();
                b.warnings.clear();
                b
            }
            Err(_) => Batch {
                text: String::with_capacity(BATCH_TEXT + 4096),
                toks: Vec::with_capacity(BATCH_EVENTS),
                ..Batch::default()
            },
        };
        let full = std::mem::replace(&mut self.batch, next);
        let waiting = self.waiting.fetch_add(1, Ordering::Relaxed) + 1;
        if self.tx.send(full).is_err() {
            self.closed = true;
        }
        self.split = waiting >= SPLIT_WHEN_WAITING;
    }

    fn push(&mut self, kind: Kind, start: u64, text: &str, name_len: usize) {
        let from = self.batch.text.len() as u32;
        self.batch.text.push_str(text);
        let (spans_from, spans_to) = match kind {
            Kind::Start | Kind::Empty if self.split => self.split_attributes(text, name_len),
            Kind::Start | Kind::Empty => (SPANS_UNKNOWN, SPANS_UNKNOWN),
            _ => (0, 0),
        };
        self.batch.toks.push(Tok {
            kind,
            start,
            from,
            to: self.batch.text.len() as u32,
            name_len: name_len as u32,
            spans_from,
            spans_to,
        });
    }

    /// Finds the attributes of a start tag, for the calling thread to take without searching:
    /// `name="value"` pairs (either quote, white space around `=`) as quick-xml reads them. A
    /// tag holding anything else (a value without quotes, a name without a value, a missing
    /// quote) is left to the calling thread, which reads it with quick-xml and reports it.
    fn split_attributes(&mut self, tag: &str, name_len: usize) -> (u32, u32) {
        let from = self.batch.spans.len();
        match split_spans(tag.as_bytes(), name_len, &mut self.batch.spans) {
            Some(()) => (from as u32, self.batch.spans.len() as u32),
            None => {
                self.batch.spans.truncate(from);
                (SPANS_UNKNOWN, SPANS_UNKNOWN)
            }
        }
    }

    fn is_full(&self) -> bool {
        self.batch.text.len() >= BATCH_TEXT || self.batch.toks.len() >= BATCH_EVENTS
    }
}

/// The calling thread's end: events in order, and the positions of recent offsets.
pub(crate) struct Stream {
    rx: Receiver<Batch>,
    back: SyncSender<Batch>,
    /// Batches sent and not yet taken (shared with the reader thread's [`Outbox`]).
    waiting: Arc<AtomicUsize>,
    toks: Vec<Tok>,
    spans: Vec<Span>,
    /// The attributes of the last event, if it is a start tag whose attributes were split.
    last_spans: (u32, u32),
    next: usize,
    history: History,
    illegal: u64,
    name: String,
    /// The end of input, once reached.
    eof: Option<u64>,
    /// Why there are no more events, when the reader thread could not run.
    failure: Option<String>,
}

/// Moves the reading of `reader` to a thread of its own, from the current position on.
/// `may_wait`: reading the input may wait (a pipe or a terminal), so what is ready is handed on
/// before each read; a file is handed on in full batches only.
pub(crate) fn spawn(
    mut reader: XmlReader,
    name: &str,
    history_cap: usize,
    may_wait: bool,
) -> Stream {
    let (tx, rx) = sync_channel(QUEUE);
    let (back_tx, back) = sync_channel(2);
    let d = reader.get_mut();
    let illegal = d.illegal();
    // The batches reach ahead of the event being read; the filter's own history reaches back
    // from where it has read to: a little more here covers as much.
    let mut s = Stream::new(rx, back_tx, name, history_cap + 2 * BATCH_TEXT);
    let outbox = Outbox {
        batch: Batch {
            illegal,
            ..Batch::default()
        },
        tx,
        back,
        closed: false,
        waiting: Arc::clone(&s.waiting),
        split: true,
    };
    let seen = d.relay_to(outbox, may_wait);
    s.illegal = illegal;
    for c in seen {
        s.history.remember(c);
    }
    // The thread is not joined: when the calling thread stops early (a bad file), the reader
    // thread finds the channel closed at its next hand-over and ends by itself.
    let spawned = std::thread::Builder::new()
        .name("reader".into())
        .spawn(move || read_events(reader));
    if let Err(e) = spawned {
        s.failure = Some(format!(
            "{}: cannot read: no thread to read with: {e}",
            s.name
        ));
    }
    s
}

/// The reader thread: events from quick-xml into batches, until the end or an error.
fn read_events(mut reader: XmlReader) {
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        let start = reader.buffer_position();
        let read = reader.read_event_into(&mut buf);
        let (kind, name_len) = match &read {
            Ok(ev) => match ev {
                Event::Start(e) => (Kind::Start, e.name().0.len()),
                Event::Empty(e) => (Kind::Empty, e.name().0.len()),
                Event::End(_) => (Kind::End, 0),
                Event::Text(_) => (Kind::Text, 0),
                Event::CData(_) => (Kind::CData, 0),
                Event::Comment(_) => (Kind::Comment, 0),
                Event::Decl(_) => (Kind::Decl, 0),
                Event::PI(_) => (Kind::Pi, 0),
                Event::DocType(_) => (Kind::DocType, 0),
                Event::GeneralRef(_) => (Kind::GeneralRef, 0),
                Event::Eof => (Kind::Eof, 0),
            },
            Err(_) => (Kind::Error, 0),
        };
        let message;
        let text: &str = match &read {
            Ok(ev) => ev,
            Err(e) => {
                message = malformed(&reader, e);
                &message
            }
        };
        let d = reader.get_mut();
        let done = matches!(kind, Kind::Eof | Kind::Error);
        let Some(out) = d.relay_mut() else {
            return;
        };
        out.push(kind, start, text, name_len);
        if done || out.is_full() {
            d.hand_on(done);
        }
        if done || d.relay_mut().is_none_or(|o| o.closed) {
            return;
        }
    }
}

impl Stream {
    /// A stream that gives nothing but `msg`: what stands in for one that could not be made.
    pub(crate) fn failed(name: &str, msg: String) -> Stream {
        let (_, rx) = sync_channel(0);
        let (back, _) = sync_channel(0);
        let mut s = Stream::new(rx, back, name, 0);
        s.failure = Some(msg);
        s
    }

    fn new(rx: Receiver<Batch>, back: SyncSender<Batch>, name: &str, history_cap: usize) -> Stream {
        Stream {
            rx,
            back,
            waiting: Arc::new(AtomicUsize::new(0)),
            toks: Vec::new(),
            spans: Vec::new(),
            last_spans: (SPANS_UNKNOWN, SPANS_UNKNOWN),
            next: 0,
            history: History::new(history_cap),
            illegal: 0,
            name: name.to_string(),
            eof: None,
            failure: None,
        }
    }

    /// The next event, with its start offset in `start`. Its text lives in `text`, into which
    /// each new batch's text is moved. An error is the whole message.
    pub(crate) fn next_event<'b>(
        &mut self,
        text: &'b mut String,
        start: &mut u64,
    ) -> std::result::Result<Event<'b>, String> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        if let Some(end) = self.eof {
            *start = end;
            return Ok(Event::Eof);
        }
        while self.next == self.toks.len() {
            let Ok(mut b) = self.rx.recv() else {
                return Err(format!(
                    "{}: cannot read: the reader thread stopped",
                    self.name
                ));
            };
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            for w in b.warnings.drain(..) {
                cli::warn(format_args!("{w}"));
            }
            for c in b.views.drain(..) {
                self.history.remember(c);
            }
            self.illegal = b.illegal;
            std::mem::swap(text, &mut b.text);
            std::mem::swap(&mut self.toks, &mut b.toks);
            std::mem::swap(&mut self.spans, &mut b.spans);
            self.next = 0;
            // The spent buffers go back to be filled again (or are freed, if none are needed).
            let _ = self.back.try_send(b);
        }
        let tok = self.toks[self.next];
        self.next += 1;
        *start = tok.start;
        self.last_spans = (tok.spans_from, tok.spans_to);
        let text: &'b String = text;
        let t = &text[tok.from as usize..tok.to as usize];
        Ok(match tok.kind {
            Kind::Start => Event::Start(BytesStart::from_content(t, tok.name_len as usize)),
            Kind::Empty => Event::Empty(BytesStart::from_content(t, tok.name_len as usize)),
            Kind::End => Event::End(BytesEnd::new(t)),
            Kind::Text => Event::Text(BytesText::from_escaped(t)),
            Kind::CData => Event::CData(BytesCData::new(t)),
            Kind::Comment => Event::Comment(BytesText::from_escaped(t)),
            Kind::Decl => Event::Decl(BytesDecl::from_start(BytesStart::from_content(t, 3))),
            Kind::Pi => Event::PI(BytesPI::new(t)),
            Kind::DocType => Event::DocType(BytesText::from_escaped(t)),
            Kind::GeneralRef => Event::GeneralRef(BytesRef::new(t)),
            Kind::Eof => {
                self.eof = Some(tok.start);
                Event::Eof
            }
            Kind::Error => return Err(t.to_string()),
        })
    }

    /// `NAME:LINE:COL` of a recent offset (`NAME:byte N` when it is too far back).
    pub(crate) fn position(&self, offset: u64) -> String {
        self.history.position(None, &self.name, offset)
    }

    /// The attributes of the start tag just returned, as found by the reader thread; `None`
    /// when they were not split (a malformed tag) or the last event is no start tag.
    pub(crate) fn attribute_spans(&self) -> Option<&[Span]> {
        let (from, to) = self.last_spans;
        self.spans.get(from as usize..to as usize)
    }

    /// Characters the filter replaced so far.
    pub(crate) fn illegal(&self) -> u64 {
        self.illegal
    }
}
