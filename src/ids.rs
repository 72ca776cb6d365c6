//! `spira-ids`: the project's test cases as CSV `test_case_id,name`, the list
//! `spira-map --map FILE --match name` reads and map files are built from; and its releases,
//! test sets, automation hosts and test-run custom properties, to look a number up.

use crate::cli;
use crate::client::each_page;
use crate::config::ConnectionArgs;
use crate::error::{Error, Result};
use clap::Parser;
use serde_json::Value;

const EXAMPLES: &str = "\
Examples:
  SPIRA_URL=https://acme.spiraservice.net SPIRA_USERNAME=fred SPIRA_PROJECT_ID=1 \\
    SPIRA_API_KEY=\"$(cat ~/.spira-key)\" spira-ids > testcases.csv
  spira-ids --config spira.cfg > testcases.csv
  spira-ids releases | column -s, -t
  spira-ids custom-properties
  spira-parse reports/ | spira-map --map testcases.csv --match name";

/// Lists the project's test cases as CSV test_case_id,name (or its releases, test sets,
/// automation hosts or test-run custom properties).
#[derive(Parser, Debug)]
#[command(name = "spira-ids", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// What to list.
    #[arg(value_enum, default_value = "test-cases")]
    pub(crate) kind: Kind,

    #[command(flatten)]
    pub(crate) conn: ConnectionArgs,
}

/// What spira-ids lists.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// test_case_id,name
    TestCases,
    /// release_id,version_number,name,release_type_id,active (iterations included)
    Releases,
    /// test_set_id,name,release_id
    TestSets,
    /// automation_host_id,name,token,active
    AutomationHosts,
    /// property_number,name,type,value_id,value_name: a row per list value
    CustomProperties,
}

/// The entry point of `spira-ids`.
pub fn run(args: Args) -> Result<()> {
    if args.kind != Kind::TestCases {
        return others(&args);
    }
    let conn = args.conn.resolve()?;
    let agent = args.conn.agent()?;
    let mut out = csv::Writer::from_writer(cli::stdout());
    let mut header = false;
    each_page(&agent, &conn, &args.conn, |page| {
        if !header {
            // Only once the server has answered: a failed run writes nothing.
            out.write_record(["test_case_id", "name"]).map_err(csv_io)?;
            header = true;
        }
        for tc in page {
            out.write_record([tc.test_case_id.to_string(), tc.name.unwrap_or_default()])
                .map_err(csv_io)?;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(())
}

/// The lists other than the test cases, through the shared name resolver's readings.
fn others(args: &Args) -> Result<()> {
    let mut names = crate::names::Names::connect(&args.conn)?;
    let (header, rows): (&[&str], Vec<Vec<String>>) = match args.kind {
        Kind::Releases => (
            &[
                "release_id",
                "version_number",
                "name",
                "release_type_id",
                "active",
            ],
            rows(
                names.releases()?,
                &[
                    "ReleaseId",
                    "VersionNumber",
                    "Name",
                    "ReleaseTypeId",
                    "Active",
                ],
            ),
        ),
        Kind::TestSets => (
            &["test_set_id", "name", "release_id"],
            rows(names.test_sets()?, &["TestSetId", "Name", "ReleaseId"]),
        ),
        Kind::AutomationHosts => (
            &["automation_host_id", "name", "token", "active"],
            rows(
                names.hosts()?,
                &["AutomationHostId", "Name", "Token", "Active"],
            ),
        ),
        Kind::CustomProperties | Kind::TestCases => (
            &["property_number", "name", "type", "value_id", "value_name"],
            property_rows(names.properties()?),
        ),
    };
    let mut out = csv::Writer::from_writer(cli::stdout());
    out.write_record(header).map_err(csv_io)?;
    for r in rows {
        out.write_record(&r).map_err(csv_io)?;
    }
    out.flush()?;
    Ok(())
}

/// A record's field as CSV text: a string as it is, null as nothing, the rest as JSON.
fn field(v: &Value, k: &str) -> String {
    match v.get(k) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(x) => x.to_string(),
    }
}

/// A row of `keys` per record.
fn rows(list: &[Value], keys: &[&str]) -> Vec<Vec<String>> {
    list.iter()
        .map(|v| keys.iter().map(|k| field(v, k)).collect())
        .collect()
}

/// A row per custom property, or per value of a list property.
fn property_rows(props: &[Value]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for p in props {
        let head = vec![
            field(p, "PropertyNumber"),
            field(p, "Name"),
            crate::names::type_name(p.get("CustomPropertyTypeId").and_then(Value::as_u64))
                .to_string(),
        ];
        let values = p.pointer("/CustomList/Values").and_then(Value::as_array);
        match values.filter(|v| !v.is_empty()) {
            None => rows.push([head, vec![String::new(), String::new()]].concat()),
            Some(vs) => {
                for v in vs {
                    rows.push(
                        [
                            head.clone(),
                            vec![field(v, "CustomPropertyValueId"), field(v, "Name")],
                        ]
                        .concat(),
                    );
                }
            }
        }
    }
    rows
}

fn csv_io(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Data(format!("{other:?}")),
    }
}
