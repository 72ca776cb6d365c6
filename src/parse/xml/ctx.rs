//! The state of a document that is not the reader or its buffer, so that it can be used
//! while an event borrows the buffer.

use super::pool::Pool;
use crate::parse::tokens::Span;

/// The state of a document that is not the reader or its buffer, so that it can be used while
/// an event borrows the buffer.
pub(crate) struct Ctx {
    /// The report's name in messages.
    pub(crate) name: String,
    /// The cap on one text field, in bytes.
    pub(crate) cap: usize,
    /// Open elements.
    pub(crate) depth: usize,
    /// Where the last event started, in the filtered stream.
    pub(crate) start: u64,
    pub(super) warned_refs: bool,
    pub(super) warned_dup: bool,
    pub(super) illegal_refs: u64,
    pub(super) quiet: bool,
    /// Buffers handed back after use, to be filled again.
    pub(crate) pool: Pool,
    /// Where a start tag's attributes are, when this thread splits them.
    pub(super) spans: Vec<Span>,
}

impl Ctx {
    /// The state at the start of document `name`, text capped at `cap` bytes.
    pub(super) fn new(name: &str, cap: usize) -> Ctx {
        Ctx {
            name: name.to_string(),
            cap,
            depth: 0,
            start: 0,
            warned_refs: false,
            warned_dup: false,
            illegal_refs: 0,
            quiet: false,
            pool: Pool::default(),
            spans: Vec::new(),
        }
    }
}
