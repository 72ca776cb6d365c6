//! The filter between a report file and its parser, in four jobs, each in its own module:
//! decoding any encoding to UTF-8 ([`decode`]), replacing the characters XML forbids
//! ([`clean`]), capping huge text before anything buffers it whole ([`cap`]), and keeping the
//! position history that tells the line and column of any recent offset ([`history`]). This
//! module strings them together behind [`BufRead`], for quick-xml and the CSV reader.
//!
//! On a reader thread the filter hands what it has made to a [`Relay`], a trait defined here
//! and implemented by the thread, so that nothing in the input layer knows the thread.

mod cap;
mod clean;
mod csv_cap;
mod decode;
mod history;

use std::io::{self, BufRead, Read};

use memchr::{memchr_iter, memrchr};

use crate::cli;
pub(crate) use cap::truncation_marker;
use cap::Capper;
use clean::Cleaner;
use csv_cap::CsvCapper;
pub(crate) use csv_cap::MAX_FIELDS;
pub(crate) use decode::sniff;
use decode::{After, ToUtf8, CHUNK};
pub(crate) use history::{Chunk, History};

/// `fill_buf` hands out at least this much, but at the end of input.
const MIN_AVAILABLE: usize = 64;
/// Filtered output kept for position lookups beyond the current chunk, at least.
const HISTORY: usize = 512 * 1024;

/// Where the filter hands on what it has made when another thread reads its output: the
/// chunks of filtered bytes (views, shared, not copied, for positions), the warnings about
/// them, and the running count of replaced characters.
pub(crate) trait Relay {
    /// Takes what was made since the last call; `force` hands it on even when there is
    /// nothing else to hand on with it.
    fn relay(&mut self, views: Vec<Chunk>, warnings: Vec<String>, illegal: u64, force: bool);
}

/// The relay of a filter that never has one (the CSV reader's): it cannot be made.
pub(crate) enum NoRelay {}

impl Relay for NoRelay {
    fn relay(&mut self, _: Vec<Chunk>, _: Vec<String>, _: u64, _: bool) {
        match *self {}
    }
}

/// A relay installed, and what waits to go to it.
struct Relaying<T> {
    to: T,
    /// Views of the chunks rotated out since the last hand-over.
    views: Vec<Chunk>,
    /// Warnings kept to be handed on with the data they are about.
    pending: Vec<String>,
    /// Hand on what is ready before each read, which may wait (a pipe).
    before_read: bool,
}

/// The syntax of a report, which decides how long text is capped.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Syntax {
    Xml,
    /// CSV with this delimiter.
    Csv(u8),
}

/// The lexer that caps long text, for the report's syntax.
enum Cap {
    Xml(Capper),
    Csv(CsvCapper),
}

/// Reads raw report bytes and yields clean UTF-8 through [`BufRead`].
/// `T`, the relay it may be given, is a type parameter (not a trait object) so that the reader
/// thread reaches its own relay, once per event, at no cost.
pub(crate) struct Decoded<R: Read, T: Relay = NoRelay> {
    inner: R,
    name: String,
    utf8: ToUtf8,
    clean: Cleaner,
    /// The lexer that caps text runs (XML) or fields (CSV).
    cap: Cap,
    /// The chunk being handed out, with its position bookkeeping.
    cur: Chunk,
    out_pos: usize,
    history: History,
    finished: bool,
    /// Give no warnings (a second reading of the same input).
    quiet: bool,
    relay: Option<Relaying<T>>,
}

