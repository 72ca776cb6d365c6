//! The reader of one JSON document, for speed: a byte scanner walks the top-level object (and
//! the objects the format asks into) and cuts out each value a format wants, which serde_json
//! then reads from the slice. serde_json reading from an `io::Read` spent about half its time
//! on its per-byte reader (line and column tracking); reading slices is about twice as fast,
//! and memory is still one element at a time. Every value is checked by serde_json, skipped
//! ones too (as `IgnoredAny`), so a malformed document is refused wherever it is broken.

use std::io::{BufRead, Read};

use super::doc::{mismatch, At, Doc, Want};
use crate::error::{Error, Result};

/// Reads the single JSON document of `reader` into `doc`; `what` names the format in errors.
pub(crate) fn document(reader: impl Read, doc: &mut dyn Doc, name: &str, what: &str) -> Result<()> {
    mismatch();
    let lines = std::cell::Cell::new(1);
    let required = doc.required();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(false));
    let mut doc = Seen {
        doc,
        seen: seen.clone(),
    };
    let at = At {
        name,
        what,
        lines: &lines,
    };
    read(
        std::io::BufReader::with_capacity(1 << 16, reader),
        &mut doc,
        at,
    )?;
    if !*seen.borrow() {
        return Err(Error::Data(format!(
            "{name}:{}: not a valid {what} report: it has no \"{}\"",
            lines.get(),
            required
        )));
    }
    Ok(())
}

/// A [`Doc`] that notes whether the required key came by.
struct Seen<'a> {
    doc: &'a mut dyn Doc,
    seen: std::rc::Rc<std::cell::RefCell<bool>>,
}

impl Doc for Seen<'_> {
    fn required(&self) -> &'static str {
        self.doc.required()
    }
    fn want(&self, path: &str) -> Want {
        if path == self.doc.required() {
            *self.seen.borrow_mut() = true;
        }
        self.doc.want(path)
    }
    fn whole(&mut self, path: &str, v: serde_json::Value) -> Result<()> {
        self.doc.whole(path, v)
    }
    fn item(&mut self, path: &str, v: serde_json::Value) -> Result<()> {
        self.doc.item(path, v)
    }
}

/// Reads the document of `r` into `doc`.
fn read(r: impl BufRead, doc: &mut dyn Doc, at: At<'_>) -> Result<()> {
    let mut s = Scan {
        r,
        line: 1,
        at,
        buf: Vec::new(),
    };
    s.ws()?;
    match s.peek()? {
        Some(b'{') => s.object(doc, "")?,
        Some(_) => return Err(s.bad(&format!("expected a {} report (a JSON object)", at.what))),
        None => return Err(s.bad("the file ends before any JSON value")),
    }
    s.ws()?;
    at.lines.set(s.line);
    match s.peek()? {
        None => Ok(()),
        Some(_) => Err(s.bad("trailing characters after the document")),
    }
}

struct Scan<'a, R> {
    r: R,
    line: u64,
    at: At<'a>,
    buf: Vec<u8>,
}

