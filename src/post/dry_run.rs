//! `--dry-run`: each request that would be sent, as a JSON line; no connection at all.

use std::collections::HashMap;

use serde_json::{json, Map};

use super::args::Args;
use super::builds::build_body;
use super::job::{prepare, Prep};
use super::plan;
use crate::cli::{self, Input};
use crate::config::{Auth, Connection};
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
        for (&release, &failed) in &plan.releases {
            let body = build_body(conn.project, release, failed, name, plan).to_string();
            let url = format!("{base}/releases/{release}/builds");
            out.line(|buf| request_line(buf, conn, &url, auth, &body))?;
        }
        cli::info(format_args!(
            "dry run: the created build's BuildId would be set on every run"
        ));
    }
    let url = format!("{base}/test-runs/record-multiple");
    let prep = Prep {
        known: None,
        builds: &HashMap::new(),
        release: args.release,
    };
    let mut files = 0usize;
    cli::each_line(inputs, |name, n, line| {
        let job = prepare(args, None, &prep, 0, name, n, line)?;
        files += job.attachments.iter().map(Vec::len).sum::<usize>();
        out.line(|buf| request_line(buf, conn, &url, auth, &job.body))
    })?;
    out.flush()?;
    if files > 0 {
        cli::info(format_args!(
            "dry run: after each batch is stored, its {files} attachments would be uploaded (documents/file or documents/url)"
        ));
    }
    Ok(())
}

/// One request as it would be sent, the key shown as `***` wherever it would appear.
pub(super) fn request_line(
    buf: &mut Vec<u8>,
    conn: &Connection,
    url: &str,
    auth: Auth,
    body: &str,
) {
    let mut headers = Map::new();
    headers.insert("Content-Type".into(), json!("application/json"));
    headers.insert("Accept".into(), json!("application/json"));
    let shown_url = match auth {
        Auth::Query => format!(
            "{url}?username={}&api-key=***",
            crate::config::percent_encode(&conn.username)
        ),
        _ => url.to_string(),
    };
    match auth {
        Auth::Headers => {
            headers.insert("username".into(), json!(conn.username));
            headers.insert("api-key".into(), json!("***"));
        }
        Auth::Basic => {
            headers.insert("Authorization".into(), json!("Basic ***"));
        }
        Auth::Query => {}
    }
    // Written in reading order: method, URL, headers, body.
    buf.extend_from_slice(b"{\"method\":\"POST\",\"url\":");
    let _ = serde_json::to_writer(&mut *buf, &shown_url);
    buf.extend_from_slice(b",\"headers\":");
    let _ = serde_json::to_writer(&mut *buf, &headers);
    buf.extend_from_slice(b",\"body\":");
    buf.extend_from_slice(body.as_bytes());
    buf.push(b'}');
}