impl<R: Read, T: Relay> Decoded<R, T> {
    /// Wraps `inner`, sniffing its encoding from a BOM, UTF-16 without a BOM, or the XML
    /// declaration; the lexer for `syntax` caps each text run or field at `cap` bytes.
    pub(crate) fn new(
        mut inner: R,
        name: &str,
        syntax: Syntax,
        cap: usize,
    ) -> io::Result<Decoded<R, T>> {
        let utf8 = ToUtf8::new(&mut inner)?;
        let cap = cap.max(16);
        Ok(Decoded {
            inner,
            name: name.to_string(),
            utf8,
            clean: Cleaner::default(),
            cap: match syntax {
                Syntax::Xml => Cap::Xml(Capper::new(cap)),
                Syntax::Csv(d) => Cap::Csv(CsvCapper::new(cap, d)),
            },
            cur: Chunk::new(0, 0, Vec::with_capacity(CHUNK + 256)),
            out_pos: 0,
            history: History::new(HISTORY + cap.min(8 << 20)),
            finished: false,
            quiet: false,
            relay: None,
        })
    }

    /// How many bytes of filtered output are kept for position lookups.
    pub(crate) fn history_cap(&self) -> usize {
        self.history.cap()
    }

    /// True when the whole input has been read and filtered.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// For CSV: the line of the first quoted field that spans lines, and, at the end of
    /// input, the line of a quoted field never closed.
    pub(crate) fn csv_quotes(&self) -> (Option<u64>, Option<u64>) {
        match &self.cap {
            Cap::Csv(c) => (c.first_multiline, c.unclosed()),
            Cap::Xml(_) => (None, None),
        }
    }

    /// For CSV: the first line with more than [`MAX_FIELDS`] fields.
    pub(crate) fn csv_too_wide(&self) -> Option<u64> {
        match &self.cap {
            Cap::Csv(c) => c.too_wide,
            Cap::Xml(_) => None,
        }
    }

    /// Characters replaced so far.
    pub(crate) fn illegal(&self) -> u64 {
        self.clean.illegal
    }

    /// Gives no warnings from now on (a second reading of the same input).
    pub(crate) fn set_quiet(&mut self) {
        self.quiet = true;
    }

    /// From here on, hands what the filter makes to `to` (see [`Relay`]), also before each
    /// read when `before_read` (the input is not a file, and a read may wait). Returns views of
    /// the history up to here, for positions before it.
    pub(crate) fn relay_to(&mut self, to: T, before_read: bool) -> Vec<Chunk> {
        let mut seen = self.history.views();
        seen.push(self.cur.view(self.out_pos));
        self.relay = Some(Relaying {
            to,
            views: Vec::new(),
            pending: Vec::new(),
            before_read,
        });
        seen
    }

    /// The relay installed by [`Decoded::relay_to`], if any.
    pub(crate) fn relay_mut(&mut self) -> Option<&mut T> {
        self.relay.as_mut().map(|r| &mut r.to)
    }

    /// Hands on to the relay, if there is one, the chunks read since the last hand-over (those
    /// done with, and the part of the current one read so far) and the warnings given since.
    pub(crate) fn hand_on(&mut self, force: bool) {
        let Some(r) = self.relay.as_mut() else {
            return;
        };
        let mut views = std::mem::take(&mut r.views);
        views.push(self.cur.view(self.out_pos));
        let warnings = std::mem::take(&mut r.pending);
        r.to.relay(views, warnings, self.clean.illegal, force);
    }

    /// `NAME:LINE:COL` for an offset in the filtered stream (`NAME:byte N` when unknown).
    pub(crate) fn position(&self, offset: u64) -> String {
        self.history.position(Some(&self.cur), &self.name, offset)
    }

    /// Moves the handed-out chunk into the history and starts an empty one.
    fn rotate(&mut self) {
        let len = self.cur.bytes().len();
        if len == 0 {
            // Nothing was handed out: the chunk starts again (its bytes, if any, are kept by
            // the caller), and is nobody else's yet.
            self.cur.data.own().clear();
            self.cur.end = usize::MAX;
            return;
        }
        let lines = self.cur.lines_after();
        let mut data = self.history.make_room(len);
        data.clear();
        data.reserve(CHUNK + 256);
        let next = Chunk::new(self.cur.base + len as u64, lines, data);
        let mut prev = std::mem::replace(&mut self.cur, next);
        prev.end = len;
        if let Some(r) = self.relay.as_mut() {
            r.views.push(prev.view(len));
        }
        self.history.push(prev);
        self.out_pos = 0;
    }

