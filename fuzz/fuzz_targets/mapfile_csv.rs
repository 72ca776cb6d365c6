//! the CSV map-file reader: errors are fine, panics, hangs and unbounded memory are not.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("spira-fuzz-{}-mapfile_csv.csv", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let p = path.to_str().unwrap_or_default();
    let _ = spira_pipe::map::mapfile::MapFile::load(p, false);
    let _ = spira_pipe::map::mapfile::MapFile::load(p, true);
});
