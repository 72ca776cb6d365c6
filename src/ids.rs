//! `spira-ids`: the project's test cases as CSV `test_case_id,name`, the list
//! `spira-map --map FILE --match name` reads and map files are built from.

use crate::cli;
use crate::client::each_page;
use crate::config::ConnectionArgs;
use crate::error::{Error, Result};
use clap::Parser;

const EXAMPLES: &str = "\
Examples:
  SPIRA_URL=https://acme.spiraservice.net SPIRA_USERNAME=fred SPIRA_PROJECT_ID=1 \\
    SPIRA_API_KEY=\"$(cat ~/.spira-key)\" spira-ids > testcases.csv
  spira-ids --config spira.cfg > testcases.csv
  spira-parse reports/ | spira-map --map testcases.csv --match name";

/// Lists the project's test cases as CSV test_case_id,name.
#[derive(Parser, Debug)]
#[command(name = "spira-ids", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    #[command(flatten)]
    pub(crate) conn: ConnectionArgs,
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

fn csv_io(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::Data(format!("{other:?}")),
    }
}
