//! The map-file readers on a cfg file, through spira-map's --map (and --match name): errors are
//! fine, panics, hangs and unbounded memory are not.
#![no_main]
use clap::Parser;
use libfuzzer_sys::fuzz_target;

mod input_file;
use input_file::input_file;

fuzz_target!(|data: &[u8]| {
    let Some(path) = input_file(data, "mapfile_cfg.cfg") else { return };
    let Some(empty) = input_file(b"", "mapfile_cfg.empty.jsonl") else { return };
    let (p, e) = (path.as_str(), empty.as_str());
    let _ = spira_pipe::map::run(spira_pipe::map::Args::parse_from(["spira-map", "--map", p, e]));
    let _ = spira_pipe::map::run(spira_pipe::map::Args::parse_from(["spira-map", "--map", p, "--match", "name", e]));
});
