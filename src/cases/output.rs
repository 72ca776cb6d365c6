//! The map lines: `key,test_case_id`, in the CSV spira-map reads, to stdout (so that `>>
//! ids.csv` works) or, with `--append`, onto the end of the map file itself: a missing file is
//! created with a header, and each row follows the file's own header (an empty `test_set_id`
//! where it has that column). Each line is written out at once: a kill loses none.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli;
use crate::error::{Error, Result};

/// Where the map lines go.
pub(super) enum MapOut {
    Stdout(std::io::Stdout),
    File {
        path: PathBuf,
        file: std::fs::File,
        /// The file's columns, in lower case.
        columns: Vec<String>,
    },
}

impl MapOut {
    /// Standard output.
    pub(super) fn stdout() -> MapOut {
        MapOut::Stdout(std::io::stdout())
    }

    /// The CSV map file at `path`, to append to: created with a header when missing; refused
    /// when it is not a CSV map file.
    pub(super) fn append(path: &Path) -> Result<MapOut> {
        let shown = path.display();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(Error::Usage(format!(
                    "cannot read the map file '{shown}': {}",
                    cli::io_reason(&e)
                )))
            }
        };
        let fail = |e: std::io::Error| {
            Error::Usage(format!(
                "cannot write the map file '{shown}': {}",
                cli::io_reason(&e)
            ))
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(fail)?;
        let columns = match text
            .as_deref()
            .map(str::trim_start)
            .filter(|t| !t.is_empty())
        {
            None => {
                file.write_all(b"key,test_case_id\n").map_err(fail)?;
                vec!["key".into(), "test_case_id".into()]
            }
            Some(t) => {
                let header = t
                    .trim_start_matches('\u{feff}')
                    .lines()
                    .next()
                    .unwrap_or("");
                let columns: Vec<String> = header
                    .split(',')
                    .map(|c| c.trim().trim_matches('"').to_lowercase())
                    .collect();
                if !(columns.iter().any(|c| c == "key")
                    && columns.iter().any(|c| c == "test_case_id"))
                {
                    return Err(Error::Usage(format!(
                        "--append: '{shown}' is not a CSV map file with a key,test_case_id header (give a CSV map, or write the lines to stdout)"
                    )));
                }
                if !t.ends_with('\n') {
                    file.write_all(b"\n").map_err(fail)?;
                }
                columns
            }
        };
        Ok(MapOut::File {
            path: path.to_path_buf(),
            file,
            columns,
        })
    }

    /// One map line, written out at once.
    pub(super) fn line(&mut self, key: &str, id: u64) -> Result<()> {
        match self {
            MapOut::Stdout(out) => {
                let mut row = csv_row(&[key, &id.to_string()]);
                row.push('\n');
                let mut out = out.lock();
                out.write_all(row.as_bytes())?;
                Ok(out.flush()?)
            }
            MapOut::File {
                path,
                file,
                columns,
            } => {
                let id = id.to_string();
                let fields: Vec<&str> = columns
                    .iter()
                    .map(|c| match c.as_str() {
                        "key" => key,
                        "test_case_id" => id.as_str(),
                        _ => "",
                    })
                    .collect();
                let mut row = csv_row(&fields);
                row.push('\n');
                file.write_all(row.as_bytes()).map_err(|e| {
                    Error::Usage(format!(
                        "cannot write the map file '{}': {}",
                        path.display(),
                        cli::io_reason(&e)
                    ))
                })
            }
        }
    }
}

/// One CSV row (quoted where a field needs it), without its line end.
fn csv_row(fields: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(fields);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}
