//! spira-pipe: Unix filters that turn CI test reports into Spira test runs.

pub mod batch;
mod bytes;
pub mod cli;
mod client;
pub mod config;
pub mod date;
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
