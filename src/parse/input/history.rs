//! The position history: the filtered bytes read lately, in chunks, kept so that the line and
//! column of any recent offset can be told. Shared by both threads: the filter keeps its own,
//! and on a reader thread hands views of its chunks (the bytes shared, not copied) to the
//! calling thread, which keeps them in a history of its own.

use std::collections::VecDeque;
use std::sync::Arc;

use memchr::memrchr;

/// The bytes of a chunk: the filter's own while it fills them, shared once another thread
/// needs them for positions (then they are never written again).
#[derive(Clone)]
pub(super) enum Data {
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
    pub(super) fn own(&mut self) -> &mut Vec<u8> {
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
    pub(super) data: Data,
    /// Where the chunk ends in `data`: bytes after it were moved to the next chunk, or are
    /// not yet read by the parser (a view of the chunk being read).
    pub(super) end: usize,
    /// `(offset, lines)`: lines dropped by a cut just before that offset.
    pub(crate) cuts: Vec<(u64, u64)>,
}

impl Chunk {
    pub(super) fn new(base: u64, lines: u64, data: Vec<u8>) -> Chunk {
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
    pub(super) fn lines_after(&self) -> u64 {
        self.lines + count_lines(self.bytes()) + self.cuts.iter().map(|c| c.1).sum::<u64>()
    }

    /// The first `upto` bytes of the chunk, with its cuts, for another thread: the bytes are
    /// shared, not copied (none, when `upto` is 0, so that a chunk being filled stays its own).
    pub(super) fn view(&mut self, upto: usize) -> Chunk {
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

/// Chunks kept for positions, oldest first, up to a number of bytes.
pub(crate) struct History {
    chunks: VecDeque<Chunk>,
    bytes: usize,
    cap: usize,
}

impl History {
    /// An empty history that keeps about `cap` bytes (always at least one chunk).
    pub(crate) fn new(cap: usize) -> History {
        History {
            chunks: VecDeque::new(),
            bytes: 0,
            cap,
        }
    }

    /// How many bytes it keeps.
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// Makes room for a chunk of `len` bytes, dropping the oldest chunks beyond the cap but
    /// one; the buffer of the last one dropped comes back to be filled again.
    pub(super) fn make_room(&mut self, len: usize) -> Vec<u8> {
        let mut data = Vec::new();
        while self.bytes + len > self.cap && self.chunks.len() > 1 {
            if let Some(old) = self.chunks.pop_front() {
                self.bytes -= old.bytes().len();
                data = old.data.reclaim();
            }
        }
        data
    }

    /// Appends a chunk (after [`History::make_room`]).
    pub(super) fn push(&mut self, c: Chunk) {
        self.bytes += c.bytes().len();
        self.chunks.push_back(c);
    }

    /// Keeps a chunk handed over from another thread: a later view of the same chunk replaces
    /// the earlier one, and the oldest beyond the cap are dropped (all but the newest).
    pub(crate) fn remember(&mut self, c: Chunk) {
        if self.chunks.back().is_some_and(|last| last.base == c.base) {
            if let Some(old) = self.chunks.pop_back() {
                self.bytes -= old.bytes().len();
            }
        }
        self.push(c);
        while self.bytes > self.cap && self.chunks.len() > 1 {
            if let Some(old) = self.chunks.pop_front() {
                self.bytes -= old.bytes().len();
            }
        }
    }

    /// Views of every chunk, for another thread.
    pub(super) fn views(&mut self) -> Vec<Chunk> {
        self.chunks.iter_mut().map(|c| c.view(c.end)).collect()
    }

    /// The line and column of `offset` (see [`line_col_in`]), looking also in `current`, the
    /// chunk being filled, when given.
    pub(crate) fn line_col(&self, current: Option<&Chunk>, offset: u64) -> Option<(u64, u64)> {
        let chunks: Vec<&Chunk> = self.chunks.iter().chain(current).collect();
        line_col_in(&chunks, offset)
    }

    /// `NAME:LINE:COL` of `offset` (`NAME:byte N` when it is too far back).
    pub(crate) fn position(&self, current: Option<&Chunk>, name: &str, offset: u64) -> String {
        match self.line_col(current, offset) {
            Some((l, c)) => format!("{name}:{l}:{c}"),
            None => format!("{name}:byte {offset}"),
        }
    }
}
