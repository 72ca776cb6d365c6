//! Capping CSV fields before the CSV reader buffers a record whole. The csv crate holds a whole
//! record in memory, so one 150 MB field (or `/dev/zero`) would be held whole: this small lexer
//! follows the CSV syntax (delimiter, quotes, `""` escapes, line ends) over the byte stream and
//! drops the bytes of any field beyond the cap, leaving the visible marker XML text gets. It
//! also caps the fields of one row, and notes what the CSV reader cannot tell: where a quoted
//! field that spans lines began, and whether the file ends inside one (an unclosed quote).

use memchr::{memchr, memchr3, memchr_iter};

use super::cap::truncation_marker;
use super::decode::is_continuation;

/// The most fields a row may have; the rest of a wider row is dropped (and reported by the
/// reader, which finds its field count wrong). Spreadsheets stop at 16,384 columns.
pub(crate) const MAX_FIELDS: usize = 65_536;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// At the start of a field.
    Start,
    /// In an unquoted field, or after a quoted field's closing quote.
    Plain,
    /// Inside quotes.
    Quoted,
    /// Just after a `"` inside quotes: an escaped quote or the closing one.
    QuoteSeen,
    /// The rest of a row that has too many fields: dropped until the line ends.
    TooWide,
}

/// The CSV lexer and its cap, carried across chunks.
pub(super) struct CsvCapper {
    cap: usize,
    delimiter: u8,
    state: State,
    /// Bytes kept of the current field.
    run: usize,
    /// Bytes dropped from it.
    dropped: u64,
    /// Fields begun in the current row.
    fields: usize,
    /// The input line being read (1-based).
    line: u64,
    /// The line the current quoted field opened on.
    quote_line: u64,
    /// The line of the first quoted field that spans lines.
    pub(super) first_multiline: Option<u64>,
    /// The first row with more than [`MAX_FIELDS`] fields.
    pub(super) too_wide: Option<u64>,
}

impl CsvCapper {
    /// A lexer for fields separated by `delimiter` that keeps at most `cap` bytes of each.
    pub(super) fn new(cap: usize, delimiter: u8) -> CsvCapper {
        CsvCapper {
            cap,
            delimiter,
            state: State::Start,
            run: 0,
            dropped: 0,
            fields: 0,
            line: 1,
            quote_line: 0,
            first_multiline: None,
            too_wide: None,
        }
    }

    /// Whether the input ended inside a quoted field; the line it opened on.
    pub(super) fn unclosed(&self) -> Option<u64> {
        (self.state == State::Quoted).then_some(self.quote_line)
    }

    /// Runs the lexer over clean UTF-8, appending to `out` all but what the cap drops.
    pub(super) fn lex(&mut self, inp: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < inp.len() {
            i = match self.state {
                State::Start => self.start(inp, i, out),
                State::Plain => self.plain(inp, i, out),
                State::Quoted => self.quoted(inp, i, out),
                State::QuoteSeen => self.quote_seen(inp, i, out),
                State::TooWide => self.too_wide(inp, i, out),
            };
        }
    }

    /// At the end of input: the marker of a field cut last, and a closing quote held back.
    pub(super) fn finish(&mut self, out: &mut Vec<u8>) {
        match self.state {
            State::QuoteSeen => {
                self.end_field(out);
                out.push(b'"');
                self.state = State::Plain;
            }
            State::Plain | State::Quoted => self.end_field(out),
            State::Start | State::TooWide => {}
        }
    }

    /// The first byte of a field: a quote opens a quoted one; a delimiter or line end is an
    /// empty field.
    fn start(&mut self, inp: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
        self.run = 0;
        self.dropped = 0;
        self.fields += 1;
        let b = inp[i];
        if b == b'"' {
            out.push(b);
            self.quote_line = self.line;
            self.state = State::Quoted;
            return i + 1;
        }
        if b == self.delimiter || b == b'\n' || b == b'\r' {
            self.field_end(b, out);
            return i + 1;
        }
        self.state = State::Plain;
        i
    }

    /// An unquoted field: kept up to the cap, dropped from there to its end.
    fn plain(&mut self, inp: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
        let rest = &inp[i..];
        match memchr3(self.delimiter, b'\n', b'\r', rest) {
            Some(k) => {
                self.take(&rest[..k], out);
                self.end_field(out);
                self.field_end(rest[k], out);
                i + k + 1
            }
            None => {
                self.take(rest, out);
                inp.len()
            }
        }
    }

    /// Inside quotes: kept up to the cap, dropped from there to the next quote.
    fn quoted(&mut self, inp: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
        let rest = &inp[i..];
        let found = memchr(b'"', rest);
        let text = &rest[..found.unwrap_or(rest.len())];
        let lines = memchr_iter(b'\n', text).count() as u64;
        if lines > 0 {
            self.line += lines;
            self.first_multiline.get_or_insert(self.quote_line);
        }
        self.take(text, out);
        match found {
            Some(k) => {
                self.state = State::QuoteSeen;
                i + k + 1
            }
            None => inp.len(),
        }
    }

