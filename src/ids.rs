//! `spira-ids`: the project's test cases as CSV `test_case_id,name`, the list
//! `spira-map --map FILE --match name` reads and map files are built from.

use clap::Parser;
use serde::Deserialize;

use crate::cli;
use crate::config::{Connection, ConnectionArgs};
use crate::error::{Error, Result};

const EXAMPLES: &str = "\
Examples:
  SPIRA_URL=https://acme.spiraservice.net SPIRA_USERNAME=fred SPIRA_PROJECT_ID=1 \\
    SPIRA_API_KEY=\"$(cat ~/.spira-key)\" spira-ids > testcases.csv
  spira-ids --config spira.cfg > testcases.csv
  spira-parse reports/ | spira-map --map testcases.csv --match name";

/// Rows per page: Spira answers at most 500.
pub const PAGE: usize = 500;

/// Lists the project's test cases as CSV test_case_id,name.
#[derive(Parser, Debug)]
#[command(name = "spira-ids", version, after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub conn: ConnectionArgs,
}

/// One test case as Spira lists it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TestCase {
    /// Its ID (TC:n).
    pub test_case_id: u64,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
}

/// The entry point of `spira-ids`.
pub fn run(args: Args) -> Result<()> {
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

/// Calls `f` with each page of the project's test cases, 500 at a time. A refusal (401, 403)
/// or any other error status is an `Error::Server` (exit 3).
pub fn each_page(
    agent: &ureq::Agent,
    conn: &Connection,
    args: &ConnectionArgs,
    mut f: impl FnMut(Vec<TestCase>) -> Result<()>,
) -> Result<()> {
    let base = conn.project_base(args.api_version);
    let mut row = 1usize;
    loop {
        let url = format!("{base}/test-cases?starting_row={row}&number_of_rows={PAGE}");
        let resp = conn.get(agent, &url, args.auth).call();
        let mut resp = resp.map_err(|e| {
            Error::Server(format!(
                "cannot reach {}: {}",
                conn.url,
                conn.redact(&e.to_string())
            ))
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_string()
            .map_err(|e| {
                Error::Server(format!(
                    "cannot read the answer: {}",
                    conn.redact(&e.to_string())
                ))
            })?;
        match status {
            200 => {}
            401 | 403 => {
                return Err(Error::Server(format!(
                    "{status} from Spira: check the user name and API key (RSS token), whether the account is locked, and that the user is a member of project PR:{}",
                    conn.project
                )))
            }
            _ => {
                let shown: String = conn.redact(body.trim()).chars().take(300).collect();
                return Err(Error::Server(format!("{status} from Spira: {shown}")));
            }
        }
        let page: Vec<TestCase> = serde_json::from_str(&body).map_err(|e| {
            Error::Server(format!("the test case list is not what Spira sends: {e}"))
        })?;
        let n = page.len();
        f(page)?;
        if n < PAGE {
            return Ok(());
        }
        row += PAGE;
    }
}

fn csv_io(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Data(format!("{other:?}")),
    }
}
