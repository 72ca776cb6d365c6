//! Map files: which Spira test case (and test set) a test is. Four forms, told apart by their
//! content: CSV `key,test_case_id[,test_set_id][,test_set_name]`, a JSON object, Inflectra's
//! `spira.cfg` (INI), and a test-case list `test_case_id,name` (what spira-ids writes) read with
//! `--match name`. A test set given by name is looked up by the tool (through `names`) after
//! loading, with [`MapFile::name_test_sets`].

use std::collections::HashMap;

use regex::Regex;

use crate::config::spira_cfg::{Credentials, SpiraCfg};
use crate::error::{Error, Result};
use crate::record::test_case_id;

/// What a map entry gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Target {
    /// The test case, if the entry names one (a suite entry names only a test set).
    pub(crate) test_case: Option<u64>,
    /// The test set, if given.
    pub(crate) test_set: Option<u64>,
}

/// A key and what it maps to; globs keep file order.
struct Keyed {
    exact: HashMap<String, Target>,
    globs: Vec<(Regex, Target)>,
    /// Where each key (in lower case) was first given, for the warning about a second one.
    seen: HashMap<String, String>,
}

impl Keyed {
    fn new() -> Keyed {
        Keyed {
            exact: HashMap::new(),
            globs: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Adds an entry given at `at` (`FILE:LINE`). The first of equal keys (compared in lower
    /// case) wins, in every form of map file, and a second one is warned about, naming both
    /// places. `Err` says why a glob cannot be used.
    fn insert(&mut self, key: &str, t: Target, at: String) -> std::result::Result<bool, String> {
        let k = key.trim().to_lowercase();
        if let Some(first) = self.seen.get(&k) {
            crate::cli::warn(format_args!(
                "map file {at}: \"{}\" is given again (first at {first}); the first is used",
                key.trim()
            ));
            return Ok(false);
        }
        if k.contains(['*', '?']) {
            let re = glob(&k)
                .map_err(|e| format!("the pattern \"{}\" cannot be used: {e}", key.trim()))?;
            self.globs.push((re, t));
        } else {
            self.exact.insert(k.clone(), t);
        }
        self.seen.insert(k, at);
        Ok(true)
    }

    /// Sets the test set of the entry whose key (in lower case) is `k`.
    fn set_test_set(&mut self, k: &str, id: u64) {
        if let Some(t) = self.exact.get_mut(k) {
            t.test_set = Some(id);
        } else if let Ok(re) = glob(k) {
            for (g, t) in &mut self.globs {
                if g.as_str() == re.as_str() {
                    t.test_set = Some(id);
                }
            }
        }
    }

    /// Exact keys first, in the order of `candidates`; then the first glob in file order that
    /// matches any candidate.
    fn lookup(&self, candidates: &[&str]) -> Option<Target> {
        let lower: Vec<String> = candidates.iter().map(|c| c.to_lowercase()).collect();
        for c in &lower {
            if let Some(t) = self.exact.get(c) {
                return Some(*t);
            }
        }
        self.globs
            .iter()
            .find(|(g, _)| lower.iter().any(|c| g.is_match(c)))
            .map(|(_, t)| *t)
    }
}

/// An entry whose test set is given by name.
struct NamedSet {
    suite: bool,
    /// The key, in lower case.
    key: String,
    name: String,
    /// `FILE:LINE`.
    at: String,
}

/// A loaded map file.
pub(crate) struct MapFile {
    tests: Keyed,
    suites: Keyed,
    /// `--match name`: test case names (lower case) to IDs.
    names: Option<HashMap<String, u64>>,
    /// From a `spira.cfg`.
    pub(crate) credentials: Option<Credentials>,
    /// Entries whose test set is given by name.
    named_sets: Vec<NamedSet>,
}

impl MapFile {
    /// Reads a map file. `by_name` reads a `test_case_id,name` list for `--match name`.
    pub(crate) fn load(path: &str, by_name: bool) -> Result<MapFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Usage(format!(
                "cannot open map file '{path}': {}",
                crate::cli::io_reason(&e)
            ))
        })?;
        let text = text.trim_start_matches('\u{feff}');
        let mut m = MapFile {
            tests: Keyed::new(),
            suites: Keyed::new(),
            names: None,
            credentials: None,
            named_sets: Vec::new(),
        };
        let first = text.trim_start();
        if by_name {
            m.names = Some(read_name_list(path, text)?);
        } else if first.starts_with('{') {
            read_json(path, text, &mut m)?;
        } else if SpiraCfg::looks_like(text) {
            read_cfg(path, text, &mut m)?;
        } else {
            read_csv(path, text, &mut m)?;
        }
        Ok(m)
    }

