//! A fast writer of JSON lines for the hot output paths. serde_json escapes strings one byte at
//! a time; test output is mostly long runs that need no escaping, which this copies whole.

use crate::bytes;

/// What each byte becomes inside a JSON string: 0 itself, `u` a `\u00XX` escape, else the
/// letter after a backslash.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = b'u';
        c += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0C] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Appends `s` as a JSON string literal.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escape(out, s);
    out.push(b'"');
}

/// A JSON array of items already written as JSON, kept byte for byte.
pub(crate) fn array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// serde_json's message for `e` without its " at line L column C": the callers name the place
/// in their own terms (a file and line, a field).
pub(crate) fn reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rsplit_once(" at line ") {
        Some((r, _)) => r.to_string(),
        None => msg,
    }
}

/// Appends `s` escaped for the inside of a JSON string literal, without the quotes.
pub(crate) fn escape(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.reserve(b.len());
    let mut start = 0;
    let mut i = 0;
    loop {
        // The clean run: bytes that stand for themselves, eight at a time while possible.
        while i + 8 <= b.len() {
            let m = bytes::special_mask(bytes::word(&b[i..i + 8]), b'"', b'\\');
            if m != 0 {
                // The lowest flagged byte is a true one (false flags only follow a true one).
                i += (m.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        while i < b.len() && ESCAPE[b[i] as usize] == 0 {
            i += 1;
        }
        out.extend_from_slice(&b[start..i]);
        if i == b.len() {
            break;
        }
        let mut c = b[i];
        loop {
            match ESCAPE[c as usize] {
                b'u' => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(c >> 4) as usize],
                    HEX[(c & 15) as usize],
                ]),
                e => out.extend_from_slice(&[b'\\', e]),
            }
            i += 1;
            // A run of special bytes (a line end and the indent after it, in a stack trace) is
            // escaped without going back to the word loop.
            match b.get(i) {
                Some(&n) if ESCAPE[n as usize] != 0 => c = n,
                _ => break,
            }
        }
        start = i;
    }
}

/// Whether `c`, the letter after a backslash in a JSON string, stands for white space.
fn escaped_space(c: u8) -> bool {
    matches!(c, b'n' | b'r' | b't' | b'f')
}

/// The last character of UTF-8 text `b` and its length in bytes, if `b` ends with a whole one.
fn last_char(b: &[u8]) -> Option<(char, usize)> {
    let start = b.len().saturating_sub(4);
    let from = (start..b.len()).rev().find(|&i| b[i] & 0xC0 != 0x80)?;
    let c = std::str::from_utf8(&b[from..]).ok()?.chars().next()?;
    Some((c, b.len() - from))
}

/// The inside of a JSON string literal (escaped, without quotes, as UTF-8) less the trailing
/// white space that `str::trim_end` would take from its decoded text. Text holding a `\u`
/// escape is the caller's to decode: a `\u` escape is never taken here.
pub fn trim_end_escaped(e: &[u8]) -> &[u8] {
    let mut n = e.len();
    loop {
        let b = &e[..n];
        if n >= 2 && b[n - 2] == b'\\' && escaped_space(b[n - 1]) {
            // `\n` is an escape only when the backslash before it is not itself escaped.
            let slashes = b[..n - 1].iter().rev().take_while(|&&c| c == b'\\').count();
            if slashes % 2 == 1 {
                n -= 2;
                continue;
            }
        }
        match last_char(b) {
            Some((c, len)) if c != '\\' && c.is_whitespace() => n -= len,
            _ => return b,
        }
    }
}

