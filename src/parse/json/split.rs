//! The reader of one JSON document, for speed: the document is read in large blocks, its
//! top-level object (and the objects the format asks into) walked key by key, and each value a
//! format wants handed over where it starts in the block ([`Raw`]): the format reads it in one
//! pass into its own types, borrowing the strings. serde_json reading from an `io::Read` spent
//! about half its time on its per-byte reader, and cutting each value out first (a byte
//! scanner of our own, or serde's skipping) cost a second pass; reading in place costs
//! neither. A value cut short by the end of a block is read again once the block has grown (by
//! at least its own size, so a huge value costs about twice its length). Lines are counted
//! once per block, and a value's line only when an error names it. Memory is one block plus
//! the largest value wanted. Every value is checked by serde_json, skipped ones too, so a
//! malformed document is refused wherever it is broken.

use std::cell::Cell;
use std::io::Read;

use serde::de::IgnoredAny;

use super::doc::{mismatch, At, Doc, Raw, Want};
use crate::error::{Error, Result};

/// The smallest read: large enough that the values cut short at a block's end are few.
const BLOCK: usize = 1 << 20;

/// Reads the single JSON document of `reader` into `doc`; `what` names the format in errors.
pub(crate) fn document(reader: impl Read, doc: &mut dyn Doc, name: &str, what: &str) -> Result<()> {
    in_blocks(reader, doc, At { name, what }, BLOCK)
}

/// [`document`], reading at least `block` bytes at a time.
fn in_blocks(reader: impl Read, doc: &mut dyn Doc, at: At<'_>, block: usize) -> Result<()> {
    mismatch();
    let mut s = Scan {
        r: reader,
        buf: Block::Bytes(SPARE.with_borrow_mut(std::mem::take)),
        carry: Vec::new(),
        pos: 0,
        eof: false,
        lines_before: 0,
        block,
        at,
        seen: false,
    };
    s.ws()?;
    // A format whose document is an array (Cucumber's) wants the path "" as items.
    let array = doc.want("") == Want::Items;
    match s.peek()? {
        Some(b'{') if !array => s.object(doc, "")?,
        Some(b'[') if array => {
            s.seen = true;
            s.items(doc, "")?;
        }
        Some(_) if array => {
            return Err(s.bad(&format!("expected a {} report (a JSON array)", at.what)))
        }
        Some(_) => return Err(s.bad(&format!("expected a {} report (a JSON object)", at.what))),
        None => return Err(s.bad("the file ends before any JSON value")),
    }
    s.ws()?;
    if s.peek()?.is_some() {
        return Err(s.bad("trailing characters after the document"));
    }
    if !s.seen {
        return Err(s.bad(&format!("it has no \"{}\"", doc.required())));
    }
    Ok(())
}

thread_local! {
    /// The block of the last document read on this thread, emptied, for the next: a directory
    /// of small reports would allocate (and map) a megabyte per file.
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<R> Drop for Scan<'_, R> {
    fn drop(&mut self) {
        let mut b = match std::mem::replace(&mut self.buf, Block::Bytes(Vec::new())) {
            Block::Text(s) => s.into_bytes(),
            Block::Bytes(b) => b,
        };
        if b.capacity() <= 4 * BLOCK {
            b.clear();
            SPARE.with_borrow_mut(|s| *s = b);
        }
    }
}

struct Scan<'a, R> {
    r: R,
    buf: Block,
    /// The bytes of a character cut by the end of the last read, held back from `buf` (which
    /// then stays text) until the next read.
    carry: Vec<u8>,
    /// Where the unread part of `buf` starts.
    pos: usize,
    eof: bool,
    /// The line breaks before `buf`.
    lines_before: u64,
    /// The smallest read.
    block: usize,
    at: At<'a>,
    /// Whether the format's required key came by.
    seen: bool,
}

