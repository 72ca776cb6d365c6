//! The stack of open suites that every nested-suite format keeps while streaming, and what it
//! gives each result: the suite path, the suite's start time, and the suite properties written
//! before the first test. These are shared (`Arc`) between the results of a suite, and rebuilt
//! only when the stack changes.

use std::sync::Arc;

use crate::record::{Property, TestResult};

struct Frame {
    depth: usize,
    name: String,
    start: Option<Arc<str>>,
    properties: Vec<Property>,
    seen_case: bool,
}

/// What the open suites give a result.
#[derive(Clone)]
pub(crate) struct Shared {
    /// Suite names, outer to inner.
    pub(crate) suites: Arc<[String]>,
    /// Properties of the suites, outer first.
    pub(crate) properties: Arc<[Property]>,
    /// The innermost suite start time.
    pub(crate) start: Option<Arc<str>>,
}

/// The open suites, innermost last.
#[derive(Default)]
pub(crate) struct SuiteStack {
    frames: Vec<Frame>,
    cache: Option<Shared>,
}

impl SuiteStack {
    /// Opens a suite whose content is at element depth `depth`.
    pub(crate) fn push(&mut self, depth: usize, name: String, start: Option<String>) {
        self.frames.push(Frame {
            depth,
            name,
            start: start.map(Arc::from),
            properties: Vec::new(),
            seen_case: false,
        });
        self.cache = None;
    }

    /// Closes the suites whose content was deeper than `depth`.
    pub(crate) fn close_to(&mut self, depth: usize) {
        while self.frames.last().is_some_and(|f| f.depth > depth) {
            self.frames.pop();
            self.cache = None;
        }
    }

    /// Closes the innermost suite.
    pub(crate) fn pop(&mut self) {
        self.frames.pop();
        self.cache = None;
    }

    /// True when no suite is open.
    pub(crate) fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The innermost suite's name.
    pub(crate) fn name(&self) -> Option<&str> {
        self.frames.last().map(|f| f.name.as_str())
    }

    /// True when the innermost suite has not yet had a test: its properties are still for
    /// every test that follows.
    pub(crate) fn before_first_case(&self) -> bool {
        self.frames.last().is_some_and(|f| !f.seen_case)
    }

    /// Adds properties to the innermost suite.
    pub(crate) fn add_properties(&mut self, props: Vec<Property>) {
        if let Some(f) = self.frames.last_mut() {
            f.properties.extend(props);
            self.cache = None;
        }
    }

    /// Notes that a test was seen in every open suite.
    pub(crate) fn saw_case(&mut self) {
        if self.frames.last().is_some_and(|f| !f.seen_case) {
            for f in &mut self.frames {
                f.seen_case = true;
            }
        }
    }

    /// The shared suite data, built once per change of the stack.
    pub(crate) fn shared(&mut self) -> Shared {
        if self.cache.is_none() {
            self.cache = Some(Shared {
                suites: self.frames.iter().map(|f| f.name.clone()).collect(),
                properties: self
                    .frames
                    .iter()
                    .flat_map(|f| f.properties.iter().cloned())
                    .collect(),
                start: self.frames.iter().rev().find_map(|f| f.start.clone()),
            });
        }
        self.cache.clone().expect("cache")
    }

    /// A new result of `format` from `report` carrying the suite data.
    pub(crate) fn result(&mut self, format: &'static str, report: &Arc<str>) -> TestResult {
        let s = self.shared();
        TestResult::in_suites(format, report, s.suites, s.properties, s.start)
    }
}

/// Reads a nested-suite document to its end: `open` is called for each element start, and the
/// suites close as their elements end. Every XML format with nested suites walks this way.
pub(crate) fn walk(
    doc: &mut crate::parse::xml::XmlDoc,
    suites: &mut SuiteStack,
    mut open: impl FnMut(
        &mut crate::parse::xml::XmlDoc,
        &mut SuiteStack,
        crate::parse::xml::Name,
        crate::parse::xml::Attrs,
        bool,
    ) -> crate::error::Result<()>,
) -> crate::error::Result<()> {
    use crate::parse::xml::{next_item, Item};
    loop {
        match next_item(doc, None)? {
            Item::Open { name, attrs, empty } => open(doc, suites, name, attrs, empty)?,
            Item::Close => {
                suites.close_to(doc.ctx.depth);
                if doc.ctx.depth == 0 {
                    return Ok(());
                }
            }
            Item::Eof => return Ok(()),
        }
    }
}
