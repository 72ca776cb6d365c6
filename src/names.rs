//! Names to IDs: a release by its version number, a test set by its name, an automation host by
//! its name (created when missing), a test-run custom property by its name and a value by its
//! list value's name. Each list is read once per process and kept; a name that matches nothing
//! is a usage error (exit 2) naming the closest few, a server that fails an `Error::Server`
//! (exit 3). The tools that take names use this module; none resolves names itself.

use serde_json::{json, Value};

use crate::client::{call, pages, PAGE};
use crate::config::{Auth, Connection, ConnectionArgs};
use crate::error::{Error, Result};
use crate::record::CustomProperty;

/// Spira's custom property types (`CustomPropertyTypeId`).
const TYPES: [(u64, &str); 12] = [
    (1, "text"),
    (2, "integer"),
    (3, "decimal"),
    (4, "boolean"),
    (5, "date"),
    (6, "list"),
    (7, "multi-list"),
    (8, "user"),
    (9, "password"),
    (10, "release"),
    (11, "date and time"),
    (12, "automation host"),
];

/// The name of a custom property type (`CustomPropertyTypeId`).
pub(crate) fn type_name(id: Option<u64>) -> &'static str {
    TYPES
        .iter()
        .find(|(k, _)| Some(*k) == id)
        .map_or("unknown", |(_, n)| n)
}

/// The resolver of one process.
pub(crate) struct Names {
    agent: ureq::Agent,
    conn: Connection,
    auth: Auth,
    base: String,
    releases: Option<Vec<Value>>,
    test_sets: Option<Vec<Value>>,
    hosts: Option<Vec<Value>>,
    properties: Option<Vec<Value>>,
}

impl Names {
    /// Connects as `args` say (the key from the environment or a file, as for spira-post).
    pub(crate) fn connect(args: &ConnectionArgs) -> Result<Names> {
        let conn = args.resolve()?;
        Ok(Names {
            agent: args.agent()?,
            base: conn.project_base(args.api_version),
            auth: args.auth,
            conn,
            releases: None,
            test_sets: None,
            hosts: None,
            properties: None,
        })
    }

    fn get(&self, url: &str) -> Result<Vec<Value>> {
        let text = call(&self.agent, &self.conn, self.auth, url, None)?;
        self.array(url, &text)
    }

