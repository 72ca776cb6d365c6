//! the JSON map-file reader: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod input_file;
use input_file::input_file;

fuzz_target!(|data: &[u8]| {
    let Some(path) = input_file(data, "mapfile_json.json") else { return };
    let p = path.as_str();
    let _ = spira_pipe::map::mapfile::MapFile::load(p, false);
});