    /// After a quote inside quotes: `""` is one quote of the text; anything else closes the
    /// field (the byte is read again as what follows it).
    fn quote_seen(&mut self, inp: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
        if inp[i] == b'"' {
            if self.run < self.cap {
                out.extend_from_slice(b"\"\"");
                self.run += 1;
            } else {
                self.dropped += 1;
            }
            self.state = State::Quoted;
            return i + 1;
        }
        self.end_field(out);
        out.push(b'"');
        self.state = State::Plain;
        i
    }

    /// The rest of a row that has too many fields, dropped; the line end is kept.
    fn too_wide(&mut self, inp: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
        match memchr(b'\n', &inp[i..]) {
            Some(k) => {
                self.field_end(b'\n', out);
                i + k + 1
            }
            None => inp.len(),
        }
    }

    /// A field's text: what fits under the cap (with the rest of a character cut there) is
    /// kept, the rest counted as dropped.
    fn take(&mut self, text: &[u8], out: &mut Vec<u8>) {
        let mut keep = text.len().min(self.cap.saturating_sub(self.run));
        if self.dropped == 0 {
            while keep < text.len() && is_continuation(text[keep]) {
                keep += 1;
            }
        }
        out.extend_from_slice(&text[..keep]);
        self.run += keep;
        self.dropped += (text.len() - keep) as u64;
    }

    /// The marker, where a field was cut.
    fn end_field(&mut self, out: &mut Vec<u8>) {
        if self.dropped > 0 {
            out.extend_from_slice(truncation_marker(self.dropped).as_bytes());
            self.dropped = 0;
        }
    }

    /// A delimiter or line end after a field: kept; a line end starts a new row. A delimiter
    /// after the last field a row may have drops the rest of the row.
    fn field_end(&mut self, b: u8, out: &mut Vec<u8>) {
        if b == self.delimiter && self.fields >= MAX_FIELDS {
            self.too_wide.get_or_insert(self.line);
            self.state = State::TooWide;
            return;
        }
        out.push(b);
        if b == b'\n' {
            self.line += 1;
        }
        if b != self.delimiter {
            self.fields = 0;
        }
        self.state = State::Start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input in pieces of `step` bytes, capped at `cap`.
    fn run(input: &str, cap: usize, step: usize) -> (String, CsvCapper) {
        let mut c = CsvCapper::new(cap, b',');
        let mut out = Vec::new();
        for piece in input.as_bytes().chunks(step) {
            c.lex(piece, &mut out);
        }
        c.finish(&mut out);
        (String::from_utf8(out).unwrap(), c)
    }

    fn every_step(input: &str, cap: usize) -> String {
        let (whole, _) = run(input, cap, input.len().max(1));
        for step in 1..input.len().min(40) {
            assert_eq!(run(input, cap, step).0, whole, "step {step}");
        }
        whole
    }

    #[test]
    fn passes_fields_under_the_cap_through() {
        let x = "name,status\r\n\"a, \"\"b\"\"\",pass\n,\n\"multi\nline\",fail";
        assert_eq!(every_step(x, 64), x);
    }

    #[test]
    fn caps_plain_and_quoted_fields_and_marks_them() {
        let long = "x".repeat(40);
        let m = truncation_marker(32);
        let input = format!("{long},\"{long}\",\"{long}\"\"\"\n");
        let want = format!(
            "xxxxxxxx{m},\"xxxxxxxx{m}\",\"xxxxxxxx{}\"\n",
            truncation_marker(33)
        );
        assert_eq!(every_step(&input, 8), want);
    }

    #[test]
    fn keeps_delimiters_and_line_ends_inside_dropped_quotes_out() {
        // The cut part of a quoted field holds delimiters and line ends: they are text, gone.
        let input = "\"abcdefgh,\n,\n,\",pass\nb,fail\n";
        let got = every_step(input, 4);
        assert_eq!(
            got,
            format!("\"abcd{}\",pass\nb,fail\n", truncation_marker(9))
        );
    }

    #[test]
    fn does_not_cut_inside_a_character() {
        let got = every_step("xxxéé,y", 4);
        assert_eq!(got, format!("xxxé{},y", truncation_marker(2)));
    }

    #[test]
    fn notes_multiline_fields_and_an_unclosed_quote() {
        let (_, c) = run("n,s\na,\"one\ntwo\"\nb,\"open\nc,d\n", 100, 7);
        assert_eq!(c.first_multiline, Some(2));
        assert_eq!(c.unclosed(), Some(4));
        let (_, c) = run("n,s\na,\"closed\"\n", 100, 3);
        assert_eq!((c.first_multiline, c.unclosed()), (None, None));
    }

    #[test]
    fn drops_the_rest_of_a_row_with_too_many_fields() {
        let wide = ",".repeat(MAX_FIELDS + 10);
        let (out, c) = run(&format!("a,b\n{wide}\nc,d\n"), 100, 4096);
        assert_eq!(c.too_wide, Some(2));
        assert_eq!(out, format!("a,b\n{}\nc,d\n", ",".repeat(MAX_FIELDS - 1)));
    }
}
