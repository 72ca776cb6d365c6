//! `spira-mock`: a local Spira REST server that behaves as `../shared/spira-api.md` describes,
//! for demos, tests and benchmarks. A real HTTP server (tiny_http) on loopback.

mod args;
mod auth;
mod builds;
mod catalog;
mod conform;
mod data;
mod http;
mod listing;
mod openapi;
mod project;
mod routes;
mod runs;
mod state;

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};

use tiny_http::Server;

use crate::cli;
use crate::error::{Error, Result};
pub use args::Args;
use routes::handle;
use state::{Catalog, Config, State, Stats};

/// The entry point of `spira-mock`.
pub fn run(args: Args) -> Result<()> {
    if !(0.0..=1.0).contains(&args.faults) {
        return Err(Error::Usage("--faults is a chance from 0 to 1".into()));
    }
    let record = args.record.as_deref().map(cli::open_append).transpose()?;
    let server = Server::http(&args.listen)
        .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Error::Usage("not an IP address".into()))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    let threads = args.threads.max(1);
    let config = Arc::new(Config::new(args)?);
    let state = Arc::new(Mutex::new(State {
        catalog: Catalog::new(&config),
        stats: Stats::default(),
        bad_attempts: 0,
        locked: false,
        rng: config.args.seed ^ 0x9E37_79B9_7F4A_7C15,
        next_run: 1,
        next_build: 1,
        runs: Vec::new(),
        seen: HashSet::new(),
        builds: BTreeMap::new(),
        hosts: Vec::new(),
        record,
    }));
    let server = Arc::new(server);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (server, state, config) = (server.clone(), state.clone(), config.clone());
            std::thread::spawn(move || {
                while let Ok(req) = server.recv() {
                    handle(req, &config, &state);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}
