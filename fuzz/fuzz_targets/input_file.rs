//! Shared by the targets whose code under test reads a file: the input, written to one.

/// Writes `data` to a file named `spira-fuzz-PID-NAME` in the temporary folder and returns its
/// path, or None when it cannot be written.
pub fn input_file(data: &[u8], name: &str) -> Option<String> {
    let path = std::env::temp_dir().join(format!("spira-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&path, data).ok()?;
    path.to_str().map(str::to_string)
}
