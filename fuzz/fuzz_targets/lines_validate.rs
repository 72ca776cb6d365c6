//! spira-validate's reader of lines: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("spira-fuzz-{}-lines_validate.jsonl", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let p = path.to_str().unwrap_or_default();
    let _ = spira_pipe::validate::run(spira_pipe::validate::Args::parse_from(["spira-validate", p]));
});
