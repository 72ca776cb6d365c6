//! XML tokens, what both threads need: quick-xml's reader over the input filter, its errors in
//! words, and a start tag's attributes found without quick-xml's checks.

use std::io::Read;

use quick_xml::Reader;

use super::input::{Decoded, Relay};
use crate::cli;

/// The raw bytes of a report.
pub(crate) type Source = Box<dyn Read + Send>;

/// The message for quick-xml's error `e`, at the position where `reader` found it.
pub(crate) fn malformed<T: Relay>(
    reader: &Reader<Decoded<Source, T>>,
    e: &quick_xml::Error,
) -> String {
    format!(
        "{}: malformed XML: {}",
        reader.get_ref().position(reader.error_position()),
        describe(e)
    )
}

/// What was wrong, in words.
fn describe(e: &quick_xml::Error) -> String {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match e {
        quick_xml::Error::Syntax(SyntaxError::UnclosedCData) => {
            "CDATA section not closed before the end of the file (truncated file?)".into()
        }
        quick_xml::Error::Syntax(s) => format!("{s} (truncated file?)"),
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("closing tag </{found}> does not match the open <{expected}>")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(n)) => {
            format!("closing tag </{n}> has no opening tag")
        }
        quick_xml::Error::Io(io) => format!("cannot read: {}", cli::io_reason(io)),
        other => other.to_string(),
    }
}

/// Where an attribute's name and value are in a start tag's text, and whether the value holds
/// a reference or a line end (a value without needs no unescaping).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    /// The name, as a byte range of the tag's text.
    pub(crate) key: (u32, u32),
    /// The value as written, between the quotes.
    pub(crate) value: (u32, u32),
    /// True when the value has `&`, tab, CR or LF.
    pub(crate) escaped: bool,
}

/// XML white space, as quick-xml reads it between attributes.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The first index at or after `i` in `tag` that is not white space.
fn skip_space(tag: &[u8], mut i: usize) -> usize {
    while i < tag.len() && is_space(tag[i]) {
        i += 1;
    }
    i
}

/// Bytes that make a value need unescaping: a reference, or a line end or tab to normalise.
const ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

/// The attributes of a start tag's text after its name, pushed to `out`; `None` when the tag
/// holds anything but quoted `name=value` pairs. What is accepted is split as quick-xml's
/// `Attributes` (without checks) splits it.
pub(crate) fn split_spans(tag: &[u8], name_len: usize, out: &mut Vec<Span>) -> Option<()> {
    let len = tag.len();
    let mut i = name_len;
    loop {
        i = skip_space(tag, i);
        if i == len {
            return Some(());
        }
        let key_from = i;
        while i < len && tag[i] != b'=' && !is_space(tag[i]) {
            i += 1;
        }
        let key_to = i;
        i = skip_space(tag, i);
        if key_to == key_from || i == len || tag[i] != b'=' {
            return None;
        }
        i += 1;
        i = skip_space(tag, i);
        let quote = *tag.get(i).filter(|q| matches!(q, b'"' | b'\''))?;
        i += 1;
        let value_from = i;
        let mut escaped = false;
        while i < len {
            // Eight bytes at a time to the next quote, `&` or control character.
            if i + 8 <= len {
                let m = crate::bytes::special_mask(crate::bytes::word(&tag[i..i + 8]), quote, b'&');
                if m == 0 {
                    i += 8;
                    continue;
                }
                i += (m.trailing_zeros() / 8) as usize;
            }
            if tag[i] == quote {
                break;
            }
            escaped |= ESCAPED[tag[i] as usize];
            i += 1;
        }
        if i == len {
            return None;
        }
        out.push(Span {
            key: (key_from as u32, key_to as u32),
            value: (value_from as u32, i as u32),
            escaped,
        });
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use quick_xml::events::BytesStart;

    use super::*;

    /// What quick-xml reads from a tag: (key, value) pairs, or `None` at its first error.
    fn quick_xml_pairs(tag: &str, name_len: usize) -> Option<Vec<(String, String)>> {
        let start = BytesStart::from_content(tag, name_len);
        let mut v = Vec::new();
        for a in start.attributes().with_checks(false) {
            let a = a.ok()?;
            v.push((a.key.0.to_string(), a.value.to_string()));
        }
        Some(v)
    }

    fn check(tag: &str, name_len: usize) -> bool {
        let mut spans = Vec::new();
        let Some(()) = split_spans(tag.as_bytes(), name_len, &mut spans) else {
            return false;
        };
        let ours: Vec<(String, String)> = spans
            .iter()
            .map(|s| {
                (
                    tag[s.key.0 as usize..s.key.1 as usize].to_string(),
                    tag[s.value.0 as usize..s.value.1 as usize].to_string(),
                )
            })
            .collect();
        assert_eq!(Some(ours), quick_xml_pairs(tag, name_len), "{tag:?}");
        for s in &spans {
            let v = &tag[s.value.0 as usize..s.value.1 as usize];
            assert_eq!(s.escaped, v.contains(['&', '\t', '\n', '\r']), "{tag:?}");
        }
        true
    }

    #[test]
    fn splits_attributes_as_quick_xml_does() {
        for tag in [
            "testcase",
            "testcase ",
            "testcase name=\"a\" classname='b' time=\"1.5\"",
            "testcase name = \"a\"\n\ttime\r\n=\n'2'  ",
            "t a=\"x&amp;y\" b=\"l1\nl2\" c=\"'\" d='\"'",
            "t a=\"1\"b=\"2\"",
            "t a=\"\"",
            // Values longer than a word of 8, with what matters past it.
            "t a=\"0123456789abcdef&amp;x\" b='0123456789abcdef\t\"' c=\"0123456789abcdefghij\"",
            "t a=\"0123456\u{1}89abcdef\" b=\"01234567\"",
        ] {
            assert!(
                check(tag, 1 + tag[1..].find(' ').unwrap_or(tag.len() - 1)),
                "{tag:?}"
            );
        }
        // Left to quick-xml (which reports them, or reads them in its own way).
        for tag in ["t a", "t a=", "t a=b", "t a=\"b", "t =\"b\"", "t a b=\"c\""] {
            let mut spans = Vec::new();
            assert!(
                split_spans(tag.as_bytes(), 1, &mut spans).is_none(),
                "{tag:?}"
            );
        }
    }

    #[test]
    fn splits_random_tags_as_quick_xml_does() {
        let alphabet = [
            " ", "\n", "=", "\"", "'", "a", "bc", "&amp;", "\t", "é", "/",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut accepted = 0;
        for _ in 0..20_000 {
            let mut tag = String::from("t");
            for _ in 0..(seed % 24) {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                tag.push_str(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            seed = seed.rotate_left(7) ^ 0x5851_F42D_4C95_7F2D;
            if check(&tag, 1) {
                accepted += 1;
            }
        }
        // Enough of them are well formed for the comparison to mean something.
        assert!(accepted > 1_000, "{accepted}");
    }
}
