//! spira-batch's reader of run lines and of batches (--unbatch): errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

mod input_file;
use input_file::input_file;

fuzz_target!(|data: &[u8]| {
    let Some(path) = input_file(data, "lines_batch.jsonl") else { return };
    let p = path.as_str();
    let _ = spira_pipe::batch::run(spira_pipe::batch::Args::parse_from(["spira-batch", p]));
    let _ = spira_pipe::batch::run(spira_pipe::batch::Args::parse_from(["spira-batch", "--unbatch", p]));
});
