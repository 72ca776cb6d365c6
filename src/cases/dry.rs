//! `--dry-run`: each request that would change Spira, as a JSON line on stdout (the key shown
//! as `***`, as spira-post's dry run shows it), and what it would do, on stderr.

use serde_json::Value;

use crate::cli;
use crate::config::{Auth, Connection};
use crate::error::Result;

/// Where a dry run writes.
pub(super) struct DryRun<'a> {
    pub(super) out: cli::LineOut,
    pub(super) conn: &'a Connection,
    pub(super) auth: Auth,
    /// `.../RestService.svc/projects/{id}`.
    pub(super) base: String,
    /// Requests written.
    pub(super) requests: u64,
}

impl DryRun<'_> {
    /// One POST to `path` under the project, and what it does.
    pub(super) fn request(&mut self, path: &str, body: &Value, does: &str) -> Result<()> {
        let url = format!("{}/{path}", self.base);
        let (conn, auth, body) = (self.conn, self.auth, body.to_string());
        self.out
            .line(|buf| crate::client::request_line(buf, conn, &url, auth, &body))?;
        self.requests += 1;
        cli::info(format_args!("dry run: {does}"));
        Ok(())
    }
}
