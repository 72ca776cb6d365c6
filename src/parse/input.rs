//! The filter between a report file and its parser: decodes any encoding to UTF-8, replaces
//! characters XML forbids, caps huge text before anything buffers it whole, and can tell the
//! line and column of any recent position.
//!
//! quick-xml hands back a whole text node (or tag) in one buffer, so a 2 GB `system-out` would be
//! held in memory whole. This filter runs a small XML lexer over the byte stream and drops the
//! bytes of any text run, CDATA section, comment or attribute value beyond the cap, leaving a
//! visible marker, so the parser never sees more than the cap at once. The lexer jumps from one
//! markup byte to the next with `memchr`, so clean input passes at memory speed.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, UTF_8};
use memchr::{memchr, memchr3, memchr_iter, memrchr};

use crate::cli;

/// How much raw input is read at once.
const CHUNK: usize = 64 * 1024;
/// An entity reference longer than this is not one: the cut may fall inside it.
const MAX_ENTITY: usize = 40;
/// The replacement character, in UTF-8.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();
/// `fill_buf` hands out at least this much, but at the end of input.
const MIN_AVAILABLE: usize = 64;
/// Filtered output kept for position lookups beyond the current chunk, at least.
const HISTORY: usize = 512 * 1024;

/// The marker left where text was cut.
pub(crate) fn truncation_marker(omitted: u64) -> String {
    format!("…[truncated: {omitted} bytes omitted]")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lex {
    /// Character data.
    Text,
    /// Character data past the cap: dropped until `<`.
    SkipText,
    /// Just after `<`.
    Lt,
    /// Just after `<!`.
    Bang,
    /// Just after `<!-`.
    BangDash,
    /// Matching `[CDATA[` after `<!`; `tail` counts matched bytes.
    CDataOpen,
    /// Inside `<![CDATA[ ]]>`.
    CData,
    /// Inside `<!-- -->`.
    Comment,
    /// Inside `<!DOCTYPE ...>` or another `<!...>`; `depth` counts `[`.
    Decl,
    /// Inside `<? ?>`.
    Pi,
    /// Inside a start or end tag, outside quotes.
    Tag,
    /// Inside a quoted attribute value.
    Attr,
}

/// The XML lexer's state, carried across chunks.
struct Lexer {
    state: Lex,
    /// Bytes kept of the current text run, CDATA section, comment or attribute value.
    run: usize,
    /// Bytes dropped from it.
    dropped: u64,
    /// Trailing terminator bytes seen (`]` in CDATA, `-` in comments, `?` in instructions),
    /// or the matched length of `[CDATA[`.
    tail: usize,
    /// Nesting of `[` in a declaration.
    depth: usize,
    /// The quote that opened the current attribute value or declaration literal (0: none).
    quote: u8,
    /// Bytes since an unclosed `&` at the cap, if any.
    entity: Option<usize>,
}

/// The bytes of a chunk: the filter's own while it fills them, shared once another thread
/// needs them for positions (then they are never written again).
#[derive(Clone)]
pub(crate) enum Data {
    Own(Vec<u8>),
    Shared(Arc<Vec<u8>>),
}

impl Data {
    #[inline]
    fn as_slice(&self) -> &[u8] {
        match self {
            Data::Own(v) => v,
            Data::Shared(a) => a,
        }
    }

    /// The bytes to write to: a chunk is only written while it is being filled, before
    /// anything shares it (a shared one would be copied first).
    #[inline]
    fn own(&mut self) -> &mut Vec<u8> {
        if let Data::Shared(a) = self {
            *self = Data::Own(Vec::clone(a));
        }
        match self {
            Data::Own(v) => v,
            Data::Shared(_) => unreachable!("made own above"),
        }
    }

    /// The bytes, shared (moved behind an `Arc` the first time, not copied).
    fn share(&mut self) -> Arc<Vec<u8>> {
        if let Data::Own(v) = self {
            *self = Data::Shared(Arc::new(std::mem::take(v)));
        }
        match self {
            Data::Shared(a) => Arc::clone(a),
            Data::Own(_) => unreachable!("shared above"),
        }
    }

    /// The buffer back for filling again, if nothing else holds it.
    fn reclaim(self) -> Vec<u8> {
        match self {
            Data::Own(v) => v,
            Data::Shared(a) => Arc::try_unwrap(a).unwrap_or_default(),
        }
    }
}

/// A stretch of filtered output kept for position lookups.
#[derive(Clone)]
pub(crate) struct Chunk {
    /// Offset of its first byte in the filtered stream.
    pub(crate) base: u64,
    /// Lines ended before it (in the original text, dropped ones included).
    pub(crate) lines: u64,
    /// The filtered bytes (of which the first `end` belong to the chunk).
    data: Data,
    /// Where the chunk ends in `data`: bytes after it were moved to the next chunk, or are
    /// not yet read by the parser (a view of the chunk being read).
    end: usize,
    /// `(offset, lines)`: lines dropped by a cut just before that offset.
    pub(crate) cuts: Vec<(u64, u64)>,
}

impl Chunk {
    fn new(base: u64, lines: u64, data: Vec<u8>) -> Chunk {
        Chunk {
            base,
            lines,
            data: Data::Own(data),
            end: usize::MAX,
            cuts: Vec::new(),
        }
    }

    /// The chunk's bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        let d = self.data.as_slice();
        &d[..self.end.min(d.len())]
    }

    /// The lines ended before the chunk that follows this one.
    fn lines_after(&self) -> u64 {
        self.lines + count_lines(self.bytes()) + self.cuts.iter().map(|c| c.1).sum::<u64>()
    }

    /// The first `upto` bytes of the chunk, with its cuts, for another thread: the bytes are
    /// shared, not copied (none, when `upto` is 0, so that a chunk being filled stays its own).
    fn view(&mut self, upto: usize) -> Chunk {
        let data = if upto == 0 {
            Data::Own(Vec::new())
        } else {
            Data::Shared(self.data.share())
        };
        Chunk {
            base: self.base,
            lines: self.lines,
            data,
            end: upto,
            cuts: self.cuts.clone(),
        }
    }
}

