//! spira-pipe: Unix filters that turn CI test reports into Spira test runs.

pub mod batch;
pub mod cli;
pub mod config;
pub mod error;
pub mod ids;
pub mod inspect;
pub mod json;
pub mod map;
pub mod mock;
pub mod parse;
pub mod post;
pub mod record;
pub mod spira;
pub mod validate;

/// mimalloc for every tool: spira-map and spira-parse make a few short-lived allocations per
/// test, where glibc's malloc and free cost about a tenth of the time. (Fuzzing keeps the
/// system allocator, which the sanitizers watch.)
#[cfg(not(fuzzing))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
