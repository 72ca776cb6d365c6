//! spira-parse's trx reader on arbitrary bytes: errors are fine, panics, hangs and unbounded
//! memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;
use spira_pipe::parse::{parse_bytes, Args};

fuzz_target!(|data: &[u8]| {
    static ARGS: std::sync::OnceLock<Args> = std::sync::OnceLock::new();
    let args = ARGS.get_or_init(|| Args::parse_from(["spira-parse", "--format", "trx"]));
    let _ = parse_bytes(data, args, Box::new(std::io::sink()));
});