/// Line ends in `s`: counted in bytes, 255 at a time, which the compiler vectorises; faster
/// than a search when lines are short.
fn count_lines(s: &[u8]) -> u64 {
    s.chunks(255)
        .map(|c| u64::from(c.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'))))
        .sum()
}

/// The line and column (1-based; the column counts bytes of UTF-8) of an offset in a filtered
/// stream of which `chunks` (in order) are the recent part, or `None` when it is too far back.
pub(crate) fn line_col_in(chunks: &[&Chunk], offset: u64) -> Option<(u64, u64)> {
    let idx = chunks
        .iter()
        .rposition(|c| c.base <= offset && (offset - c.base) as usize <= c.bytes().len())?;
    let c = chunks[idx];
    let at = (offset - c.base) as usize;
    let before = &c.bytes()[..at];
    let mut line = c.lines + 1 + count_lines(before);
    line += c
        .cuts
        .iter()
        .filter(|(o, _)| *o <= offset)
        .map(|(_, n)| n)
        .sum::<u64>();
    // The column: bytes since the last line end, looking back into earlier chunks.
    let mut col = match memrchr(b'\n', before) {
        Some(p) => (at - p) as u64,
        None => {
            let mut col = at as u64 + 1;
            for prev in chunks[..idx].iter().rev() {
                let data = prev.bytes();
                match memrchr(b'\n', data) {
                    Some(p) => {
                        col += (data.len() - p - 1) as u64;
                        break;
                    }
                    None => col += data.len() as u64,
                }
            }
            col
        }
    };
    if col == 0 {
        col = 1;
    }
    Some((line, col))
}

/// Reads raw report bytes and yields clean UTF-8 through [`BufRead`].
pub(crate) struct Decoded<R: Read> {
    inner: R,
    name: String,
    raw: Vec<u8>,
    raw_start: usize,
    raw_end: usize,
    raw_eof: bool,
    decoder: Decoder,
    encoding: &'static Encoding,
    /// Validate UTF-8 in place instead of running the decoder (until a bad byte is seen).
    utf8_fast: bool,
    mid: Vec<u8>,
    clean: Vec<u8>,
    /// The chunk being handed out (`data`), with its position bookkeeping.
    cur: Chunk,
    out_pos: usize,
    history: VecDeque<Chunk>,
    history_bytes: usize,
    history_cap: usize,
    finished: bool,
    lexer: Option<Lexer>,
    cap: usize,
    /// Illegal characters replaced so far.
    pub(crate) illegal: u64,
    /// Runs cut at the cap so far.
    pub(crate) truncated: u64,
    warned_utf: bool,
    /// Give no warnings (a second reading of the same input).
    pub(crate) quiet: bool,
    /// On a reader thread: chunks to hand on (shared, not copied) for positions.
    views: Option<Vec<Chunk>>,
    /// On a reader thread: where tokens, positions and warnings are handed on.
    pub(crate) outbox: Option<super::stream::Outbox>,
    /// Warnings kept to be handed on with the data they are about.
    pending: Vec<String>,
    /// On a reader thread: hand on what is ready before each read, which may wait (a pipe).
    pub(crate) hand_on_before_read: bool,
}

impl<R: Read> Decoded<R> {
    /// Wraps `inner`, sniffing its encoding from a BOM, UTF-16 without a BOM, or the XML
    /// declaration. `xml` turns on the lexer that caps text at `cap` bytes.
    pub(crate) fn new(mut inner: R, name: &str, xml: bool, cap: usize) -> io::Result<Decoded<R>> {
        let mut raw = vec![0u8; CHUNK];
        let mut raw_end = 0;
        let mut raw_eof = false;
        // Fill enough to see a BOM and the XML declaration.
        while raw_end < 1024 {
            let n = read_retry(&mut inner, &mut raw[raw_end..])?;
            if n == 0 {
                raw_eof = true;
                break;
            }
            raw_end += n;
        }
        let (encoding, skip) = sniff(&raw[..raw_end]);
        let cap = cap.max(16);
        Ok(Decoded {
            inner,
            name: name.to_string(),
            raw,
            raw_start: skip,
            raw_end,
            raw_eof,
            decoder: encoding.new_decoder_without_bom_handling(),
            encoding,
            utf8_fast: encoding == UTF_8,
            mid: Vec::new(),
            clean: Vec::new(),
            cur: Chunk::new(0, 0, Vec::with_capacity(CHUNK + 256)),
            out_pos: 0,
            history: VecDeque::new(),
            history_bytes: 0,
            history_cap: HISTORY + cap.min(8 << 20),
            finished: false,
            lexer: xml.then_some(Lexer {
                state: Lex::Text,
                run: 0,
                dropped: 0,
                tail: 0,
                depth: 0,
                quote: 0,
                entity: None,
            }),
            cap,
            illegal: 0,
            truncated: 0,
            warned_utf: false,
            quiet: false,
            views: None,
            outbox: None,
            pending: Vec::new(),
            hand_on_before_read: false,
        })
    }

    /// Gives a warning now, or, on a reader thread, with the next data handed on.
    fn warn(&mut self, msg: std::fmt::Arguments<'_>) {
        if self.outbox.is_some() {
            self.pending.push(msg.to_string());
        } else {
            cli::warn(msg);
        }
    }

    /// How many bytes of filtered output are kept for position lookups.
    pub(crate) fn history_cap(&self) -> usize {
        self.history_cap
    }

    /// True when the whole input has been read and filtered.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// Starts keeping, for another thread, the chunks read from here on (see
    /// [`Decoded::take_views`]), and returns the history up to here, for positions before it.
    pub(crate) fn start_views(&mut self) -> Vec<Chunk> {
        let mut seen: Vec<Chunk> = self.history.iter_mut().map(|c| c.view(c.end)).collect();
        seen.push(self.cur.view(self.out_pos));
        self.views = Some(Vec::new());
        seen
    }

    /// The chunks read since the last call (or since [`Decoded::start_views`]): those done
    /// with, and the part of the current one read so far. Later views of a chunk replace
    /// earlier ones.
    pub(crate) fn take_views(&mut self) -> Vec<Chunk> {
        let Some(v) = self.views.as_mut() else {
            return Vec::new();
        };
        let mut out = std::mem::take(v);
        out.push(self.cur.view(self.out_pos));
        out
    }

    /// On a reader thread: hands on the tokens read so far with their positions and warnings.
    pub(crate) fn hand_on(&mut self, force: bool) {
        if self.outbox.is_none() {
            return;
        }
        let views = self.take_views();
        let warnings = std::mem::take(&mut self.pending);
        let illegal = self.illegal;
        if let Some(o) = self.outbox.as_mut() {
            o.add(views, warnings, illegal);
            o.send(force);
        }
    }

    /// The line and column (1-based; the column counts bytes of UTF-8) of an offset in the
    /// filtered stream, or `None` when it is too far back to be remembered.
    pub(crate) fn line_col(&self, offset: u64) -> Option<(u64, u64)> {
        let chunks: Vec<&Chunk> = self.history.iter().chain([&self.cur]).collect();
        line_col_in(&chunks, offset)
    }

    /// `NAME:LINE:COL` for an offset in the filtered stream (`NAME:byte N` when unknown).
    pub(crate) fn position(&self, offset: u64) -> String {
        match self.line_col(offset) {
            Some((l, c)) => format!("{}:{}:{}", self.name, l, c),
            None => format!("{}:byte {}", self.name, offset),
        }
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
        let mut data = Vec::new();
        while self.history_bytes + len > self.history_cap && self.history.len() > 1 {
            let old = self.history.pop_front().expect("history");
            self.history_bytes -= old.bytes().len();
            data = old.data.reclaim();
        }
        data.clear();
        data.reserve(CHUNK + 256);
        let next = Chunk::new(self.cur.base + len as u64, lines, data);
        let mut prev = std::mem::replace(&mut self.cur, next);
        prev.end = len;
        if let Some(v) = self.views.as_mut() {
            v.push(prev.view(len));
        }
        self.history_bytes += len;
        self.history.push_back(prev);
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
            if self.raw_start == self.raw_end && !self.raw_eof {
                // The read may wait (a pipe): hand on what is ready first.
                if self.hand_on_before_read {
                    self.hand_on(false);
                }
                self.raw_start = 0;
                self.raw_end = read_retry(&mut self.inner, &mut self.raw)?;
                self.raw_eof = self.raw_end == 0;
            }
            if self.utf8_fast {
                self.refill_utf8()?;
            } else {
                self.refill_decoder();
            }
        }
        Ok(true)
    }

    /// UTF-8 input: validated in place and filtered from the read buffer, with no copy.
    fn refill_utf8(&mut self) -> io::Result<()> {
        let slice = &self.raw[self.raw_start..self.raw_end];
        let valid = Encoding::utf8_valid_up_to(slice);
        let rest = slice.len() - valid;
        let partial = rest > 0 && rest < 4 && !self.raw_eof && is_utf8_prefix(&slice[valid..]);
        if rest > 0 && !partial {
            // A byte that is not UTF-8: from here on, the decoder replaces what is invalid.
            self.utf8_fast = false;
            self.refill_decoder();
            return Ok(());
        }
        let raw = std::mem::take(&mut self.raw);
        let (a, b) = (self.raw_start, self.raw_start + valid);
        self.filter(&raw[a..b]);
        self.raw = raw;
        self.raw_start = b;
        if partial {
            // Move the start of a character to the front and read the rest behind it.
            self.raw.copy_within(b..self.raw_end, 0);
            self.raw_end -= b;
            self.raw_start = 0;
            if self.hand_on_before_read {
                self.hand_on(false);
            }
            let n = read_retry(&mut self.inner, &mut self.raw[self.raw_end..])?;
            self.raw_end += n;
            self.raw_eof = n == 0;
        } else if self.raw_eof && self.raw_start == self.raw_end {
            self.finished = true;
        }
        Ok(())
    }

    /// Any encoding: through encoding_rs into `mid`.
    fn refill_decoder(&mut self) {
        let last = self.raw_eof;
        let mut mid = std::mem::take(&mut self.mid);
        mid.clear();
        mid.resize(CHUNK * 3 + 16, 0);
        let (result, read, written, replaced) =
            self.decoder
                .decode_to_utf8(&self.raw[self.raw_start..self.raw_end], &mut mid, last);
        self.raw_start += read;
        mid.truncate(written);
        if replaced && !self.warned_utf && !self.quiet {
            self.warned_utf = true;
            // Where the first replacement character landed: the first bad byte.
            let at = memchr::memmem::find(&mid, "\u{FFFD}".as_bytes()).unwrap_or(0);
            let (line, col) = self.line_in(&mid, at);
            let m = format!(
                "{}:{line}:{col}: bytes that are not valid {} replaced with U+FFFD",
                self.name,
                self.encoding.name()
            );
            self.warn(format_args!("{m}"));
        }
        if last && result == CoderResult::InputEmpty {
            self.finished = true;
        }
        self.filter(&mid);
        self.mid = mid;
    }

    /// Line and column of byte `i` of `inp`, the input about to be appended to the output.
    fn line_in(&self, inp: &[u8], i: usize) -> (u64, u64) {
        let end = self.cur.base + self.cur.bytes().len() as u64;
        let (l, c) = self.line_col(end).unwrap_or((0, 0));
        match memrchr(b'\n', &inp[..i]) {
            Some(p) => (
                l + memchr_iter(b'\n', &inp[..i]).count() as u64,
                (i - p) as u64,
            ),
            None => (l, c + i as u64),
        }
    }

    /// Filters `inp` into the output: illegal characters replaced, then the lexer's cap.
    fn filter(&mut self, inp: &[u8]) {
        let clean;
        let inp = if is_clean(inp) {
            inp
        } else {
            clean = self.sanitize(inp);
            &clean[..]
        };
        if self.lexer.is_some() {
            self.lex(inp);
        } else {
            self.cur.data.own().extend_from_slice(inp);
        }
    }

    /// A copy of `inp` with C0 controls (but tab, LF, CR), U+FFFE and U+FFFF replaced.
    fn sanitize(&mut self, inp: &[u8]) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.clean);
        v.clear();
        v.reserve(inp.len() + 16);
        let mut i = 0;
        let mut start = 0;
        while i < inp.len() {
            let b = inp[i];
            let len = if b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' {
                1
            } else if b == 0xEF
                && inp.get(i + 1) == Some(&0xBF)
                && inp.get(i + 2).is_some_and(|c| c & 0xFE == 0xBE)
            {
                3
            } else {
                i += 1;
                continue;
            };
            v.extend_from_slice(&inp[start..i]);
            v.extend_from_slice(REPLACEMENT);
            self.illegal += 1;
            if self.illegal == 1 && !self.quiet {
                let c = if len == 1 {
                    b as u32
                } else {
                    0xFFFE + u32::from(inp[i + 2] & 1)
                };
                let (line, col) = self.line_in(inp, i);
                let m = format!(
                    "{}:{line}:{col}: character U+{c:04X} is not allowed in XML; replaced with U+FFFD",
                    self.name
                );
                self.warn(format_args!("{m}"));
            }
            i += len;
            start = i;
        }
        v.extend_from_slice(&inp[start..]);
        v
    }

    /// Records that `s` was dropped: its bytes counted, its line ends remembered.
    fn drop_bytes(&mut self, s: &[u8]) {
        let l = self.lexer.as_mut().expect("lexer");
        l.dropped += s.len() as u64;
        let lines = memchr_iter(b'\n', s).count() as u64;
        if lines > 0 {
            let at = self.cur.base + self.cur.bytes().len() as u64;
            match self.cur.cuts.last_mut() {
                Some(c) if c.0 == at => c.1 += lines,
                _ => self.cur.cuts.push((at, lines)),
            }
        }
    }

    fn push_marker(&mut self) {
        let l = self.lexer.as_mut().expect("lexer");
        let m = truncation_marker(l.dropped);
        l.dropped = 0;
        self.truncated += 1;
        self.cur.data.own().extend_from_slice(m.as_bytes());
    }

    /// Runs the lexer over clean UTF-8, copying to the output all but what the cap drops.
    fn lex(&mut self, inp: &[u8]) {
        let cap = self.cap;
        let n = inp.len();
        let mut i = 0;
        while i < n {
            let l = self.lexer.as_mut().expect("lexer");
            let out = self.cur.data.own();
            match l.state {
                Lex::Text if l.run < cap => {
                    let end = n.min(i + (cap - l.run));
                    match memchr(b'<', &inp[i..end]) {
                        Some(k) => {
                            out.extend_from_slice(&inp[i..=i + k]);
                            l.state = Lex::Lt;
                            i += k + 1;
                        }
                        None => {
                            out.extend_from_slice(&inp[i..end]);
                            l.run += end - i;
                            i = end;
                            if l.run >= cap {
                                l.entity = open_entity(out, l.run);
                            }
                        }
                    }
                }
                Lex::Text => {
                    // At the cap: finish a reference or a character, then drop until `<`.
                    let b = inp[i];
                    if b == b'<' {
                        out.push(b);
                        l.state = Lex::Lt;
                        i += 1;
                    } else if keep_at_cap(l, b) {
                        out.push(b);
                        i += 1;
                    } else {
                        l.state = Lex::SkipText;
                        l.dropped = 0;
                    }
                }
                Lex::SkipText => match memchr(b'<', &inp[i..]) {
                    Some(k) => {
                        self.drop_bytes(&inp[i..i + k]);
                        self.push_marker();
                        self.cur.data.own().push(b'<');
                        self.lexer.as_mut().expect("lexer").state = Lex::Lt;
                        i += k + 1;
                    }
                    None => {
                        self.drop_bytes(&inp[i..]);
                        i = n;
                    }
                },
                Lex::Lt => {
                    let b = inp[i];
                    out.push(b);
                    i += 1;
                    l.run = 0;
                    l.tail = 0;
                    l.dropped = 0;
                    l.state = match b {
                        b'!' => Lex::Bang,
                        b'?' => Lex::Pi,
                        _ => Lex::Tag,
                    };
                    if b == b'>' {
                        l.state = Lex::Text;
                    }
                }
                Lex::Bang => {
                    let b = inp[i];
                    out.push(b);
                    i += 1;
                    match b {
                        b'-' => l.state = Lex::BangDash,
                        b'[' => {
                            l.tail = 1;
                            l.state = Lex::CDataOpen;
                        }
                        _ => {
                            l.state = Lex::Decl;
                            l.depth = 0;
                            l.quote = 0;
                            decl_state(l, b);
                        }
                    }
                }
                Lex::BangDash => {
                    let b = inp[i];
                    out.push(b);
                    i += 1;
                    if b == b'-' {
                        l.state = Lex::Comment;
                        l.tail = 0;
                    } else {
                        l.state = Lex::Decl;
                        l.depth = 0;
                        l.quote = 0;
                        decl_state(l, b);
                    }
                }
                Lex::CDataOpen => {
                    const OPEN: &[u8] = b"[CDATA[";
                    let b = inp[i];
                    out.push(b);
                    i += 1;
                    if l.tail < OPEN.len() && b == OPEN[l.tail] {
                        l.tail += 1;
                        if l.tail == OPEN.len() {
                            l.state = Lex::CData;
                            l.tail = 0;
                        }
                    } else {
                        l.state = Lex::Decl;
                        l.depth = 0;
                        l.quote = 0;
                        decl_state(l, b);
                    }
                }
                Lex::CData | Lex::Comment | Lex::Pi => {
                    let (c, need, term): (u8, usize, &[u8]) = match l.state {
                        Lex::CData => (b']', 2, b"]]>"),
                        Lex::Comment => (b'-', 2, b"-->"),
                        _ => (b'?', 1, b"?>"),
                    };
                    let keeping = l.run < cap;
                    let end = if keeping { n.min(i + (cap - l.run)) } else { n };
                    let s = &inp[i..end];
                    match find_term(s, c, need, l.tail) {
                        Some(k) if keeping => {
                            out.extend_from_slice(&s[..=k]);
                            i += k + 1;
                            l.state = Lex::Text;
                            l.run = 0;
                            l.tail = 0;
                        }
                        Some(k) => {
                            let state = l.state;
                            self.drop_bytes(&s[..=k]);
                            let l = self.lexer.as_mut().expect("lexer");
                            // The terminator itself was counted as dropped.
                            l.dropped = l.dropped.saturating_sub(term.len() as u64);
                            if state == Lex::CData && l.dropped > 0 {
                                self.push_marker();
                            }
                            self.cur.data.own().extend_from_slice(term);
                            let l = self.lexer.as_mut().expect("lexer");
                            l.dropped = 0;
                            l.state = Lex::Text;
                            l.run = 0;
                            l.tail = 0;
                            i += k + 1;
                        }
                        None if keeping => {
                            l.tail = trailing(s, c, l.tail, need);
                            out.extend_from_slice(s);
                            l.run += s.len();
                            i = end;
                            if l.run >= cap {
                                // Finish a character before dropping.
                                let extra = inp[i..]
                                    .iter()
                                    .take(3)
                                    .take_while(|&&b| is_continuation(b))
                                    .count();
                                out.extend_from_slice(&inp[i..i + extra]);
                                i += extra;
                                l.dropped = 0;
                            }
                        }
                        None => {
                            l.tail = trailing(s, c, l.tail, need);
                            self.drop_bytes(s);
                            i = end;
                        }
                    }
                }
                Lex::Decl => {
                    // A declaration is never data (entities are not expanded): past the cap,
                    // only the bytes that decide where it ends are kept.
                    let b = inp[i];
                    i += 1;
                    if l.run < cap || matches!(b, b'"' | b'\'' | b'[' | b']' | b'>') {
                        out.push(b);
                        l.run += 1;
                    }
                    decl_state(l, b);
                }
                Lex::Tag => match memchr3(b'"', b'\'', b'>', &inp[i..]) {
                    Some(k) => {
                        let b = inp[i + k];
                        out.extend_from_slice(&inp[i..=i + k]);
                        i += k + 1;
                        if b == b'>' {
                            l.state = Lex::Text;
                            l.run = 0;
                        } else {
                            l.state = Lex::Attr;
                            l.quote = b;
                            l.run = 0;
                            l.dropped = 0;
                            l.entity = None;
                        }
                    }
                    None => {
                        out.extend_from_slice(&inp[i..]);
                        i = n;
                    }
                },
                Lex::Attr if l.run < cap => {
                    let end = n.min(i + (cap - l.run));
                    match memchr(l.quote, &inp[i..end]) {
                        Some(k) => {
                            out.extend_from_slice(&inp[i..=i + k]);
                            l.state = Lex::Tag;
                            i += k + 1;
                        }
                        None => {
                            out.extend_from_slice(&inp[i..end]);
                            l.run += end - i;
                            i = end;
                            if l.run >= cap {
                                l.entity = open_entity(out, l.run);
                                l.dropped = 0;
                            }
                        }
                    }
                }
                Lex::Attr => {
                    let b = inp[i];
                    if b == l.quote {
                        if l.dropped > 0 {
                            self.push_marker();
                        }
                        self.cur.data.own().push(b);
                        let l = self.lexer.as_mut().expect("lexer");
                        l.state = Lex::Tag;
                        l.run = 0;
                        i += 1;
                    } else if l.dropped == 0 && keep_at_cap(l, b) {
                        out.push(b);
                        i += 1;
                    } else {
                        let q = l.quote;
                        let k = memchr(q, &inp[i..]).unwrap_or(n - i);
                        self.drop_bytes(&inp[i..i + k]);
                        i += k;
                    }
                }
            }
        }
    }
}

