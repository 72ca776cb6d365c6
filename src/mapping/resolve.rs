//! Which test case a result is: an ID property, then an ID token in its tags, then in its
//! name, then the map file, then `--default-test-case`.

use regex::Regex;

use super::mapfile::MapFile;
use crate::error::Result;
use crate::record::test_case_id;

/// Where a result's test case IDs came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    Property,
    /// An ID token in a tag (a `tag` property).
    Tag,
    /// An ID token in the name or classname.
    Token,
    Map,
    Default,
}

/// The test case IDs of a result, each with the test set its map entry gives.
pub(crate) type Ids = Vec<(u64, Option<u64>)>;

/// What of a test decides its test case: borrowed from whatever line it was read from.
pub(crate) struct Test<'a> {
    pub(crate) classname: Option<&'a str>,
    pub(crate) name: Option<&'a str>,
    /// The result's own `test_case_id`.
    pub(crate) test_case_id: Option<u64>,
    /// Its properties, name and value.
    pub(crate) properties: Vec<(&'a str, &'a str)>,
}

/// What resolves test case IDs.
pub(crate) struct Resolver {
    /// The map file, if any.
    pub(super) map: Option<MapFile>,
    /// Property names that hold an ID, in lower case.
    pub(super) id_props: Vec<String>,
    /// An ID token in a name.
    pub(super) pattern: Regex,
    /// `--default-test-case`.
    pub(super) default: Option<u64>,
}

impl Resolver {
    /// The test set names the map file gives, each once.
    pub(crate) fn test_set_names(&self) -> Vec<&str> {
        self.map
            .as_ref()
            .map(MapFile::test_set_names)
            .unwrap_or_default()
    }

    /// Gives the map file's entries that name a test set its ID, as `id_of` finds it.
    pub(crate) fn name_test_sets(&mut self, id_of: impl FnMut(&str) -> Result<u64>) -> Result<()> {
        match self.map.as_mut() {
            Some(m) => m.name_test_sets(id_of),
            None => Ok(()),
        }
    }

    /// The test case IDs of a result and where they came from: properties, then tokens in its
    /// tags (`tag` properties), then in its name, then the map file, then the default. None at
    /// all: unmapped.
    pub(crate) fn test_cases(&self, r: &Test<'_>) -> (Ids, Source) {
        let mut ids: Vec<u64> = Vec::new();
        let push = |ids: &mut Vec<u64>, id: u64| {
            if !ids.contains(&id) {
                ids.push(id);
            }
        };
        ids.extend(r.test_case_id);
        for (name, value) in &r.properties {
            if self.id_props.iter().any(|n| name.eq_ignore_ascii_case(n)) {
                if let Some(id) = test_case_id(value) {
                    push(&mut ids, id);
                }
            }
        }
        if !ids.is_empty() {
            return (
                ids.into_iter().map(|i| (i, None)).collect(),
                Source::Property,
            );
        }
        for (_, tag) in r
            .properties
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("tag"))
        {
            self.tokens(tag, &mut |id| push(&mut ids, id));
        }
        if !ids.is_empty() {
            return (ids.into_iter().map(|i| (i, None)).collect(), Source::Tag);
        }
        for text in [r.name, r.classname].into_iter().flatten() {
            self.tokens(text, &mut |id| push(&mut ids, id));
        }
        if !ids.is_empty() {
            return (ids.into_iter().map(|i| (i, None)).collect(), Source::Token);
        }
        let mapped = self.map.as_ref().and_then(|m| m.test(r.classname, r.name));
        if let Some(tc) = mapped.and_then(|t| t.test_case.map(|tc| (tc, t.test_set))) {
            return (vec![tc], Source::Map);
        }
        (
            self.default.map(|d| (d, None)).into_iter().collect(),
            Source::Default,
        )
    }

    /// The IDs the pattern finds in `text`: the first group (or the whole match), its digits.
    fn tokens(&self, text: &str, push: &mut impl FnMut(u64)) {
        // Most names hold no ID: the plain match test is much cheaper than captures.
        if !self.pattern.is_match(text) {
            return;
        }
        for c in self.pattern.captures_iter(text) {
            let m = c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str());
            let digits: String = m.chars().filter(char::is_ascii_digit).collect();
            if let Some(id) = digits.parse().ok().filter(|&n: &u64| n > 0) {
                push(id);
            }
        }
    }

    /// The test set a map file gives the innermost suite, if any.
    pub(crate) fn suite_set(&self, suites: &[impl AsRef<str>]) -> Option<u64> {
        let last = suites.last()?;
        self.map.as_ref()?.suite(last.as_ref())
    }
}