/// The input read and not yet consumed: text when it is all UTF-8, so that values are read
/// from a `str` and serde_json checks no string again (a tenth of the time); bytes when it is
/// not, and serde then names the malformed byte where a value holds it.
enum Block {
    Text(String),
    Bytes(Vec<u8>),
}

impl Block {
    fn bytes(&self) -> &[u8] {
        match self {
            Block::Text(s) => s.as_bytes(),
            Block::Bytes(b) => b,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Block::Text(s) => Some(s),
            Block::Bytes(_) => None,
        }
    }

    /// `bytes` as text when they are UTF-8, holding back the bytes of a character cut at their
    /// end into `carry` unless the input ended (`eof`).
    fn of(bytes: Vec<u8>, carry: &mut Vec<u8>, eof: bool) -> Block {
        let e = match String::from_utf8(bytes) {
            Ok(s) => return Block::Text(s),
            Err(e) => e,
        };
        let (valid, cut) = (
            e.utf8_error().valid_up_to(),
            e.utf8_error().error_len().is_none(),
        );
        let mut bytes = e.into_bytes();
        if !cut || eof {
            return Block::Bytes(bytes);
        }
        *carry = bytes.split_off(valid);
        match String::from_utf8(bytes) {
            Ok(s) => Block::Text(s),
            Err(e) => Block::Bytes(e.into_bytes()),
        }
    }
}

/// The line of `pos` in `buf`, the block after `lines_before` line breaks.
fn line_of(buf: &[u8], pos: usize, lines_before: u64) -> u64 {
    let head = buf.get(..pos).unwrap_or(buf);
    1 + lines_before + memchr::memchr_iter(b'\n', head).count() as u64
}

