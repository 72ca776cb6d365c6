//! `--preflight`: the credentials and every test case the input names, checked before anything
//! is sent.

use std::collections::HashSet;

use super::args::Args;
use super::plan;
use crate::cli;
use crate::config::Connection;
use crate::error::Result;

/// The credentials and every test case the input names, checked before anything is sent.
pub(super) fn preflight(
    agent: &ureq::Agent,
    conn: &Connection,
    args: &Args,
    plan: Option<&plan::Plan>,
) -> Result<HashSet<u64>> {
    let mut known = HashSet::new();
    crate::client::each_page(agent, conn, &args.conn, |page| {
        known.extend(page.iter().map(|t| t.test_case_id));
        Ok(())
    })?;
    let missing: Vec<u64> = plan
        .map(|p| {
            p.test_cases
                .iter()
                .filter(|t| !known.contains(t))
                .copied()
                .collect()
        })
        .unwrap_or_default();
    if !args.quiet {
        cli::info(format_args!(
            "preflight: credentials accepted; {} test cases in PR:{}; {}",
            known.len(),
            conn.project,
            if missing.is_empty() {
                "every test case the runs name exists".to_string()
            } else {
                format!(
                    "{} named by the runs do not exist: {}{}",
                    missing.len(),
                    missing
                        .iter()
                        .take(10)
                        .map(|t| format!("TC:{t}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if missing.len() > 10 { ", …" } else { "" }
                )
            }
        ));
    }
    Ok(known)
}
