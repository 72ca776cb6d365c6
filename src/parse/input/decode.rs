//! Decoding to UTF-8: the encoding is told from a BOM, UTF-16's zero bytes or the XML
//! declaration; UTF-8 is validated in place (no copy), anything else goes through encoding_rs,
//! and so does UTF-8 from its first invalid byte on (each one replaced with U+FFFD).

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, UTF_8};
use memchr::memchr;

/// How much raw input is read at once.
pub(super) const CHUNK: usize = 64 * 1024;

/// Raw input and its decoding.
pub(super) struct ToUtf8 {
    raw: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    decoder: Decoder,
    encoding: &'static Encoding,
    /// Validate UTF-8 in place instead of running the decoder (until a bad byte is seen).
    fast: bool,
    /// The decoder's output.
    mid: Vec<u8>,
    /// The first replacement was reported.
    warned: bool,
}

/// What [`ToUtf8::decode`] found after the text it handed out.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum After {
    /// More is buffered, or needs reading ([`ToUtf8::needs_read`]).
    More,
    /// A character is cut by the end of the buffer: [`ToUtf8::read_more`] reads its rest.
    Cut,
    /// The input has ended.
    End,
}

thread_local! {
    /// Raw buffers of inputs read before on this thread, for the next (a directory of small
    /// reports allocated and zeroed one per file).
    static SPARE: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for ToUtf8 {
    fn drop(&mut self) {
        let raw = std::mem::take(&mut self.raw);
        if raw.len() == CHUNK {
            SPARE.with_borrow_mut(|s| {
                if s.len() < 2 {
                    s.push(raw);
                }
            });
        }
    }
}

impl ToUtf8 {
    /// Reads the start of `inner`, enough to see a BOM and an XML declaration.
    pub(super) fn new<R: Read>(inner: &mut R) -> io::Result<ToUtf8> {
        // A spare buffer's old bytes are never read: only what `end` says was read is.
        let mut raw = SPARE
            .with_borrow_mut(Vec::pop)
            .unwrap_or_else(|| vec![0u8; CHUNK]);
        let mut end = 0;
        let mut eof = false;
        while end < 1024 {
            let n = read_retry(inner, &mut raw[end..])?;
            if n == 0 {
                eof = true;
                break;
            }
            end += n;
        }
        let (encoding, skip) = sniff(&raw[..end]);
        Ok(ToUtf8 {
            raw,
            start: skip,
            end,
            eof,
            decoder: encoding.new_decoder_without_bom_handling(),
            encoding,
            fast: encoding == UTF_8,
            mid: Vec::new(),
            warned: false,
        })
    }

    /// The encoding the input is read in.
    pub(super) fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    /// True when nothing is buffered and the input has not ended: the next read may wait.
    pub(super) fn needs_read(&self) -> bool {
        self.start == self.end && !self.eof
    }

    /// Reads the next block of input into the empty buffer.
    pub(super) fn read<R: Read>(&mut self, inner: &mut R) -> io::Result<()> {
        self.start = 0;
        self.end = read_retry(inner, &mut self.raw)?;
        self.eof = self.end == 0;
        Ok(())
    }

    /// After [`After::Cut`]: reads more behind the start of the cut character.
    pub(super) fn read_more<R: Read>(&mut self, inner: &mut R) -> io::Result<()> {
        let n = read_retry(inner, &mut self.raw[self.end..])?;
        self.end += n;
        self.eof = n == 0;
        Ok(())
    }

    /// Decodes what is buffered and hands the UTF-8 text to `sink`, with the offset in it of
    /// the first replacement character when this is the first time bytes were replaced.
    pub(super) fn decode(&mut self, sink: impl FnOnce(&[u8], Option<usize>)) -> After {
        if !self.fast {
            return self.decode_other(sink);
        }
        let slice = &self.raw[self.start..self.end];
        let valid = Encoding::utf8_valid_up_to(slice);
        let rest = slice.len() - valid;
        let cut = rest > 0 && rest < 4 && !self.eof && is_utf8_prefix(&slice[valid..]);
        if rest > 0 && !cut {
            // A byte that is not UTF-8: from here on, the decoder replaces what is invalid.
            self.fast = false;
            return self.decode_other(sink);
        }
        let (a, b) = (self.start, self.start + valid);
        sink(&self.raw[a..b], None);
        self.start = b;
        if cut {
            // The start of a character moves to the front, for its rest to be read behind it.
            self.raw.copy_within(b..self.end, 0);
            self.end -= b;
            self.start = 0;
            After::Cut
        } else if self.eof && self.start == self.end {
            After::End
        } else {
            After::More
        }
    }

    /// Any encoding, and UTF-8 with invalid bytes: through encoding_rs.
    fn decode_other(&mut self, sink: impl FnOnce(&[u8], Option<usize>)) -> After {
        let last = self.eof;
        self.mid.clear();
        self.mid.resize(CHUNK * 3 + 16, 0);
        let (result, read, written, replaced) =
            self.decoder
                .decode_to_utf8(&self.raw[self.start..self.end], &mut self.mid, last);
        self.start += read;
        self.mid.truncate(written);
        let first = (replaced && !self.warned).then(|| {
            self.warned = true;
            // Where the first replacement character landed: the first bad byte.
            memchr::memmem::find(&self.mid, "\u{FFFD}".as_bytes()).unwrap_or(0)
        });
        sink(&self.mid, first);
        if last && result == CoderResult::InputEmpty {
            After::End
        } else {
            After::More
        }
    }
}

/// Whether `b` continues a multi-byte UTF-8 character.
pub(super) fn is_continuation(b: u8) -> bool {
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
