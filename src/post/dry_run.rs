//! `--dry-run`: each request that would be sent, as a JSON line; no connection at all.

use std::collections::HashMap;

use super::args::Args;
use super::builds::{build_body, builds_url, Meta};
use super::job::{prepare, Prep};
use super::plan;
use crate::cli::{self, Input};
use crate::config::Connection;
use crate::error::Result;

/// `--dry-run`: each request that would be sent, as a JSON line; no connection at all.
pub(super) fn dry_run(
    args: &Args,
    conn: &Connection,
    inputs: &[Input],
    plan: Option<&plan::Plan>,
    build: Option<&str>,
) -> Result<()> {
    let mut out = cli::LineOut::stdout();
    let base = conn.project_base(args.conn.api_version);
    let auth = args.conn.auth;
    if args.preflight {
        cli::warn(format_args!(
            "dry run: --preflight needs the server, so it is left out"
        ));
    }
    if let (Some(name), Some(plan)) = (build, plan) {
        let meta = Meta::of(args);
        for (&release, &failed) in &plan.releases {
            let body = build_body(conn.project, release, failed, name, plan, &meta).to_string();
            let url = builds_url(conn, args, release);
            if args.build_name.is_some() {
                // Find first; create (and list again) only where none has the name.
                out.line(|buf| crate::client::method_line(buf, conn, "GET", &url, auth, None))?;
            }
            out.line(|buf| crate::client::request_line(buf, conn, &url, auth, &body))?;
        }
        if args.build_name.is_some() {
            cli::info(format_args!(
                "dry run: each release's builds would be listed first, and the build '{name}' created only where none has that name"
            ));
        }
        cli::info(format_args!(
            "dry run: the created build's BuildId would be set on every run"
        ));
    }
    let url = format!("{base}/test-runs/record-multiple");
    let prep = Prep {
        known: None,
        builds: &HashMap::new(),
        found_builds: &[],
        release: args.release,
        build_name: build,
    };
    let mut files = 0usize;
    cli::each_line(inputs, |name, n, line| {
        let job = prepare(args, None, &prep, 0, name, n, line)?;
        files += job.attachments.iter().map(Vec::len).sum::<usize>();
        out.line(|buf| crate::client::request_line(buf, conn, &url, auth, &job.body))
    })?;
    out.flush()?;
    if files > 0 {
        cli::info(format_args!(
            "dry run: after each batch is stored, its {files} attachments would be uploaded (documents/file or documents/url)"
        ));
    }
    Ok(())
}
