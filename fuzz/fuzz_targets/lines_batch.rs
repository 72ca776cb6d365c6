//! spira-batch's reader of run lines and of batches (--unbatch): errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("spira-fuzz-{}-lines_batch.jsonl", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let p = path.to_str().unwrap_or_default();
    let _ = spira_pipe::batch::run(spira_pipe::batch::Args::parse_from(["spira-batch", p]));
    let _ = spira_pipe::batch::run(spira_pipe::batch::Args::parse_from(["spira-batch", "--unbatch", p]));
});
