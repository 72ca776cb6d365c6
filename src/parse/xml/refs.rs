//! References: the predefined entities and character references, resolved; an undefined
//! entity kept as written and a reference to a character XML forbids replaced, each warned
//! about once per file. DTDs are never read.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::BytesRef;

use super::ctx::Ctx;
use super::source::Src;
use crate::cli;

/// What a reference stands for.
pub(super) enum Resolved<'a> {
    Str(&'static str),
    Char(char),
    Undefined(&'a str),
}

impl Ctx {
    pub(super) fn resolve<'a>(&mut self, name: &'a str, reader: &Src) -> Resolved<'a> {
        if let Some(s) = resolve_predefined_entity(name) {
            return Resolved::Str(s);
        }
        if name.starts_with('#') {
            return match BytesRef::new(name).resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => Resolved::Char(c),
                _ => {
                    self.illegal_ref(name, reader.position(self.start));
                    Resolved::Char('\u{FFFD}')
                }
            };
        }
        self.undefined_ref(name, reader.position(self.start));
        Resolved::Undefined(name)
    }

    fn illegal_ref(&mut self, name: &str, at: String) {
        self.illegal_refs += 1;
        if self.illegal_refs == 1 && !self.quiet {
            cli::warn(format_args!(
                "{at}: character reference &{name}; is not allowed in XML; replaced with U+FFFD"
            ));
        }
    }

    fn undefined_ref(&mut self, name: &str, at: String) {
        if !self.warned_refs && !self.quiet {
            self.warned_refs = true;
            cli::warn(format_args!(
                "{at}: undefined entity &{name}; kept as written (DTDs are never read)"
            ));
        }
    }
}

/// Whether XML 1.0 allows the character in a document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