    fn array(&self, url: &str, text: &str) -> Result<Vec<Value>> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(a)) => Ok(a),
            _ => Err(Error::Server(format!(
                "the answer from {} is not a JSON array",
                self.conn.redact(url)
            ))),
        }
    }

    /// Every page of a list whose URL (and body) `page` makes from a starting row.
    fn pages(&self, page: impl Fn(usize) -> (String, Option<String>)) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let conn = &self.conn;
        let bad = |url: &str, _| {
            Error::Server(format!(
                "the answer from {} is not a JSON array",
                conn.redact(url)
            ))
        };
        pages(&self.agent, conn, self.auth, page, bad, |got| {
            out.extend(got);
            Ok(())
        })?;
        Ok(out)
    }

    /// Every release and iteration (`POST releases/search` with no filter, paged).
    pub(crate) fn releases(&mut self) -> Result<&[Value]> {
        if self.releases.is_none() {
            let base = self.base.clone();
            let list = self.pages(|row| {
                (
                    format!("{base}/releases/search?start_row={row}&number_rows={PAGE}"),
                    Some("[]".to_string()),
                )
            })?;
            self.releases = Some(list);
        }
        Ok(self.releases.as_deref().unwrap_or_default())
    }

    /// The release or iteration whose `VersionNumber` is exactly `version`.
    pub(crate) fn release(&mut self, version: &str) -> Result<u64> {
        let project = self.conn.project;
        let list = self.releases()?;
        let hits = ids_where(list, "ReleaseId", |r| {
            text(r, "VersionNumber") == Some(version)
        });
        one(
            hits,
            || {
                let versions: Vec<&str> = list
                    .iter()
                    .filter_map(|r| text(r, "VersionNumber"))
                    .collect();
                format!(
                "no release or iteration has the version number '{version}' (VersionNumber of every release and iteration of project PR:{project}, compared exactly){}",
                closest(version, &versions)
            )
            },
            "releases",
            "version number",
            version,
        )
    }

    /// Every test set (`GET test-sets`, paged).
    pub(crate) fn test_sets(&mut self) -> Result<&[Value]> {
        if self.test_sets.is_none() {
            let base = self.base.clone();
            let list = self.pages(|row| {
                (
                    format!("{base}/test-sets?starting_row={row}&number_of_rows={PAGE}"),
                    None,
                )
            })?;
            self.test_sets = Some(list);
        }
        Ok(self.test_sets.as_deref().unwrap_or_default())
    }

    /// The test set named exactly `name`.
    pub(crate) fn test_set(&mut self, name: &str) -> Result<u64> {
        let project = self.conn.project;
        let list = self.test_sets()?;
        let hits = ids_where(list, "TestSetId", |s| text(s, "Name") == Some(name));
        one(
            hits,
            || {
                let names: Vec<&str> = list.iter().filter_map(|s| text(s, "Name")).collect();
                format!(
                "no test set of project PR:{project} is named '{name}' (Name, compared exactly){}",
                closest(name, &names)
            )
            },
            "test sets",
            "name",
            name,
        )
    }

    /// Every automation host (`GET automation-hosts`).
    pub(crate) fn hosts(&mut self) -> Result<&[Value]> {
        if self.hosts.is_none() {
            let list = self.get(&format!("{}/automation-hosts", self.base))?;
            self.hosts = Some(list);
        }
        Ok(self.hosts.as_deref().unwrap_or_default())
    }

    /// The automation host named `name` or holding its token ([`token`]); created when there
    /// is none. Two processes creating it at once: the token is unique, so the second creation
    /// is refused and the host is read again by its token.
    pub(crate) fn automation_host(&mut self, name: &str) -> Result<u64> {
        let tok = token(name);
        let find = |list: &[Value]| {
            let by_name = ids_where(list, "AutomationHostId", |h| text(h, "Name") == Some(name));
            let by_token = ids_where(list, "AutomationHostId", |h| {
                text(h, "Token") == Some(tok.as_str())
            });
            by_name
                .into_iter()
                .min()
                .or_else(|| by_token.into_iter().min())
        };
        if let Some(id) = find(self.hosts()?) {
            return Ok(id);
        }
        let body = json!({
            "Name": name, "Token": tok, "Active": true, "ProjectId": self.conn.project,
            "Description": "created by spira-pipe for a CI agent",
        })
        .to_string();
        let url = format!("{}/automation-hosts", self.base);
        let created = call(&self.agent, &self.conn, self.auth, &url, Some(&body));
        self.hosts = None;
        let mine = created.as_ref().ok().and_then(|text| {
            serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("AutomationHostId").and_then(Value::as_u64))
        });
        if let Some(id) = mine {
            crate::cli::info(format_args!(
                "created automation host AH:{id} '{}' (token {tok})",
                crate::cli::printable(name)
            ));
        }
        // Read again: another process may have created one too (the lowest ID is taken, as
        // every process takes it), or taken the token first (ours was refused).
        match (find(self.hosts()?), mine) {
            (Some(id), Some(m)) if id != m => {
                crate::cli::warn(format_args!(
                    "automation host AH:{m} '{}' is left unused: another process created AH:{id} at the same time",
                    crate::cli::printable(name)
                ));
                Ok(id)
            }
            (Some(id), _) | (None, Some(id)) => Ok(id),
            (None, None) => Err(created.err().unwrap_or_else(|| {
                Error::Server(format!(
                    "the automation host '{}' was created, but the answer has no AutomationHostId",
                    crate::cli::printable(name)
                ))
            })),
        }
    }

    /// The test-run custom property definitions of the project's template.
    pub(crate) fn properties(&mut self) -> Result<&[Value]> {
        if self.properties.is_none() {
            let project = call(&self.agent, &self.conn, self.auth, &self.base, None)?;
            let template = serde_json::from_str::<Value>(&project)
                .ok()
                .and_then(|p| p.get("ProjectTemplateId").and_then(Value::as_u64))
                .ok_or_else(|| {
                    Error::Server(format!(
                        "project PR:{} has no ProjectTemplateId in its answer",
                        self.conn.project
                    ))
                })?;
            let root = self.base.rsplit_once("/projects/").map_or("", |(r, _)| r);
            let url = format!("{root}/project-templates/{template}/custom-properties/TestRun");
            let list = self.get(&url)?;
            self.properties = Some(list);
        }
        Ok(self.properties.as_deref().unwrap_or_default())
    }

    /// `NAME=VALUE` for the custom property named NAME: the value read as its type says, a
    /// list value (or, for a multi-list, values split on commas) by its name.
    pub(crate) fn custom_property(&mut self, name: &str, value: &str) -> Result<CustomProperty> {
        let project = self.conn.project;
        let list = self.properties()?;
        let defs: Vec<&Value> = list
            .iter()
            .filter(|p| text(p, "Name") == Some(name))
            .collect();
        let def = match defs.as_slice() {
            [d] => *d,
            [] => {
                let names: Vec<&str> = list.iter().filter_map(|p| text(p, "Name")).collect();
                return Err(Error::Usage(format!(
                    "no test-run custom property of project PR:{project} is named '{name}' (Name, compared exactly){}",
                    closest(name, &names)
                )));
            }
            _ => {
                return Err(Error::Usage(format!(
                    "{} test-run custom properties are named '{name}': give its number instead (--custom-property NUM=VALUE)",
                    defs.len()
                )))
            }
        };
        typed(def, name, value)
    }
}