    /// Decodes and filters the next chunk. Returns false at the end of input.
    fn refill(&mut self) -> io::Result<bool> {
        self.refill_keeping(&[])
    }

    /// Like `refill`, with `keep` (bytes not yet handed out, cut from the old chunk by the
    /// caller) carried to the front of the new chunk.
    fn refill_keeping(&mut self, keep: &[u8]) -> io::Result<bool> {
        self.rotate();
        self.cur.data.own().extend_from_slice(keep);
        while self.cur.bytes().len() <= keep.len() {
            if self.finished {
                return Ok(!self.cur.bytes().is_empty());
            }
            if self.utf8.needs_read() {
                self.before_read();
                self.utf8.read(&mut self.inner)?;
            }
            match self.filter_next() {
                After::More => {}
                After::End => {
                    if let Cap::Csv(c) = &mut self.cap {
                        c.finish(self.cur.data.own());
                    }
                    self.finished = true;
                }
                After::Cut => {
                    self.before_read();
                    self.utf8.read_more(&mut self.inner)?;
                }
            }
        }
        Ok(true)
    }

    /// On a reader thread reading a pipe: what is ready goes on before a read that may wait.
    fn before_read(&mut self) {
        if self.relay.as_ref().is_some_and(|r| r.before_read) {
            self.hand_on(false);
        }
    }

    /// Decodes what is buffered and filters it into the current chunk: cleaned, then capped.
    fn filter_next(&mut self) -> After {
        let Decoded {
            utf8,
            clean,
            cap,
            cur,
            history,
            relay,
            name,
            quiet,
            ..
        } = self;
        let encoding = utf8.encoding();
        utf8.decode(|text, replaced| {
            if let (Some(at), false) = (replaced, *quiet) {
                let (line, col) = line_in(history, cur, text, at);
                warn(
                    relay,
                    format!(
                        "{name}:{line}:{col}: bytes that are not valid {} replaced with U+FFFD",
                        encoding.name()
                    ),
                );
            }
            let (cleaned, first) = clean.clean(text);
            if let (Some((c, at)), false) = (first, *quiet) {
                let (line, col) = line_in(history, cur, text, at);
                warn(
                    relay,
                    format!(
                        "{name}:{line}:{col}: character U+{c:04X} is not allowed in {}; replaced with U+FFFD",
                        if matches!(cap, Cap::Xml(_)) { "XML" } else { "a result line's text" }
                    ),
                );
            }
            match cap {
                Cap::Xml(cap) => cap.lex(cleaned, cur),
                Cap::Csv(cap) => cap.lex(cleaned, cur.data.own()),
            }
        })
    }
}

/// Gives a warning now, or, on a reader thread, with the next data handed on.
fn warn<T>(relay: &mut Option<Relaying<T>>, msg: String) {
    match relay {
        Some(r) => r.pending.push(msg),
        None => cli::warn(format_args!("{msg}")),
    }
}

/// Line and column of byte `i` of `inp`, the text about to be appended to `cur`.
fn line_in(history: &History, cur: &Chunk, inp: &[u8], i: usize) -> (u64, u64) {
    let end = cur.base + cur.bytes().len() as u64;
    let (l, c) = history.line_col(Some(cur), end).unwrap_or((0, 0));
    let before = &inp[..i.min(inp.len())];
    match memrchr(b'\n', before) {
        Some(p) => (
            l + memchr_iter(b'\n', before).count() as u64,
            (before.len() - p) as u64,
        ),
        None => (l, c + before.len() as u64),
    }
}

