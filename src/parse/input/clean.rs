//! Cleaning: the characters XML forbids (C0 controls but tab, LF and CR; U+FFFE and U+FFFF)
//! are replaced with U+FFFD, so that the parser never stops at one. Clean input, nearly all of
//! it, is passed through without a copy.

/// The replacement character, in UTF-8.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// The replacing, and its count.
#[derive(Default)]
pub(super) struct Cleaner {
    buf: Vec<u8>,
    /// Characters replaced so far.
    pub(super) illegal: u64,
}

impl Cleaner {
    /// `inp` (UTF-8) as it is when clean, else a copy with the forbidden characters replaced;
    /// and, for the first one replaced in the whole input, its code point and index in `inp`.
    pub(super) fn clean<'a>(&'a mut self, inp: &'a [u8]) -> (&'a [u8], Option<(u32, usize)>) {
        if is_clean(inp) {
            return (inp, None);
        }
        let v = &mut self.buf;
        v.clear();
        v.reserve(inp.len() + 16);
        let mut first = None;
        let (mut i, mut start) = (0, 0);
        while i < inp.len() {
            let b = inp[i];
            let (len, c) = if b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' {
                (1, u32::from(b))
            } else if b == 0xEF
                && inp.get(i + 1) == Some(&0xBF)
                && inp.get(i + 2).is_some_and(|c| c & 0xFE == 0xBE)
            {
                (3, 0xFFFE + u32::from(inp.get(i + 2).map_or(0, |c| c & 1)))
            } else {
                i += 1;
                continue;
            };
            v.extend_from_slice(&inp[start..i]);
            v.extend_from_slice(REPLACEMENT);
            self.illegal += 1;
            if self.illegal == 1 {
                first = Some((c, i));
            }
            i += len;
            start = i;
        }
        v.extend_from_slice(&inp[start..]);
        (v, first)
    }
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
