//! spira-post's reader of batch lines (in a dry run) and spira-inspect's of any lines: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

mod input_file;
use input_file::input_file;

fuzz_target!(|data: &[u8]| {
    let Some(path) = input_file(data, "lines_post.jsonl") else { return };
    let p = path.as_str();
    std::env::set_var("SPIRA_URL", "http://127.0.0.1:1");
    std::env::set_var("SPIRA_USERNAME", "fuzz");
    std::env::set_var("SPIRA_PROJECT_ID", "1");
    std::env::set_var("SPIRA_API_KEY", "k");
    let _ = spira_pipe::post::run(spira_pipe::post::Args::parse_from(["spira-post", "--dry-run", p]));
    let _ = spira_pipe::inspect::run(spira_pipe::inspect::Args::parse_from(["spira-inspect", p]));
});