impl<R: BufRead> Scan<'_, R> {
    fn bad(&self, reason: &str) -> Error {
        Error::Data(format!(
            "{}:{}: not a valid {} report: {reason}",
            self.at.name, self.line, self.at.what
        ))
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        let name = self.at.name;
        let b = self.r.fill_buf().map_err(|e| io(name, e))?;
        Ok(b.first().copied())
    }

    fn bump(&mut self) {
        if self.peek().ok().flatten() == Some(b'\n') {
            self.line += 1;
        }
        self.r.consume(1);
    }

    /// Skips white space.
    fn ws(&mut self) -> Result<()> {
        let name = self.at.name;
        loop {
            let b = self.r.fill_buf().map_err(|e| io(name, e))?;
            if b.is_empty() {
                return Ok(());
            }
            let n = b
                .iter()
                .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                .unwrap_or(b.len());
            self.line += b[..n].iter().filter(|c| **c == b'\n').count() as u64;
            let done = n < b.len();
            self.r.consume(n);
            if done {
                return Ok(());
            }
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<()> {
        self.ws()?;
        match self.peek()? {
            Some(x) if x == c => {
                self.bump();
                Ok(())
            }
            Some(_) => Err(self.bad(&format!("expected {what}"))),
            None => Err(self.bad(&format!("the file ends where {what} was expected"))),
        }
    }

    /// Cuts out one complete JSON value into `self.buf` (cleared first), and returns the line
    /// it started on.
    fn cut(&mut self) -> Result<u64> {
        self.ws()?;
        self.buf.clear();
        let start = self.line;
        let (mut depth, mut in_str, mut esc) = (0u32, false, false);
        let scalar = !matches!(self.peek()?, Some(b'{' | b'[' | b'"'));
        let name = self.at.name;
        loop {
            let b = self.r.fill_buf().map_err(|e| io(name, e))?;
            if b.is_empty() {
                if scalar && !self.buf.is_empty() {
                    return Ok(start);
                }
                return Err(self.bad("the file ends inside a value (truncated?)"));
            }
            let mut end = None;
            for (i, &c) in b.iter().enumerate() {
                if in_str {
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' {
                        in_str = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth == 0 => {
                        end = Some(i);
                        break;
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    b',' | b' ' | b'\t' | b'\r' | b'\n' if scalar => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let n = end.unwrap_or(b.len());
            self.line += b[..n].iter().filter(|c| **c == b'\n').count() as u64;
            self.buf.extend_from_slice(&b[..n]);
            self.r.consume(n);
            if end.is_some() {
                return Ok(start);
            }
        }
    }

    /// The value just cut, read as `T`; an error names the line in the document.
    fn value<T: serde::de::DeserializeOwned>(&self, start: u64) -> Result<T> {
        serde_json::from_slice(&self.buf).map_err(|e| {
            let msg = e.to_string();
            let reason = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(r, _)| r);
            Error::Data(format!(
                "{}:{}: not a valid {} report: {reason}",
                self.at.name,
                start + e.line().saturating_sub(1) as u64,
                self.at.what
            ))
        })
    }

    /// The object at `path` ("" for the document), its keys handed out as `doc` wants them.
    fn object(&mut self, doc: &mut dyn Doc, path: &str) -> Result<()> {
        self.expect(b'{', "an object")?;
        self.ws()?;
        if self.peek()? == Some(b'}') {
            self.bump();
            return Ok(());
        }
        loop {
            let start = self.cut()?;
            if self.buf.first() != Some(&b'"') {
                return Err(self.bad("expected a key (a string)"));
            }
            let key: String = self.value(start)?;
            self.expect(b':', "':' after a key")?;
            let path = match path {
                "" => key,
                p => format!("{p}.{key}"),
            };
            self.member(doc, &path)?;
            self.ws()?;
            match self.peek()? {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
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
        match doc.want(path) {
            Want::Object if !null => self.object(doc, path),
            Want::Items if !null => self.items(doc, path),
            Want::Whole => {
                let start = self.cut()?;
                let v = self.value(start)?;
                let done = doc.whole(path, v);
                self.at.check(done, path)
            }
            _ => {
                let start = self.cut()?;
                self.value::<serde::de::IgnoredAny>(start).map(|_| ())
            }
        }
    }

    fn items(&mut self, doc: &mut dyn Doc, path: &str) -> Result<()> {
        self.ws()?;
        if self.peek()? != Some(b'[') {
            let start = self.cut()?;
            let found: serde_json::Value = self.value(start)?;
            return Err(self.bad(&format!("expected an array at {path}, found {found:.40}")));
        }
        self.bump();
        self.ws()?;
        if self.peek()? == Some(b']') {
            self.bump();
            return Ok(());
        }
        let mut i = 0;
        loop {
            let start = self.cut()?;
            let v = self.value(start)?;
            self.at.lines.set(self.line);
            let done = doc.item(path, v);
            self.at.check(done, &format!("{path}[{i}]"))?;
            i += 1;
            self.ws()?;
            match self.peek()? {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(());
                }
                Some(_) => return Err(self.bad("expected ',' or ']' after an element")),
                None => return Err(self.bad("the file ends inside an array (truncated?)")),
            }
        }
    }
}

fn io(name: &str, e: std::io::Error) -> Error {
    Error::Usage(format!(
        "cannot read '{name}': {}",
        crate::cli::io_reason(&e)
    ))
}