/// At the cap: whether byte `b` must still be kept to finish a reference or a character.
fn keep_at_cap(l: &mut Lexer, b: u8) -> bool {
    if let Some(e) = l.entity {
        if b == b';' || e + 1 >= MAX_ENTITY {
            l.entity = None;
            return b == b';';
        }
        l.entity = Some(e + 1);
        return true;
    }
    is_continuation(b)
}

/// Bytes since an `&` with no `;` after it in the last bytes of the current run, if any.
fn open_entity(out: &[u8], run: usize) -> Option<usize> {
    let look = &out[out.len() - run.min(MAX_ENTITY).min(out.len())..];
    let amp = memrchr(b'&', look)?;
    if memchr(b';', &look[amp..]).is_some() {
        return None;
    }
    Some(look.len() - amp)
}

/// The index of the `>` that ends a section: preceded by `need` bytes `c` (counting `tail`
/// such bytes just before `s`).
fn find_term(s: &[u8], c: u8, need: usize, tail: usize) -> Option<usize> {
    memchr_iter(b'>', s).find(|&k| {
        let have = s[..k]
            .iter()
            .rev()
            .take(need)
            .take_while(|&&b| b == c)
            .count();
        have >= need || (have == k && have + tail >= need)
    })
}

/// How many bytes `c` end everything seen so far, capped at `need`.
fn trailing(s: &[u8], c: u8, tail: usize, need: usize) -> usize {
    let t = s.iter().rev().take(need).take_while(|&&b| b == c).count();
    if t == s.len() {
        (tail + t).min(need)
    } else {
        t
    }
}