/// The inside of a JSON string literal less the leading white space `str::trim_start` would
/// take from its decoded text (the start of the text is never inside an escape).
pub fn trim_start_escaped(e: &[u8]) -> &[u8] {
    let mut e = e;
    loop {
        if e.len() >= 2 && e[0] == b'\\' && escaped_space(e[1]) {
            e = &e[2..];
            continue;
        }
        let len = match e.first() {
            Some(&c) if c < 0x80 => 1,
            Some(&c) if c >= 0xF0 => 4,
            Some(&c) if c >= 0xE0 => 3,
            Some(_) => 2,
            None => return e,
        };
        match e.get(..len).and_then(|c| std::str::from_utf8(c).ok()) {
            Some(c) if c.chars().all(char::is_whitespace) => e = &e[len..],
            _ => return e,
        }
    }
}

/// Appends a JSON number for a finite float, or `null`.
pub(crate) fn float(out: &mut Vec<u8>, v: Option<f64>) {
    match v {
        Some(f) if f.is_finite() => {
            let _ = serde_json::to_writer(&mut *out, &f);
        }
        _ => out.extend_from_slice(b"null"),
    }
}

/// Appends the decimal digits of `n` (itoa).
pub(crate) fn uint(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// An object being written: keys and values, commas handled.
pub(crate) struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Starts an object.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Members written on at the end of `out`, inside an object opened elsewhere; `first`:
    /// whether no member comes before them.
    pub(crate) fn within(out: &'a mut Vec<u8>, first: bool) -> Obj<'a> {
        Obj { out, first }
    }

    /// Writes a key and returns the buffer for its value. Keys must need no escaping.
    /// Inlined: a literal key is then copied as a constant, without a call.
    #[inline(always)]
    pub(crate) fn key(&mut self, k: &str) -> &mut Vec<u8> {
        let out = &mut *self.out;
        out.reserve(k.len() + 4);
        if !self.first {
            out.push(b',');
        }
        self.first = false;
        out.push(b'"');
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b"\":");
        out
    }

    /// Writes a key that may need escaping and returns the buffer for its value.
    pub(crate) fn key_escaped(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        string(self.out, k);
        self.out.push(b':');
        self.out
    }

    /// Appends members already written as JSON (`"k":v,"k2":v2`, or nothing).
    pub(crate) fn members(&mut self, json: &[u8]) {
        if json.is_empty() {
            return;
        }
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(json);
    }

    /// A string value, or `null`.
    #[inline(always)]
    pub(crate) fn str(&mut self, k: &str, v: Option<&str>) {
        let out = self.key(k);
        match v {
            Some(s) => string(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }

    /// A string value, left out when `None`.
    #[inline(always)]
    pub(crate) fn opt_str(&mut self, k: &str, v: Option<&str>) {
        if v.is_some() {
            self.str(k, v);
        }
    }

    /// An unsigned integer, left out when `None`.
    pub(crate) fn opt_u64(&mut self, k: &str, v: Option<u64>) {
        if let Some(n) = v {
            let out = self.key(k);
            uint(out, n);
        }
    }

    /// Ends the object.
    pub(crate) fn end(self) {
        self.out.push(b'}');
    }
}

/// The value of member `key` of the outermost object of `obj`, valid JSON (a `RawValue`), as
/// an unsigned integer: one pass that skips strings with `memchr` and nested values by depth,
/// instead of a second full parse. `None` when the member is absent or not such a number.
pub(crate) fn member_u64(obj: &str, key: &str) -> Option<u64> {
    let b = obj.as_bytes();
    let (mut i, mut depth) = (0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let end = string_end(b, start)?;
                i = end + 1;
                if depth == 1 && &b[start..end] == key.as_bytes() {
                    let rest = &b[i..];
                    let colon = rest.iter().position(|c| !c.is_ascii_whitespace())?;
                    if rest[colon] == b':' {
                        let v = &rest[colon + 1..];
                        let v = &v[v.iter().position(|c| !c.is_ascii_whitespace())?..];
                        let n = v.iter().take_while(|c| c.is_ascii_digit()).count();
                        let after = v.get(n).copied();
                        let plain = !matches!(after, Some(b'.' | b'e' | b'E'));
                        return std::str::from_utf8(&v[..n])
                            .ok()?
                            .parse()
                            .ok()
                            .filter(|_| plain);
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The index of the quote that ends the string whose text starts at `from`.
fn string_end(b: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let k = from + memchr::memchr2(b'"', b'\\', b.get(from..)?)?;
        if b[k] == b'"' {
            return Some(k);
        }
        from = k + 2;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn member_u64_reads_the_outer_member_only() {
        let cases = [
            (r#"{"TestRunId":12}"#, Some(12)),
            (r#"{ "a" : "x\"TestRunId\":5", "TestRunId" : 7 }"#, Some(7)),
            (r#"{"Steps":[{"TestRunId":3}],"TestRunId":9}"#, Some(9)),
            (r#"{"Steps":[{"TestRunId":3}]}"#, None),
            (r#"{"TestRunId":null}"#, None),
            (r#"{"TestRunId":1.5}"#, None),
            (r#"{"TestRunId":-1}"#, None),
            (r#"{"x\\":{"TestRunId":2},"TestRunId":4}"#, Some(4)),
            (r#"{"TestRunId":99999999999999999999999}"#, None),
        ];
        for (text, want) in cases {
            assert_eq!(super::member_u64(text, "TestRunId"), want, "{text}");
            // The same as a full parse says.
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                v.get("TestRunId").and_then(serde_json::Value::as_u64),
                want,
                "{text}"
            );
        }
    }

    use super::*;

    #[test]
    fn escapes_like_serde_json() {
        for s in [
            "",
            "plain",
            "a\"b\\c\nd\re\tf\u{8}\u{c}\u{1}\u{1f}",
            "é ü 😀 \u{7f}",
            &"x".repeat(40),
            &format!("{}\"{}", "y".repeat(20), "z".repeat(17)),
            "\n\tat a.B.c(B.java:1)\r\n\t\"\\\u{1}at d.E.f(E.java:2)\n\t\n",
        ] {
            let mut v = Vec::new();
            string(&mut v, s);
            assert_eq!(
                String::from_utf8(v).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn escapes_every_special_byte_at_every_place_in_a_word() {
        // Words shorter than a word of 8, and of one or more words with a few bytes after.
        for (len, special) in [1, 2, 5, 7, 8, 9, 15, 16, 20]
            .into_iter()
            .flat_map(|n| ['"', '\\', '\n', '\u{0}', '\u{1f}', '\t'].map(|c| (n, c)))
        {
            for at in 0..len {
                for other in ['a', 'é', '\u{1}'] {
                    let s: String = (0..len)
                        .map(|i| {
                            if i == at {
                                special
                            } else if i == 13 % len {
                                other
                            } else {
                                'x'
                            }
                        })
                        .collect();
                    let mut v = Vec::new();
                    string(&mut v, &s);
                    assert_eq!(
                        String::from_utf8(v).unwrap(),
                        serde_json::to_string(&s).unwrap()
                    );
                }
            }
        }
    }

    #[test]
    fn trims_escaped_text_as_str_trim_trims_the_decoded_text() {
        for s in [
            "",
            "  ",
            "plain",
            " \n\t\r lead and trail \n\r\t\u{c} ",
            "ends with a backslash and n: \\n",
            "ends with an escaped backslash\\",
            "\\\n two backslashes then a newline\\\n",
            "\u{a0}\u{2003} unicode spaces \u{3000}\u{2029}",
            "é at the end é",
            "\"quoted\" \t",
        ] {
            let escaped = serde_json::to_string(s).unwrap();
            let inner = &escaped[1..escaped.len() - 1];
            let text = |b: &[u8]| -> String {
                serde_json::from_str(&format!("\"{}\"", std::str::from_utf8(b).unwrap())).unwrap()
            };
            let both = trim_start_escaped(trim_end_escaped(inner.as_bytes()));
            assert_eq!(text(both), s.trim(), "{escaped}");
            let end = text(trim_end_escaped(inner.as_bytes()));
            assert_eq!(end, s.trim_end(), "{escaped}");
        }
    }
}
