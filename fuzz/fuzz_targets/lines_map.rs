//! spira-map's reader of result lines: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

mod input_file;
use input_file::input_file;

fuzz_target!(|data: &[u8]| {
    let Some(path) = input_file(data, "lines_map.jsonl") else { return };
    let p = path.as_str();
    let _ = spira_pipe::map::run(spira_pipe::map::Args::parse_from(["spira-map", "--default-test-case", "1", p]));
});
