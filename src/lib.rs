//! spira-pipe: Unix filters that turn CI test reports into Spira test runs.
//!
//! What the library offers: each tool's `Args` and `run` for its binary in `src/bin/` (and for
//! the fuzz targets), the one `main` runner ([`cli::main`]) and the error it maps to exit codes,
//! and the few readers the fuzz targets call directly ([`parse::parse_bytes`], [`date`], the
//! JSON text helpers in [`json`]). Everything else is the crate's own (`pub(crate)`); see
//! ARCHITECTURE.md for what may import what.

// The tools: one module each; none imports another.
pub mod batch;
pub mod cases;
pub mod ids;
pub mod inspect;
pub mod map;
pub mod mock;
pub mod parse;
pub mod post;
pub mod validate;

// Shared by the tools.
mod bytes;
mod ci;
pub mod cli;
mod client;
mod config;
pub mod date;
pub mod error;
mod journal;
pub mod json;
mod mapping;
mod names;
mod record;
mod spira;