impl<R: Read> Scan<'_, R> {
    fn line(&self) -> u64 {
        line_of(self.buf.bytes(), self.pos, self.lines_before)
    }

    fn bad(&self, reason: &str) -> Error {
        Error::Data(format!(
            "{}:{}: not a valid {} report: {reason}",
            self.at.name,
            self.line(),
            self.at.what
        ))
    }

    /// Reads more of the input after what is unread (growing the block by at least its own
    /// size); false at the end of the input.
    fn more(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.lines_before = line_of(self.buf.bytes(), self.pos, self.lines_before) - 1;
        let mut buf = match std::mem::replace(&mut self.buf, Block::Bytes(Vec::new())) {
            Block::Text(s) => s.into_bytes(),
            Block::Bytes(b) => b,
        };
        buf.drain(..self.pos);
        self.pos = 0;
        let carried = !self.carry.is_empty();
        buf.append(&mut self.carry);
        let have = buf.len();
        let add = self.block.max(have);
        let got = crate::cli::read_append(&mut self.r, &mut buf, add, self.at.name)?;
        self.eof = got < add;
        self.buf = Block::of(buf, &mut self.carry, self.eof);
        Ok(got > 0 || carried)
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        if self.pos == self.buf.bytes().len() && !self.more()? {
            return Ok(None);
        }
        Ok(self.buf.bytes().get(self.pos).copied())
    }

    /// Skips white space.
    fn ws(&mut self) -> Result<()> {
        while let Some(c) = self.peek()? {
            if !matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                return Ok(());
            }
            let rest = self.buf.bytes().get(self.pos..).unwrap_or_default();
            let n = rest
                .iter()
                .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(rest.len());
            self.pos += n;
        }
        Ok(())
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<()> {
        self.ws()?;
        match self.peek()? {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.bad(&format!("expected {what}"))),
            None => Err(self.bad(&format!("the file ends where {what} was expected"))),
        }
    }

    /// The value at `pos` (after white space) handed to `f` as a [`Raw`], which reads it, then
    /// consumed; when it ran past the block, the block grows and `f` is called again. A value
    /// `f` did not read is skipped.
    fn with_value<T>(
        &mut self,
        path: &str,
        index: Option<usize>,
        mut f: impl FnMut(&Raw<'_>) -> T,
    ) -> Result<T> {
        self.ws()?;
        loop {
            let (buf, pos, before) = (self.buf.bytes(), self.pos, self.lines_before);
            let line = move || line_of(buf, pos, before);
            let raw = Raw {
                rest: buf.get(pos..).unwrap_or_default(),
                text: self.buf.text().and_then(|t| t.get(pos..)).unwrap_or(""),
                eof: self.eof,
                used: Cell::new(None),
                short: Cell::new(false),
                line: &line,
                path,
                index,
                at: self.at,
            };
            let out = f(&raw);
            if raw.short.get() {
                self.more()?;
                continue;
            }
            let used = match raw.used.get() {
                Some(n) => n,
                None => {
                    let skipped = raw.read::<IgnoredAny>();
                    if raw.short.get() {
                        self.more()?;
                        continue;
                    }
                    skipped?;
                    raw.used.get().unwrap_or(0)
                }
            };
            self.pos += used;
            return Ok(out);
        }
    }

    /// The object at `path` ("" for the document), its keys handed out as `doc` wants them.
    fn object(&mut self, doc: &mut dyn Doc, path: &str) -> Result<()> {
        self.expect(b'{', "an object")?;
        self.ws()?;
        if self.peek()? == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws()?;
            if self.peek()? != Some(b'"') {
                return Err(self.bad("expected a key (a string)"));
            }
            let key: String = self.with_value(path, None, |raw| raw.read())??;
            self.expect(b':', "':' after a key")?;
            let path = match path {
                "" => key,
                p => format!("{p}.{key}"),
            };
            self.member(doc, &path)?;
            self.ws()?;
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => return Err(self.bad("expected ',' or '}' after a value")),
                None => return Err(self.bad("the file ends inside an object (truncated?)")),
            }
        }
    }

    fn member(&mut self, doc: &mut dyn Doc, path: &str) -> Result<()> {
        self.ws()?;
        let null = self.peek()? == Some(b'n');
        let want = doc.want(path);
        if path == doc.required() {
            self.seen = true;
        }
        match want {
            Want::Object if !null => self.object(doc, path),
            Want::Items if !null => self.items(doc, path),
            Want::Whole => {
                let at = self.at;
                self.with_value(path, None, |raw| {
                    at.check(doc.whole(raw), path, None, raw.line)
                })?
            }
            _ => self.with_value(path, None, |_| ()),
        }
    }

    fn items(&mut self, doc: &mut dyn Doc, path: &str) -> Result<()> {
        self.ws()?;
        if self.peek()? != Some(b'[') {
            let found: serde_json::Value = self.with_value(path, None, |raw| raw.read())??;
            return Err(self.bad(&format!("expected an array at {path}, found {found:.40}")));
        }
        self.pos += 1;
        self.ws()?;
        if self.peek()? == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0;
        loop {
            let at = self.at;
            self.with_value(path, Some(i), |raw| {
                at.check(doc.item(raw), path, Some(i), raw.line)
            })??;
            i += 1;
            self.ws()?;
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => return Err(self.bad("expected ',' or ']' after an element")),
                None => return Err(self.bad("the file ends inside an array (truncated?)")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects what a document hands out: the wanted values, by path.
    struct Collect(Vec<(String, serde_json::Value)>);

    impl Doc for Collect {
        fn required(&self) -> &'static str {
            "tests"
        }
        fn want(&self, path: &str) -> Want {
            match path {
                "tests" | "results.tests" => Want::Items,
                "stats" => Want::Whole,
                "results" => Want::Object,
                _ => Want::Skip,
            }
        }
        fn whole(&mut self, raw: &Raw<'_>) -> Result<()> {
            let v = raw.read()?;
            self.0.push((raw.path.to_string(), v));
            Ok(())
        }
        fn item(&mut self, raw: &Raw<'_>) -> Result<()> {
            let v = raw.read()?;
            self.0.push((format!("{}[{:?}]", raw.path, raw.index), v));
            Ok(())
        }
    }

    fn run(
        text: &str,
        block: usize,
    ) -> std::result::Result<Vec<(String, serde_json::Value)>, String> {
        run_bytes(text.as_bytes(), block)
    }

    fn run_bytes(
        bytes: &[u8],
        block: usize,
    ) -> std::result::Result<Vec<(String, serde_json::Value)>, String> {
        let mut c = Collect(Vec::new());
        let at = At {
            name: "t.json",
            what: "test",
        };
        in_blocks(bytes, &mut c, at, block).map_err(|e| e.to_string())?;
        Ok(c.0)
    }

    #[test]
    fn bytes_that_are_not_utf8_are_named_whatever_the_block() {
        // A malformed byte in a wanted value, and a character cut by the end of the input:
        // the same error at every block size (the block is read as text when it is all UTF-8,
        // as bytes when it is not). A skipped value's strings are not decoded, as before.
        let cases: [(&[u8], &str); 2] = [
            (
                b"{\"tests\": [\"\xc3\xa9\",\n\"a\xffb\"]}",
                "t.json:2: not a valid test report: in tests[1]: invalid unicode code point",
            ),
            (
                b"{\"tests\": [\"\xf0\x9f\x98",
                "t.json:1: not a valid test report: the file ends inside a value (truncated?)",
            ),
        ];
        let skipped = b"{\"skip\": \"\xe2\x82\",\n\"tests\": [\"\xc3\xa9\"]}";
        for block in 1..24 {
            let got = run_bytes(skipped, block).unwrap();
            assert_eq!(got[0].1, serde_json::json!("\u{e9}"), "block {block}");
        }
        for (doc, want) in cases {
            for block in 1..24 {
                assert_eq!(
                    run_bytes(doc, block).unwrap_err(),
                    want,
                    "block {block}: {doc:?}"
                );
            }
        }
    }

    #[test]
    fn a_value_cut_by_the_end_of_a_block_is_read_again() {
        let doc =
            "{\"skip\": [1, {\"a\": \"x\"}], \"stats\": {\"n\": 3},\n \"tests\": [1, 22, 333,\n \
                   \"fo\\\"ur\", {\"k\": [true, null]}, -5.5e3, \"\u{e9}\u{1F600}\"],\n \
                   \"results\": {\"tests\": [{\"name\": \"q\"}], \"other\": 1}}";
        let whole = run(doc, 1 << 20).unwrap();
        let paths: Vec<&str> = whole.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths.len(), 9, "{paths:?}");
        assert_eq!(whole[0].1, serde_json::json!({"n": 3}));
        assert_eq!(whole[2].1, serde_json::json!(22));
        assert_eq!(whole[4].1, serde_json::json!("fo\"ur"));
        assert_eq!(whole[6].1, serde_json::json!(-5500.0));
        assert_eq!(whole[8].0, "results.tests[Some(0)]");
        for block in 1..48 {
            assert_eq!(run(doc, block).unwrap(), whole, "block {block}");
        }
    }

    #[test]
    fn an_error_names_the_same_line_whatever_the_block() {
        let cases = [
            (
                "{\n\"tests\": [1,\n2,\n{\"a\":",
                "t.json:4: not a valid test report: the file ends inside a value (truncated?)",
            ),
            (
                "{\n\"tests\": [1,\n2 3]}",
                "t.json:3: not a valid test report: expected ',' or ']' after an element",
            ),
            (
                "{\n\"skip\": [1,\n\n tru]}",
                "t.json:4: not a valid test report: in skip: expected ident",
            ),
            (
                "{\"stats\": {}}\n",
                "t.json:2: not a valid test report: it has no \"tests\"",
            ),
            (
                "\n[1]",
                "t.json:2: not a valid test report: expected a test report (a JSON object)",
            ),
        ];
        for (doc, want) in cases {
            for block in [1, 2, 3, 5, 8, 1 << 20] {
                assert_eq!(run(doc, block).unwrap_err(), want, "block {block}: {doc:?}");
            }
        }
    }
}
