//! spira-parse's allure reader on arbitrary bytes: errors are fine, panics, hangs and unbounded
//! memory are not. Read twice: with the default field cap, and with the smallest one.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;
use spira_pipe::parse::{parse_bytes, Args};

fuzz_target!(|data: &[u8]| {
    static ARGS: std::sync::OnceLock<[Args; 2]> = std::sync::OnceLock::new();
    let args = ARGS.get_or_init(|| {
        [
            Args::parse_from(["spira-parse", "--format", "allure"]),
            Args::parse_from(["spira-parse", "--format", "allure", "--max-field-bytes", "16"]),
        ]
    });
    for a in args {
        let _ = parse_bytes(data, a, Box::new(std::io::sink()));
    }
});
