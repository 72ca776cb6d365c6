//! Which Spira test case a test is, as every tool that needs it decides: an ID property, an ID
//! token in the name, a map file (its four forms in [`mapfile`]), a default. spira-map maps
//! results with it; spira-cases creates the test cases it does not find.

mod mapfile;
mod resolve;

use clap::{Args, ValueEnum};
use regex::Regex;

use crate::config::spira_cfg::Credentials;
use crate::error::{Error, Result};
pub(crate) use mapfile::{key, MapFile};
pub(crate) use resolve::{Resolver, Test};

/// The options that decide a test's test case, shared by the tools that read result lines.
#[derive(Args, Debug, Clone)]
pub(crate) struct IdArgs {
    /// A map file: CSV key,test_case_id[,test_set_id]; a JSON object; Inflectra's spira.cfg;
    /// or, with --match name, a test_case_id,name list.
    #[arg(long, value_name = "FILE")]
    pub(crate) map: Option<String>,

    /// How the map file matches tests: by key (classname.name, then name) or by test case name.
    #[arg(long = "match", value_enum, default_value = "key")]
    pub(crate) match_by: MatchBy,

    /// Another property name that holds a test case ID (repeatable). Always read: TestCaseId,
    /// test_case_id, spira_id, spira.testcase, allure.id, tms (Allure's label and link).
    #[arg(long = "id-property", value_name = "NAME")]
    pub(crate) id_properties: Vec<String>,

    /// The pattern of an ID token in a test's tags (`tag` properties: `@TC:123`), else its name
    /// or classname; its first group (or its digits) is the ID.
    #[arg(long, value_name = "REGEX", default_value = r"\bTC[:-]?(\d+)\b")]
    pub(crate) id_pattern: String,

    /// The test case for results nothing else maps.
    #[arg(long, value_name = "ID")]
    pub(crate) default_test_case: Option<u64>,
}

/// How a map file matches.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchBy {
    /// By `classname.name`, then `name`, case-insensitively; `*` and `?` globs.
    Key,
    /// By test case name (a `test_case_id,name` list), case-insensitively.
    Name,
}

/// Property names always read for a test case ID, in lower case (`allure.id` is Allure's
/// label, `tms` the name of its test management link: read only when it is a number).
const ID_PROPERTIES: [&str; 6] = [
    "testcaseid",
    "test_case_id",
    "spira_id",
    "spira.testcase",
    "allure.id",
    "tms",
];

impl IdArgs {
    /// The resolver these options describe, and the `[credentials]` of a spira.cfg map file.
    pub(crate) fn resolver(&self) -> Result<(Resolver, Option<Credentials>)> {
        let pattern =
            Regex::new(&self.id_pattern).map_err(|e| Error::Usage(format!("--id-pattern: {e}")))?;
        let mut map = match &self.map {
            Some(p) => Some(MapFile::load(p, self.match_by == MatchBy::Name)?),
            None if self.match_by == MatchBy::Name => {
                return Err(Error::Usage("--match name needs --map FILE".into()))
            }
            None => None,
        };
        let creds = map.as_mut().and_then(|m| m.credentials.take());
        let mut id_props: Vec<String> = ID_PROPERTIES.iter().map(|s| s.to_string()).collect();
        id_props.extend(self.id_properties.iter().map(|p| p.to_lowercase()));
        let resolver = Resolver {
            map,
            id_props,
            pattern,
            default: self.default_test_case,
        };
        Ok((resolver, creds))
    }
}