impl<R: Read, T: Relay> Read for Decoded<R, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read, T: Relay> BufRead for Decoded<R, T> {
    // quick-xml calls these a few times per event: the common case is inlined there.
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let rest = self.cur.bytes().len() - self.out_pos;
        if rest < MIN_AVAILABLE && !(rest > 0 && self.finished) {
            self.fill_more()?;
        }
        Ok(&self.cur.bytes()[self.out_pos..])
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.out_pos = (self.out_pos + amt).min(self.cur.bytes().len());
    }
}

impl<R: Read, T: Relay> Decoded<R, T> {
    /// `fill_buf` when less than `MIN_AVAILABLE` bytes are left in the chunk: the next chunk,
    /// with what is left carried to its front (a reader looking for a short pattern always sees
    /// it whole), or nothing at the end of input.
    #[inline(never)]
    fn fill_more(&mut self) -> io::Result<()> {
        if self.out_pos == self.cur.bytes().len() {
            self.refill()?;
        } else {
            let tail = self.cur.bytes()[self.out_pos..].to_vec();
            self.cur.end = self.out_pos;
            self.refill_keeping(&tail)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], cap: usize) -> String {
        let mut d: Decoded<_> = Decoded::new(input, "t", Syntax::Xml, cap).unwrap();
        let mut s = String::new();
        d.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn passes_plain_xml_through() {
        let x = "<a x=\"1&amp;2\"><!-- c --><![CDATA[z]]>t&lt;é</a>";
        assert_eq!(run(x.as_bytes(), 1024), x);
    }

    #[test]
    fn caps_text_and_marks_it() {
        let body = "x".repeat(100);
        let s = run(format!("<a>{body}</a>").as_bytes(), 16);
        assert_eq!(
            s,
            format!("<a>{}{}</a>", "x".repeat(16), truncation_marker(84))
        );
    }

    #[test]
    fn caps_attribute_values_and_cdata() {
        let body = "y".repeat(50);
        let s = run(
            format!("<a m=\"{body}\"><![CDATA[{body}]]></a>").as_bytes(),
            16,
        );
        let m = truncation_marker(34);
        assert_eq!(
            s,
            format!(
                "<a m=\"{}{m}\"><![CDATA[{}{m}]]></a>",
                "y".repeat(16),
                "y".repeat(16)
            )
        );
    }

    #[test]
    fn does_not_cut_inside_an_entity_or_a_character() {
        let s = run("<a>xxxxxxxxxxxxxx&amp;éééé</a>".as_bytes(), 16);
        assert!(s.starts_with("<a>xxxxxxxxxxxxxx&amp;…"), "{s}");
        let s = run("<a>xxxxxxxxxxxxxxxéé</a>".as_bytes(), 16);
        assert!(s.starts_with("<a>xxxxxxxxxxxxxxxé…"), "{s}");
    }

    #[test]
    fn replaces_illegal_characters() {
        assert_eq!(
            run(b"<a>x\x00y\x1bz</a>", 1024),
            "<a>x\u{FFFD}y\u{FFFD}z</a>"
        );
        assert_eq!(run("<a>\u{FFFE}</a>".as_bytes(), 1024), "<a>\u{FFFD}</a>");
    }

    #[test]
    fn decodes_utf16_and_latin1() {
        let mut v = vec![0xFF, 0xFE];
        for u in "<a>é</a>".encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(run(&v, 1024), "<a>é</a>");
        let latin = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE9</a>";
        assert!(run(latin, 1024).ends_with("<a>é</a>"));
    }

    #[test]
    fn doctype_with_internal_subset_is_passed_whole() {
        let x = "<!DOCTYPE r [<!ENTITY a \"<b>\">]><r>&a;</r>";
        assert_eq!(run(x.as_bytes(), 1024), x);
    }

    #[test]
    fn positions_map_to_lines() {
        let mut d: Decoded<_> =
            Decoded::new(&b"<a>\n  <b/>\n</a>"[..], "f.xml", Syntax::Xml, 1024).unwrap();
        let mut s = String::new();
        d.read_to_string(&mut s).unwrap();
        assert_eq!(d.position(6), "f.xml:2:3");
    }
}