    /// The entry for a test: by `classname.name`, then `name`; with `--match name`, the test
    /// case whose name equals the test's name.
    pub(crate) fn test(&self, classname: Option<&str>, name: Option<&str>) -> Option<Target> {
        if let Some(names) = &self.names {
            let n = name?.to_lowercase();
            return names.get(&n).map(|&id| Target {
                test_case: Some(id),
                test_set: None,
            });
        }
        // The key (`classname.name`), then the name alone.
        let full = key(classname, name);
        let mut candidates: Vec<&str> = full.as_deref().into_iter().collect();
        if let Some(n) = name.filter(|_| classname.is_some_and(|c| !c.is_empty())) {
            candidates.push(n);
        }
        self.tests
            .lookup(&candidates)
            .filter(|t| t.test_case.is_some())
    }

    /// The test set names the entries give, each once, in file order.
    pub(crate) fn test_set_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for n in &self.named_sets {
            if !out.contains(&n.name.as_str()) {
                out.push(&n.name);
            }
        }
        out
    }

    /// Gives the entries that name a test set its ID, as `id_of` finds it (each name once).
    pub(crate) fn name_test_sets(
        &mut self,
        mut id_of: impl FnMut(&str) -> Result<u64>,
    ) -> Result<()> {
        let mut found: HashMap<String, u64> = HashMap::new();
        for n in std::mem::take(&mut self.named_sets) {
            let id = match found.get(&n.name) {
                Some(id) => *id,
                None => {
                    let id = id_of(&n.name).map_err(|e| match e {
                        Error::Usage(why) => {
                            Error::Usage(format!("map file {}: test_set_name: {why}", n.at))
                        }
                        other => other,
                    })?;
                    found.insert(n.name, id);
                    id
                }
            };
            let keyed = if n.suite {
                &mut self.suites
            } else {
                &mut self.tests
            };
            keyed.set_test_set(&n.key, id);
        }
        Ok(())
    }

    /// The test set for a suite (the innermost enclosing suite's name).
    pub(crate) fn suite(&self, suite: &str) -> Option<u64> {
        self.suites.lookup(&[suite]).and_then(|t| t.test_set)
    }
}

/// A glob as a regex: `*` any run, `?` one character, everything else literal (`[` too:
/// pytest names contain it).
fn glob(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    let mut re = String::with_capacity(pattern.len() + 8);
    re.push_str("(?s)^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push('$');
    Regex::new(&re)
}

fn id_or_error(path: &str, line: usize, what: &str, v: &str) -> Result<u64> {
    test_case_id(v).ok_or_else(|| {
        Error::Usage(format!(
            "map file {path}:{line}: {what} \"{v}\" is not an ID (write 123 or TC:123)"
        ))
    })
}

/// A CSV map file's reader and its header, trimmed and in lower case.
fn csv_with_headers<'t>(path: &str, text: &'t str) -> Result<(csv::Reader<&'t [u8]>, Vec<String>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::Usage(format!("map file {path}: {e}")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    Ok((rdr, headers))
}

