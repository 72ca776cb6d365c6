//! `--refresh` and `--refresh-only`: Spira's summaries of releases and test sets, refreshed.

use super::args::Args;
use crate::cli;
use crate::config::Connection;
use crate::error::{Error, Result};

/// `refresh-caches` once per release (or once for the project), asynchronously. Needs an
/// administrator: a 401 is a warning naming the page that does the same by hand.
pub(super) fn refresh(
    agent: &ureq::Agent,
    conn: &Connection,
    args: &Args,
    releases: &[u64],
) -> Result<()> {
    let base = format!(
        "{}/refresh-caches",
        conn.project_base(args.conn.api_version)
    );
    let targets: Vec<String> = if releases.is_empty() {
        vec![format!("{base}?run_async=true")]
    } else {
        releases
            .iter()
            .map(|r| format!("{base}/{r}?run_async=true"))
            .collect()
    };
    for url in targets {
        let resp = conn
            .post(agent, &url, args.conn.auth)
            .header("Content-Type", "application/json")
            .send("")
            .map_err(|e| Error::Server(format!("refresh: {}", conn.redact(&e.to_string()))))?;
        match resp.status().as_u16() {
            200 | 204 => {
                if !args.quiet {
                    cli::info(format_args!("asked Spira to refresh {}", conn.redact(&url)));
                }
            }
            401 | 403 => cli::warn(format_args!(
                "the summaries could not be refreshed ({}): the API user needs to be an administrator; refresh them on the Administration > Data Tools page (Refresh Test Status Cache)",
                resp.status().as_u16()
            )),
            s => return Err(Error::Server(format!("refresh: {s} from Spira"))),
        }
    }
    Ok(())
}
