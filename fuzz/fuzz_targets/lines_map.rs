//! spira-map's reader of result lines: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("spira-fuzz-{}-lines_map.jsonl", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let p = path.to_str().unwrap_or_default();
    let _ = spira_pipe::map::run(spira_pipe::map::Args::parse_from(["spira-map", "--default-test-case", "1", p]));
});