fn read_csv(path: &str, text: &str, m: &mut MapFile) -> Result<()> {
    let (mut rdr, headers) = csv_with_headers(path, text)?;
    let col = |n: &str| headers.iter().position(|h| h == n);
    let (Some(k), Some(tc)) = (col("key"), col("test_case_id")) else {
        return Err(Error::Usage(format!(
            "map file {path}:1: expected a header key,test_case_id[,test_set_id][,test_set_name] (found: {}); a test-case list test_case_id,name needs --match name",
            headers.join(",")
        )));
    };
    let ts = col("test_set_id");
    let tsn = col("test_set_name");
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| Error::Usage(format!("map file {path}:{line}: {e}")))?;
        let key = rec.get(k).unwrap_or("").trim();
        if key.is_empty() {
            continue;
        }
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let t = Target {
            test_case: get(Some(tc))
                .map(|v| id_or_error(path, line, "test_case_id", v))
                .transpose()?,
            test_set: get(ts)
                .map(|v| id_or_error(path, line, "test_set_id", v))
                .transpose()?,
        };
        let set_name = get(tsn).map(str::to_string);
        add(m, key, t, set_name, || format!("{path}:{line}"))?;
    }
    Ok(())
}

/// An entry with only a test set (an ID or a name) is a suite entry; `at` says where it is,
/// for an error.
fn add(
    m: &mut MapFile,
    key: &str,
    t: Target,
    set_name: Option<String>,
    at: impl FnOnce() -> String,
) -> Result<()> {
    let at = at();
    if t.test_set.is_some() && set_name.is_some() {
        return Err(Error::Usage(format!(
            "map file {at}: \"{}\" gives both test_set_id and test_set_name: give one",
            key.trim()
        )));
    }
    let suite = t.test_case.is_none();
    let keyed = if suite { &mut m.suites } else { &mut m.tests };
    let added = keyed
        .insert(key, t, at.clone())
        .map_err(|why| Error::Usage(format!("map file {at}: {why}")))?;
    if let Some(name) = set_name.filter(|_| added) {
        m.named_sets.push(NamedSet {
            suite,
            key: key.trim().to_lowercase(),
            name,
            at,
        });
    }
    Ok(())
}

