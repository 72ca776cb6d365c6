//! Inflectra's `spira.cfg`, read as Python's configparser reads it: `[section]` headers,
//! `key = value` or `key: value` (the first `=` or `:` splits), `#` and `;` comments, keys in
//! lower case. The file is shared by two readers, each taking its own sections: the connection
//! ([`crate::config`]) takes `[credentials]`, spira-map takes `[test_cases]` and `[test_sets]`.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// One `key = value` line of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The key as written, trimmed (configparser compares keys in lower case).
    pub(crate) key: String,
    /// The value, trimmed.
    pub(crate) value: String,
    /// Its line in the file, from 1.
    pub(crate) line: usize,
}

/// A `spira.cfg`: its sections (names in lower case) and their entries, in file order.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpiraCfg {
    /// The file's name, for messages.
    path: String,
    sections: Vec<(String, Vec<Entry>)>,
}

impl SpiraCfg {
    /// Reads the text of `path`, which must be INI: every line is blank, a comment, a section
    /// header or `key = value` inside a section.
    pub(crate) fn read(path: &str, text: &str) -> Result<SpiraCfg> {
        let mut cfg = SpiraCfg {
            path: path.to_string(),
            sections: Vec::new(),
        };
        for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
            let line = i + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
                continue;
            }
            if let Some(name) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                cfg.sections.push((name.trim().to_lowercase(), Vec::new()));
                continue;
            }
            let Some((key, value)) = l.split_once(['=', ':']) else {
                let section = cfg.sections.last().map_or("", |s| s.0.as_str());
                return Err(Error::Usage(format!(
                    "{path}:{line}: expected key = value in [{section}]"
                )));
            };
            // Entries before any section belong to none the tools read.
            if cfg.sections.is_empty() {
                cfg.sections.push((String::new(), Vec::new()));
            }
            let Some((_, entries)) = cfg.sections.last_mut() else {
                continue;
            };
            entries.push(Entry {
                key: key.trim().to_string(),
                value: value.trim().to_string(),
                line,
            });
        }
        Ok(cfg)
    }

    /// Whether a text is a `spira.cfg`: it has one of the sections the tools read.
    pub(crate) fn looks_like(text: &str) -> bool {
        text.lines().any(|l| {
            let l = l.trim().to_lowercase();
            l == "[test_cases]" || l == "[credentials]" || l == "[test_sets]"
        })
    }

    /// The entries of every section named `name` (lower case), in file order.
    pub(crate) fn section<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.sections
            .iter()
            .filter(move |(n, _)| n == name)
            .flat_map(|(_, e)| e.iter())
    }

    /// Whether there is a section named `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.sections.iter().any(|(n, _)| n == name)
    }

    /// The `[credentials]` section. A key given twice is warned about, naming both lines, and
    /// the first is used (Python's configparser refuses the file).
    pub(crate) fn credentials(&self) -> Credentials {
        let mut values = HashMap::new();
        let mut lines: HashMap<String, usize> = HashMap::new();
        for e in self.section("credentials") {
            let key = e.key.to_lowercase();
            if let Some(first) = lines.get(&key) {
                crate::cli::warn(format_args!(
                    "{}:{}: [credentials] {} is given again (first on line {first}); the first is used",
                    self.path, e.line, e.key
                ));
                continue;
            }
            lines.insert(key.clone(), e.line);
            values.insert(key, e.value.clone());
        }
        Credentials { values }
    }
}

/// What a `spira.cfg` gives in `[credentials]`: the connection and spira-map's defaults
/// (`release_id`, `test_set_id`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Credentials {
    /// All keys of the section, lower-cased.
    pub(crate) values: HashMap<String, String>,
}

impl Credentials {
    /// A numeric value, such as `release_id`.
    pub(crate) fn id(&self, key: &str) -> Option<u64> {
        self.values
            .get(key)
            .and_then(|v| crate::record::test_case_id(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_as_configparser_does() {
        let text = "\u{feff}# comment\n[Credentials]\nurl = http://x\nToken: {A=B}\n; c\n[test_cases]\nA.b = 5\n[credentials]\nproject_id=3\n";
        let cfg = SpiraCfg::read("s.cfg", text).unwrap();
        let c = cfg.credentials();
        assert_eq!(c.values.get("url").map(String::as_str), Some("http://x"));
        assert_eq!(c.values.get("token").map(String::as_str), Some("{A=B}"));
        assert_eq!(c.id("project_id"), Some(3));
        let tc: Vec<_> = cfg
            .section("test_cases")
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(tc, [("A.b", "5", 7)]);
        assert!(SpiraCfg::looks_like(text) && cfg.has("test_cases") && !cfg.has("test_sets"));
        let e = SpiraCfg::read("s.cfg", "[credentials]\nurl\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.cfg:2: expected key = value in [credentials]"
        );
        let before = SpiraCfg::read("s.cfg", "url = x\n[credentials]\n").unwrap();
        assert!(
            before.credentials().values.is_empty(),
            "an entry before any section is in none"
        );
    }
}