fn decl_state(l: &mut Lexer, b: u8) {
    if l.quote != 0 {
        if b == l.quote {
            l.quote = 0;
        }
        return;
    }
    match b {
        b'"' | b'\'' => l.quote = b,
        b'[' => l.depth += 1,
        b']' => l.depth = l.depth.saturating_sub(1),
        b'>' if l.depth == 0 => {
            l.state = Lex::Text;
            l.run = 0;
        }
        _ => {}
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Decoded<R> {
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

impl<R: Read> Decoded<R> {
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

fn is_continuation(b: u8) -> bool {
    (0x80..0xC0).contains(&b)
}

/// Whether `s` (1 to 3 bytes) can begin a multi-byte UTF-8 character.
fn is_utf8_prefix(s: &[u8]) -> bool {
    let need = match s[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return false,
    };
    s.len() < need && s[1..].iter().all(|&b| is_continuation(b))
}

/// True when `b` has no C0 control but tab, LF and CR, and no 0xEF byte (which may begin
/// U+FFFE or U+FFFF). Written without early exits so that it vectorises.
fn is_clean(b: &[u8]) -> bool {
    b.chunks(256).all(|c| {
        c.iter().fold(0u8, |acc, &x| {
            let ctl = (x < 0x20) & (x != b'\t') & (x != b'\n') & (x != b'\r');
            acc | u8::from(ctl) | u8::from(x == 0xEF)
        }) == 0
    })
}

fn read_retry<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// The encoding of a document from its first bytes, and how many BOM bytes to skip.
pub(crate) fn sniff(head: &[u8]) -> (&'static Encoding, usize) {
    if let Some((enc, len)) = Encoding::for_bom(head) {
        return (enc, len);
    }
    // UTF-16 without a BOM: `<` with zero bytes beside it.
    if head.len() >= 4 {
        if head[0] == b'<' && head[1] == 0 && head[3] == 0 {
            return (UTF_16LE, 0);
        }
        if head[0] == 0 && head[1] == b'<' && head[2] == 0 {
            return (UTF_16BE, 0);
        }
    }
    // An XML declaration's encoding, for the ASCII-compatible encodings.
    if head.starts_with(b"<?xml") {
        let end = memchr(b'>', head).unwrap_or(head.len());
        let decl = &head[..end];
        if let Some(p) = decl.windows(8).position(|w| w == b"encoding") {
            let rest = &decl[p + 8..];
            if let Some(q) = rest.iter().position(|&b| b == b'"' || b == b'\'') {
                let (quote, rest) = (rest[q], &rest[q + 1..]);
                if let Some(e) = memchr(quote, rest) {
                    if let Some(enc) = Encoding::for_label(&rest[..e]) {
                        // A declaration of UTF-16 on bytes that are plainly ASCII is wrong.
                        if enc != UTF_16LE && enc != UTF_16BE {
                            return (enc, 0);
                        }
                    }
                }
            }
        }
    }
    (UTF_8, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], cap: usize) -> String {
        let mut d = Decoded::new(input, "t", true, cap).unwrap();
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
        let mut d = Decoded::new(&b"<a>\n  <b/>\n</a>"[..], "f.xml", true, 1024).unwrap();
        let mut s = String::new();
        d.read_to_string(&mut s).unwrap();
        assert_eq!(d.position(6), "f.xml:2:3");
    }
}