fn read_json(path: &str, text: &str, m: &mut MapFile) -> Result<()> {
    let Entries(obj) = serde_json::from_str(text).map_err(|e| {
        Error::Usage(format!(
            "map file {path}:{}:{}: not valid JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let mut lines = key_lines(text).into_iter();
    let id = |key: &str, what: &str, v: &serde_json::Value| -> Result<Option<u64>> {
        match v {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::Number(n) => n.as_u64().filter(|&n| n > 0).map(Some).ok_or(()),
            serde_json::Value::String(s) => test_case_id(s).map(Some).ok_or(()),
            _ => Err(()),
        }
        .map_err(|()| {
            Error::Usage(format!(
                "map file {path}: \"{key}\": {what} {v} is not an ID"
            ))
        })
    };
    for (key, val) in obj {
        let key = key.as_str();
        let set_name = match val.get("test_set_name") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                Some(s.trim().to_string())
            }
            Some(v) => {
                return Err(Error::Usage(format!(
                    "map file {path}: \"{key}\": test_set_name {v} is not a name"
                )))
            }
        };
        let t = match &val {
            serde_json::Value::Object(o) => Target {
                test_case: o
                    .get("test_case_id")
                    .map(|v| id(key, "test_case_id", v))
                    .transpose()?
                    .flatten(),
                test_set: o
                    .get("test_set_id")
                    .map(|v| id(key, "test_set_id", v))
                    .transpose()?
                    .flatten(),
            },
            other => Target {
                test_case: id(key, "test_case_id", other)?,
                test_set: None,
            },
        };
        let line = lines.next().unwrap_or(0);
        add(m, key, t, set_name, || format!("{path}:{line}"))?;
    }
    Ok(())
}

/// A JSON map file's top-level object, every entry in file order, a repeated key included
/// (`serde_json::Value` would keep only the last).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Entries, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = map.next_entry()? {
                    v.push(e);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// The line of each key of the top-level object of valid JSON `text`, in order: a string at
/// depth 1 followed by `:`.
fn key_lines(text: &str) -> Vec<usize> {
    let (mut lines, mut line, mut depth) = (Vec::new(), 1, 0usize);
    let mut bytes = text.bytes().peekable();
    let mut string_line = None;
    while let Some(b) = bytes.next() {
        match b {
            b'\n' => line += 1,
            b'"' => {
                let start = line;
                while let Some(c) = bytes.next() {
                    match c {
                        b'\\' => {
                            bytes.next();
                        }
                        b'"' => break,
                        _ => {}
                    }
                }
                string_line = (depth == 1).then_some(start);
                continue;
            }
            b':' => {
                if let Some(l) = string_line {
                    lines.push(l);
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            string_line = None;
        }
    }
    lines
}

/// Inflectra's `spira.cfg`: its `[test_cases]` and `[test_sets]` sections, and the defaults of
/// its `[credentials]` (the connection reads the rest of that section).
fn read_cfg(path: &str, text: &str, m: &mut MapFile) -> Result<()> {
    let cfg = SpiraCfg::read(path, text).map_err(|e| Error::Usage(format!("map file {e}")))?;
    for e in cfg.section("test_cases") {
        let id = id_or_error(path, e.line, "test case", &e.value)?;
        let t = Target {
            test_case: Some(id),
            test_set: None,
        };
        add(m, &e.key, t, None, || format!("{path}:{}", e.line))?;
    }
    for e in cfg.section("test_sets") {
        let id = id_or_error(path, e.line, "test set", &e.value)?;
        let t = Target {
            test_case: None,
            test_set: Some(id),
        };
        add(m, &e.key, t, None, || format!("{path}:{}", e.line))?;
    }
    m.credentials = Some(cfg.credentials());
    Ok(())
}

/// A `test_case_id,name` list (spira-ids' output): names compared case-insensitively.
fn read_name_list(path: &str, text: &str) -> Result<HashMap<String, u64>> {
    let (mut rdr, headers) = csv_with_headers(path, text)?;
    let (Some(idc), Some(namec)) = (
        headers.iter().position(|h| h == "test_case_id"),
        headers.iter().position(|h| h == "name"),
    ) else {
        return Err(Error::Usage(format!(
            "map file {path}:1: --match name needs a header test_case_id,name (found: {})",
            headers.join(",")
        )));
    };
    let mut out = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| Error::Usage(format!("map file {path}:{line}: {e}")))?;
        let id = id_or_error(
            path,
            line,
            "test_case_id",
            rec.get(idc).unwrap_or("").trim(),
        )?;
        let name = rec.get(namec).unwrap_or("").trim().to_lowercase();
        out.entry(name).or_insert(id);
    }
    Ok(out)
}

/// The key a test is known by in a map file: `classname.name`, or `name` where there is no
/// classname (or the classname where there is no name).
pub(crate) fn key(classname: Option<&str>, name: Option<&str>) -> Option<String> {
    match (classname, name) {
        (Some(c), Some(n)) if !c.is_empty() => Some(format!("{c}.{n}")),
        (_, Some(n)) => Some(n.to_string()),
        (Some(c), None) if !c.is_empty() => Some(c.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = |p: &str, t: &str| glob(p).unwrap().is_match(t);
        assert!(g("tests.*", "tests.test_a"));
        assert!(g("test_?", "test_1"));
        assert!(!g("test_?", "test_12"));
        assert!(g("*[a-1]", "test_x[a-1]"));
        assert!(!g("*[ab]", "test_a"));
        assert!(g("a*b*c", "axxbyyc"));
        assert!(!g("a.c", "abc"), "a dot is a dot");
        assert!(g("é?*", "éé\n"), "any character, a line end too");
        assert!(!g("a*b", "a\nc"));
    }

    #[test]
    fn exact_beats_glob_and_first_glob_wins() {
        let mut k = Keyed::new();
        for (key, tc) in [("tests.*", 1), ("tests.a*", 2), ("Tests.Alpha", 3)] {
            let t = Target {
                test_case: Some(tc),
                test_set: None,
            };
            k.insert(key, t, String::new()).unwrap();
        }
        assert_eq!(k.lookup(&["tests.alpha"]).unwrap().test_case, Some(3));
        assert_eq!(k.lookup(&["tests.another"]).unwrap().test_case, Some(1));
        assert_eq!(k.lookup(&["other"]), None);
    }
}
