//! Text: a field gathered across Text, CDATA and reference events, capped at a number of
//! bytes with a visible marker.

use quick_xml::events::Event;

use super::ctx::Ctx;
use super::pool::Pool;
use super::refs::Resolved;
use super::source::Src;
use crate::parse::input::truncation_marker;

impl Ctx {
    /// Resolves a reference into `out`: predefined entities and character references. An
    /// undefined entity is kept as written, with a warning; a reference to a character XML
    /// forbids becomes U+FFFD, with a warning.
    pub(crate) fn push_ref(&mut self, name: &str, out: &mut Text, reader: &Src) {
        match self.resolve(name, reader) {
            Resolved::Str(s) => out.push(s),
            Resolved::Char(c) => out.push(c.encode_utf8(&mut [0u8; 4])),
            Resolved::Undefined(n) => out.push_ref_raw(n),
        }
    }
}

/// A text field being gathered, capped at a number of bytes with a visible marker.
pub(crate) struct Text {
    s: String,
    cap: usize,
    omitted: u64,
}

/// Room left past the cap for the filter's own marker, so a run it already cut passes whole.
const MARKER_SLACK: usize = 64;

impl Text {
    /// An empty field capped at `cap` bytes.
    pub(crate) fn new(cap: usize) -> Text {
        Text::in_buffer(String::new(), cap)
    }

    /// An empty field capped at `cap` bytes, gathered in `s` (emptied first).
    pub(crate) fn in_buffer(mut s: String, cap: usize) -> Text {
        s.clear();
        Text {
            s,
            cap: cap + MARKER_SLACK,
            omitted: 0,
        }
    }

    /// Appends `t`, cutting at the cap on a character boundary.
    pub(crate) fn push(&mut self, t: &str) {
        if self.omitted > 0 {
            self.omitted += t.len() as u64;
            return;
        }
        if self.s.is_empty() {
            // Text usually comes in pieces (references between them): room for a few.
            self.s.reserve(t.len().max(256).min(self.cap));
        }
        let room = self.cap.saturating_sub(self.s.len());
        if t.len() <= room {
            self.s.push_str(t);
            return;
        }
        let mut cut = room.saturating_sub(MARKER_SLACK);
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        self.s.push_str(&t[..cut]);
        self.omitted = (t.len() - cut) as u64;
    }

    /// Appends a reference kept as written: `&name;`.
    pub(crate) fn push_ref_raw(&mut self, name: &str) {
        self.push("&");
        self.push(name);
        self.push(";");
    }

    /// The gathered text with the marker if it was cut; `None` when empty.
    pub(crate) fn finish(mut self) -> Option<String> {
        if self.omitted > 0 {
            self.s.push_str(&truncation_marker(self.omitted));
        }
        if self.s.is_empty() {
            None
        } else {
            Some(self.s)
        }
    }

    /// [`Text::finish`], handing the buffer back to `pool` when there is no text.
    pub(crate) fn finish_pooled(self, pool: &mut Pool) -> Option<String> {
        if self.s.is_empty() && self.omitted == 0 {
            pool.give(self.s);
            return None;
        }
        self.finish()
    }
}

/// Adds a text-like event (Text, CDATA, reference) to `out`; returns false for other events.
pub(crate) fn gather(ev: &Event<'_>, out: &mut Text, ctx: &mut Ctx, reader: &Src) -> bool {
    match ev {
        Event::Text(t) => out.push(&t.xml10_content()),
        Event::CData(t) => out.push(&t.xml10_content()),
        Event::GeneralRef(r) => ctx.push_ref(r, out, reader),
        _ => return false,
    }
    true
}
