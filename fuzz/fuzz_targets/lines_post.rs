//! spira-post's reader of batch lines (in a dry run) and spira-inspect's of any lines: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("spira-fuzz-{}-lines_post.jsonl", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let p = path.to_str().unwrap_or_default();
    std::env::set_var("SPIRA_URL", "http://127.0.0.1:1");
    std::env::set_var("SPIRA_USERNAME", "fuzz");
    std::env::set_var("SPIRA_PROJECT_ID", "1");
    std::env::set_var("SPIRA_API_KEY", "k");
    let _ = spira_pipe::post::run(spira_pipe::post::Args::parse_from(["spira-post", "--dry-run", p]));
    let _ = spira_pipe::inspect::run(spira_pipe::inspect::Args::parse_from(["spira-inspect", p]));
});
