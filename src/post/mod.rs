//! `spira-post`: batch lines in, one **created** line per stored run out. POSTs each batch to
//! `record-multiple`, retries what may pass on a second try, keeps rejected batches in a
//! dead-letter file, records progress in a journal so that an interrupted upload can be
//! resumed, and never shows the key.
//!
//! The reading thread prepares each batch (strips spira-pipe's own `_` fields, applies the
//! pre-flight and the build) and hands it to `--jobs` senders; one collector puts the answers
//! back in input order, writes the created lines and the dead letters, and keeps the tally.

mod args;
mod attach;
mod builds;
mod collect;
mod deliver;
mod dry_run;
mod job;
mod journal;
mod plan;
mod preflight;
mod reconcile;
mod refresh;
mod signals;
mod summary;
mod upload;
mod worker;

use std::sync::atomic::AtomicBool;

use crate::cli::{self, Input};
use crate::config::Connection;
use crate::error::{Error, Result};
pub use args::Args;
use dry_run::dry_run;
use job::Prep;
use journal::Journal;
use preflight::preflight;
use refresh::refresh;
use upload::upload;

/// The entry point of `spira-post`.
pub fn run(mut args: Args) -> Result<()> {
    if let Some(v) = &args.release_version {
        args.release = Some(crate::names::Names::connect(&args.conn)?.release(v)?);
    }
    // A dry run sends nothing, so it needs no key.
    let conn = if args.dry_run {
        args.conn.resolve_without_key()?
    } else {
        args.conn.resolve()?
    };
    if args.refresh_only {
        let agent = args.conn.agent()?;
        let releases: Vec<u64> = args.release.into_iter().collect();
        return refresh(&agent, &conn, &args, &releases);
    }
    if args.jobs > 3 {
        cli::warn(format_args!(
            "--jobs {}: Spira's database deadlocks under parallel writers; 1 to 3 is advised",
            args.jobs
        ));
    }
    let want_build = wants_build(&args, &conn)?;
    let (inputs, plan) = first_reading(&args, want_build)?;
    let build_name = want_build.then(|| build_name(&args, plan.as_ref()));
    if args.dry_run {
        return dry_run(&args, &conn, &inputs, plan.as_ref(), build_name.as_deref());
    }
    dead_letter_writable(&args.dead_letter)?;
    let agent = args.conn.agent()?;
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let interrupted = signals::on_signals(&stop)?;
    let sender = args
        .retry
        .sender(agent.clone(), &conn, args.conn.auth, args.verbose, &stop);
    let journal = args
        .journal
        .as_deref()
        .map(|p| Journal::open(p, &conn))
        .transpose()?;
    let known = if args.preflight {
        Some(preflight(&agent, &conn, &args, plan.as_ref())?)
    } else {
        None
    };
    let mut builds = builds::Builds::default();
    if let (Some(name), Some(plan)) = (&build_name, &plan) {
        let maker = builds::Maker {
            sender: &sender,
            args: &args,
            name,
            plan,
            meta: &builds::Meta::of(&args),
            find: args.build_name.is_some(),
        };
        builds = maker.builds(journal.as_ref())?;
    }
    let prep = Prep {
        known: known.as_ref(),
        builds: &builds.ids,
        found_builds: &builds.found,
        release: args.release,
        build_name: build_name.as_deref(),
    };
    upload(
        &args,
        &conn,
        &sender,
        journal.as_ref(),
        &inputs,
        &prep,
        &interrupted,
    )
}

/// The dead-letter file must be writable before anything is sent: rejected runs written
/// nowhere would be lost. It is not created here (only a rejection creates it): where it does
/// not exist, a probe file of a unique name is made and removed in its directory, so that
/// uploads started at once in one directory (shards, parallel tests) never race on its name.
fn dead_letter_writable(path: &std::path::Path) -> Result<()> {
    let tried = match std::fs::OpenOptions::new().append(true).open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => std::path::Path::new("."),
            };
            tempfile::Builder::new()
                .prefix(".spira-post-probe")
                .tempfile_in(dir)
                .map(drop)
        }
        other => other.map(drop),
    };
    tried.map_err(|e| {
        Error::Usage(format!(
            "cannot write the dead-letter file '{}': {} (runs the server rejects would be lost; give --dead-letter FILE)",
            path.display(),
            cli::io_reason(&e)
        ))
    })
}

/// Whether a build is to be created: `--create-build`, or `create_build = true` in a
/// spira.cfg. `--release` is refused without one (it is for builds and refreshes only).
fn wants_build(args: &Args, conn: &Connection) -> Result<bool> {
    let cfg_build = conn.cfg.as_ref().is_some_and(|c| {
        c.values
            .get("create_build")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    });
    let want = args.create_build.is_some() || args.build_name.is_some() || cfg_build;
    if args.release.is_some() && !want {
        return Err(Error::Usage(
            "--release is for --create-build or --build-name (or create_build in a spira.cfg) or --refresh-only"
                .into(),
        ));
    }
    Ok(want)
}

/// The inputs to upload from, and the plan of a first reading when `--preflight` or a build
/// needs one (standard input is then spooled, to be read again).
fn first_reading(args: &Args, want_build: bool) -> Result<(Vec<Input>, Option<plan::Plan>)> {
    let inputs = cli::inputs(&args.files);
    if !args.preflight && !want_build {
        return Ok((inputs, None));
    }
    let (p, again) = plan::first_pass(&inputs, args.release)?;
    if let (true, Some(at)) = (want_build, &p.no_release) {
        return Err(Error::Usage(format!(
            "{at}: a build (--create-build, --build-name) needs a release, and this run has no ReleaseId: give --release ID (or spira-map --release)"
        )));
    }
    Ok((again, Some(p)))
}

/// `--build-name NAME`, `--create-build NAME`, or a name made of the runner's name and the time.
fn build_name(args: &Args, plan: Option<&plan::Plan>) -> String {
    let given = args
        .build_name
        .clone()
        .or_else(|| args.create_build.clone());
    given.unwrap_or_else(|| {
        let runner = plan
            .and_then(|p| p.runner.clone())
            .unwrap_or_else(|| "spira-pipe".into());
        format!(
            "{runner} Build {}",
            crate::date::format_iso(crate::date::now())
        )
    })
}
