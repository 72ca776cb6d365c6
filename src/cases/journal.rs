//! spira-cases' journal (the shared journal file): `{"case": KEY, "state": "creating",
//! "folder": F}` before a test case's request goes out, `{"case": KEY, "state": "created", "id":
//! N}` once its answer is in. A resumed run takes the created ones as they are; one that was
//! being created is looked for in its folder (as every test case is before it is created).

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::config::Connection;
use crate::error::Result;
use crate::journal::JournalFile;

/// The journal, and what earlier runs recorded in it.
pub(super) struct Journal {
    file: JournalFile,
    /// Test cases created, by key (in lower case).
    pub(super) created: HashMap<String, u64>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads it.
    pub(super) fn open(path: &Path, conn: &Connection) -> Result<Journal> {
        let mut created = HashMap::new();
        let file = JournalFile::open(path, conn, |v| {
            let key = v.get("case").and_then(Value::as_str).map(str::to_lowercase);
            match (key, v.get("state").and_then(Value::as_str)) {
                (Some(_), Some("creating")) => {}
                (Some(k), Some("created")) => {
                    let id = v
                        .get("id")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| "a created case without its id".to_string())?;
                    created.insert(k, id);
                }
                _ => return Err("not a spira-cases journal entry".to_string()),
            }
            Ok(())
        })?;
        Ok(Journal { file, created })
    }

    /// The request for `key` is about to go out.
    pub(super) fn creating(&self, key: &str, folder: Option<u64>) -> Result<()> {
        self.file
            .write(&json!({"case": key, "state": "creating", "folder": folder}))
    }

    /// `key` was created as test case `id`.
    pub(super) fn created(&self, key: &str, id: u64) -> Result<()> {
        self.file
            .write(&json!({"case": key, "state": "created", "id": id}))
    }
}