/// A value of the custom property `def`, checked against its type.
fn typed(def: &Value, name: &str, value: &str) -> Result<CustomProperty> {
    let number = def
        .get("PropertyNumber")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            Error::Server(format!(
                "the custom property '{name}' has no PropertyNumber"
            ))
        })?;
    let kind = def
        .get("CustomPropertyTypeId")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let kind_name = type_name(Some(kind));
    let article = if kind_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let bad = |what: &str| {
        Error::Usage(format!(
            "--custom-property {name}={value}: '{name}' is {article} {kind_name} property, and '{value}' is not {what}"
        ))
    };
    let mut p = CustomProperty {
        property_number: number,
        ..CustomProperty::default()
    };
    let v = value.trim();
    match kind {
        1 | 9 => p.string_value = Some(value.to_string()),
        2 | 8 | 10 | 12 => p.integer_value = Some(v.parse().map_err(|_| bad("an integer"))?),
        3 => {
            p.decimal_value = Some(
                v.parse()
                    .ok()
                    .filter(|d: &f64| d.is_finite())
                    .ok_or_else(|| bad("a number"))?,
            )
        }
        4 => {
            p.boolean_value = Some(match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => true,
                "false" | "no" | "n" | "0" => false,
                _ => return Err(bad("true or false")),
            })
        }
        5 | 11 => {
            let at = crate::date::parse_any(v).ok_or_else(|| bad("a date (ISO 8601)"))?;
            p.date_time_value = Some(crate::date::format_iso(at));
        }
        6 => p.integer_value = Some(list_value(def, name, v)?),
        7 => {
            let ids: Result<Vec<i64>> = v
                .split(',')
                .map(|x| list_value(def, name, x.trim()))
                .collect();
            p.integer_list_value = Some(ids?);
        }
        _ => return Err(bad("a value spira-pipe can set")),
    }
    Ok(p)
}

/// The ID of the value named `value` of a list property.
fn list_value(def: &Value, name: &str, value: &str) -> Result<i64> {
    let values: Vec<&Value> = def
        .pointer("/CustomList/Values")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let hit = values
        .iter()
        .find(|x| text(x, "Name") == Some(value))
        .and_then(|x| x.get("CustomPropertyValueId").and_then(Value::as_i64));
    hit.ok_or_else(|| {
        let names: Vec<&str> = values.iter().filter_map(|x| text(x, "Name")).collect();
        Error::Usage(format!(
            "--custom-property {name}={value}: the list of '{name}' has no value named '{value}' (its values: {})",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        ))
    })
}

