//! Capping long text before anything buffers it whole. quick-xml hands back a whole text node
//! (or tag) in one buffer, so a 2 GB `system-out` would be held in memory whole: a small XML
//! lexer runs over the byte stream and drops the bytes of any text run, CDATA section, comment
//! or attribute value beyond the cap, leaving a visible marker, so that the parser never sees
//! more than the cap at once. It jumps from one markup byte to the next with `memchr`, so clean
//! input passes at memory speed.

use memchr::{memchr, memchr3, memchr_iter, memrchr};

use super::decode::is_continuation;
use super::history::Chunk;

/// An entity reference longer than this is not one: the cut may fall inside it.
const MAX_ENTITY: usize = 40;

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

/// The lexer's state, carried across chunks.
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

/// The cap and the lexer that applies it.
pub(super) struct Capper {
    cap: usize,
    l: Lexer,
}

impl Capper {
    /// A lexer that keeps at most `cap` bytes of each text run, section or attribute value.
    pub(super) fn new(cap: usize) -> Capper {
        Capper {
            cap,
            l: Lexer {
                state: Lex::Text,
                run: 0,
                dropped: 0,
                tail: 0,
                depth: 0,
                quote: 0,
                entity: None,
            },
        }
    }

    /// Runs the lexer over clean UTF-8, appending to `out` all but what the cap drops. Each
    /// state's step takes what it can and returns where the next one starts.
    pub(super) fn lex(&mut self, inp: &[u8], out: &mut Chunk) {
        let mut i = 0;
        while i < inp.len() {
            i = match self.l.state {
                Lex::Text if self.l.run < self.cap => self.text(inp, i, out),
                Lex::Text => self.text_at_cap(inp, i, out),
                Lex::SkipText => self.skip_text(inp, i, out),
                Lex::Lt | Lex::Bang | Lex::BangDash | Lex::CDataOpen => self.markup(inp, i, out),
                Lex::CData | Lex::Comment | Lex::Pi => self.section(inp, i, out),
                Lex::Decl => self.decl(inp, i, out),
                Lex::Tag => self.tag(inp, i, out),
                Lex::Attr if self.l.run < self.cap => self.attr(inp, i, out),
                Lex::Attr => self.attr_at_cap(inp, i, out),
            };
        }
    }

    /// Character data under the cap: copied up to the next `<` or the cap.
    #[inline]
    fn text(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        let (l, out) = (&mut self.l, out.data.own());
        let end = inp.len().min(i + (self.cap - l.run));
        match memchr(b'<', &inp[i..end]) {
            Some(k) => {
                out.extend_from_slice(&inp[i..=i + k]);
                l.state = Lex::Lt;
                i + k + 1
            }
            None => {
                out.extend_from_slice(&inp[i..end]);
                l.run += end - i;
                if l.run >= self.cap {
                    l.entity = open_entity(out, l.run);
                }
                end
            }
        }
    }

    /// At the cap: a reference or a character is finished, then text is dropped until `<`.
    fn text_at_cap(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        let (l, out) = (&mut self.l, out.data.own());
        let b = inp[i];
        if b == b'<' {
            out.push(b);
            l.state = Lex::Lt;
            i + 1
        } else if keep_at_cap(l, b) {
            out.push(b);
            i + 1
        } else {
            l.state = Lex::SkipText;
            l.dropped = 0;
            i
        }
    }

    /// Text past the cap: dropped until `<`, where the marker goes.
    fn skip_text(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        match memchr(b'<', &inp[i..]) {
            Some(k) => {
                self.drop_bytes(&inp[i..i + k], out);
                self.push_marker(out);
                out.data.own().push(b'<');
                self.l.state = Lex::Lt;
                i + k + 1
            }
            None => {
                self.drop_bytes(&inp[i..], out);
                inp.len()
            }
        }
    }

    /// One byte after `<`, `<!`, `<!-` or inside `<![CDATA[`: which kind of markup this is.
    fn markup(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        const OPEN: &[u8] = b"[CDATA[";
        let (l, b) = (&mut self.l, inp[i]);
        out.data.own().push(b);
        let to_decl = |l: &mut Lexer| {
            l.state = Lex::Decl;
            l.depth = 0;
            l.quote = 0;
            decl_state(l, b);
        };
        match l.state {
            Lex::Lt => {
                l.run = 0;
                l.tail = 0;
                l.dropped = 0;
                l.state = match b {
                    b'!' => Lex::Bang,
                    b'?' => Lex::Pi,
                    b'>' => Lex::Text,
                    _ => Lex::Tag,
                };
            }
            Lex::Bang => match b {
                b'-' => l.state = Lex::BangDash,
                b'[' => {
                    l.tail = 1;
                    l.state = Lex::CDataOpen;
                }
                _ => to_decl(l),
            },
            Lex::BangDash if b == b'-' => {
                l.state = Lex::Comment;
                l.tail = 0;
            }
            Lex::CDataOpen if l.tail < OPEN.len() && b == OPEN[l.tail] => {
                l.tail += 1;
                if l.tail == OPEN.len() {
                    l.state = Lex::CData;
                    l.tail = 0;
                }
            }
            _ => to_decl(l),
        }
        i + 1
    }

