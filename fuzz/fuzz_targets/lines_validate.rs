//! spira-validate's reader of lines: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

mod input_file;
use input_file::input_file;

fuzz_target!(|data: &[u8]| {
    let Some(path) = input_file(data, "lines_validate.jsonl") else { return };
    let p = path.as_str();
    let _ = spira_pipe::validate::run(spira_pipe::validate::Args::parse_from(["spira-validate", p]));
});