/// The token of an automation host made from its name: ASCII letters and digits kept (lower
/// case), every other run of characters one `-`, at most 50 characters; `host` when nothing
/// is left.
pub(crate) fn token(name: &str) -> String {
    let mut t = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            t.push(c.to_ascii_lowercase());
        } else if !t.is_empty() && !t.ends_with('-') {
            t.push('-');
        }
    }
    let t: String = t.trim_end_matches('-').chars().take(50).collect();
    let t = t.trim_end_matches('-').to_string();
    if t.is_empty() {
        "host".into()
    } else {
        t
    }
}

fn text<'v>(v: &'v Value, k: &str) -> Option<&'v str> {
    v.get(k).and_then(Value::as_str)
}

fn ids_where(list: &[Value], id: &str, keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    list.iter()
        .filter(|v| keep(v))
        .filter_map(|v| v.get(id).and_then(Value::as_u64))
        .collect()
}

/// The one ID of `hits`: none is the error `none` says, several an error naming them.
fn one(
    hits: Vec<u64>,
    none: impl FnOnce() -> String,
    what: &str,
    field: &str,
    value: &str,
) -> Result<u64> {
    match hits.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::Usage(none())),
        _ => Err(Error::Usage(format!(
            "{} {what} have the {field} '{value}' ({}): give the ID instead",
            hits.len(),
            hits.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `; the closest: a, b, c` (at most three, by edit distance), or nothing.
fn closest(want: &str, have: &[&str]) -> String {
    let mut scored: Vec<(usize, &str)> = have
        .iter()
        .map(|h| (strsim::levenshtein(want, h), *h))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    let near: Vec<String> = scored
        .iter()
        .take(3)
        .map(|(_, h)| format!("'{}'", crate::cli::printable(h)))
        .collect();
    if near.is_empty() {
        "; the project has none".into()
    } else {
        format!("; the closest: {}", near.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_made_of_the_name_s_letters_and_digits() {
        assert_eq!(token("ubuntu-runner-7"), "ubuntu-runner-7");
        assert_eq!(
            token("  GitHub Actions 2 (Linux) "),
            "github-actions-2-linux"
        );
        assert_eq!(token("ÄÖ"), "host");
        assert_eq!(token(&"x".repeat(80)).len(), 50);
    }

    #[test]
    fn a_value_is_checked_against_its_property_s_type() {
        let def = |kind: u64| {
            json!({"Name": "P", "PropertyNumber": 3, "CustomPropertyTypeId": kind,
            "CustomList": {"Values": [{"CustomPropertyValueId": 11, "Name": "Chrome"}, {"CustomPropertyValueId": 12, "Name": "Firefox"}]}})
        };
        assert_eq!(typed(&def(2), "P", "42").unwrap().integer_value, Some(42));
        let e = typed(&def(2), "P", "abc").unwrap_err().to_string();
        assert!(
            e.contains("'P' is an integer property, and 'abc' is not an integer"),
            "{e}"
        );
        assert_eq!(
            typed(&def(6), "P", "Chrome").unwrap().integer_value,
            Some(11)
        );
        assert_eq!(
            typed(&def(7), "P", "Chrome,Firefox")
                .unwrap()
                .integer_list_value,
            Some(vec![11, 12])
        );
        assert!(typed(&def(6), "P", "Safari")
            .unwrap_err()
            .to_string()
            .contains("Chrome, Firefox"));
        assert_eq!(
            typed(&def(4), "P", "yes").unwrap().boolean_value,
            Some(true)
        );
        assert!(typed(&def(3), "P", "NaN").is_err());
        assert_eq!(
            typed(&def(1), "P", "hello")
                .unwrap()
                .string_value
                .as_deref(),
            Some("hello")
        );
    }
}