    /// Inside a CDATA section, a comment or an instruction: up to its terminator, capped.
    fn section(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        let (c, need, term): (u8, usize, &[u8]) = match self.l.state {
            Lex::CData => (b']', 2, b"]]>"),
            Lex::Comment => (b'-', 2, b"-->"),
            _ => (b'?', 1, b"?>"),
        };
        let keeping = self.l.run < self.cap;
        let end = if keeping {
            inp.len().min(i + (self.cap - self.l.run))
        } else {
            inp.len()
        };
        let s = &inp[i..end];
        let found = find_term(s, c, need, self.l.tail);
        match found {
            Some(k) if keeping => {
                out.data.own().extend_from_slice(&s[..=k]);
                self.end_section();
                i + k + 1
            }
            Some(k) => {
                let state = self.l.state;
                self.drop_bytes(&s[..=k], out);
                // The terminator itself was counted as dropped.
                self.l.dropped = self.l.dropped.saturating_sub(term.len() as u64);
                if state == Lex::CData && self.l.dropped > 0 {
                    self.push_marker(out);
                }
                out.data.own().extend_from_slice(term);
                self.l.dropped = 0;
                self.end_section();
                i + k + 1
            }
            None if keeping => {
                let (l, out) = (&mut self.l, out.data.own());
                l.tail = trailing(s, c, l.tail, need);
                out.extend_from_slice(s);
                l.run += s.len();
                if l.run < self.cap {
                    return end;
                }
                // Finish a character before dropping.
                let extra = inp[end..]
                    .iter()
                    .take(3)
                    .take_while(|&&b| is_continuation(b))
                    .count();
                out.extend_from_slice(&inp[end..end + extra]);
                l.dropped = 0;
                end + extra
            }
            None => {
                self.l.tail = trailing(s, c, self.l.tail, need);
                self.drop_bytes(s, out);
                end
            }
        }
    }

    fn end_section(&mut self) {
        self.l.state = Lex::Text;
        self.l.run = 0;
        self.l.tail = 0;
    }

    /// A declaration is never data (entities are not expanded): past the cap, only the bytes
    /// that decide where it ends are kept.
    fn decl(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        let (l, b) = (&mut self.l, inp[i]);
        if l.run < self.cap || matches!(b, b'"' | b'\'' | b'[' | b']' | b'>') {
            out.data.own().push(b);
            l.run += 1;
        }
        decl_state(l, b);
        i + 1
    }

    /// Inside a tag, outside quotes: copied up to `>` or the quote that opens a value.
    #[inline]
    fn tag(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        let (l, out) = (&mut self.l, out.data.own());
        let Some(k) = memchr3(b'"', b'\'', b'>', &inp[i..]) else {
            out.extend_from_slice(&inp[i..]);
            return inp.len();
        };
        let b = inp[i + k];
        out.extend_from_slice(&inp[i..=i + k]);
        l.run = 0;
        if b == b'>' {
            l.state = Lex::Text;
        } else {
            l.state = Lex::Attr;
            l.quote = b;
            l.dropped = 0;
            l.entity = None;
        }
        i + k + 1
    }

    /// An attribute value under the cap: copied up to its closing quote or the cap.
    #[inline]
    fn attr(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        let (l, out) = (&mut self.l, out.data.own());
        let end = inp.len().min(i + (self.cap - l.run));
        match memchr(l.quote, &inp[i..end]) {
            Some(k) => {
                out.extend_from_slice(&inp[i..=i + k]);
                l.state = Lex::Tag;
                i + k + 1
            }
            None => {
                out.extend_from_slice(&inp[i..end]);
                l.run += end - i;
                if l.run >= self.cap {
                    l.entity = open_entity(out, l.run);
                    l.dropped = 0;
                }
                end
            }
        }
    }

    /// An attribute value at the cap: a reference or character is finished, the rest dropped
    /// up to the closing quote, before which the marker goes.
    fn attr_at_cap(&mut self, inp: &[u8], i: usize, out: &mut Chunk) -> usize {
        let b = inp[i];
        if b == self.l.quote {
            if self.l.dropped > 0 {
                self.push_marker(out);
            }
            out.data.own().push(b);
            self.l.state = Lex::Tag;
            self.l.run = 0;
            i + 1
        } else if self.l.dropped == 0 && keep_at_cap(&mut self.l, b) {
            out.data.own().push(b);
            i + 1
        } else {
            let k = memchr(self.l.quote, &inp[i..]).unwrap_or(inp.len() - i);
            self.drop_bytes(&inp[i..i + k], out);
            i + k
        }
    }

    /// Records that `s` was dropped: its bytes counted, its line ends remembered.
    fn drop_bytes(&mut self, s: &[u8], out: &mut Chunk) {
        self.l.dropped += s.len() as u64;
        let lines = memchr_iter(b'\n', s).count() as u64;
        if lines > 0 {
            let at = out.base + out.bytes().len() as u64;
            match out.cuts.last_mut() {
                Some(c) if c.0 == at => c.1 += lines,
                _ => out.cuts.push((at, lines)),
            }
        }
    }

    fn push_marker(&mut self, out: &mut Chunk) {
        let m = truncation_marker(self.l.dropped);
        self.l.dropped = 0;
        out.data.own().extend_from_slice(m.as_bytes());
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
