//! `--data FILE`: the project's releases, test sets, automation hosts and test-run custom
//! properties, as Spira's own records (`RemoteRelease`, `RemoteTestSet`,
//! `RemoteAutomationHost`, `RemoteCustomProperty` with its `CustomList`). `project` serves them.

use std::path::Path;

use serde_json::Value;

use crate::cli;
use crate::error::{Error, Result};

/// What `--data` gives.
#[derive(Default)]
pub(super) struct Data {
    pub(super) releases: Vec<Value>,
    pub(super) test_sets: Vec<Value>,
    pub(super) automation_hosts: Vec<Value>,
    pub(super) custom_properties: Vec<Value>,
    /// The project's template: the custom properties' `ProjectTemplateId`, or 1.
    pub(super) template: u64,
}

/// Spira's artifact type of test runs.
pub(super) const TEST_RUN_ARTIFACT: u64 = 5;

impl Data {
    /// Reads `--data FILE`: a JSON object whose arrays hold Spira's own records.
    pub(super) fn load(path: Option<&Path>) -> Result<Data> {
        let Some(path) = path else {
            return Ok(Data {
                template: 1,
                ..Data::default()
            });
        };
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot open '{shown}': {}", cli::io_reason(&e))))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{shown}: not JSON: {e}")))?;
        let list = |k: &str, id: &str| -> Result<Vec<Value>> {
            let items = match v.get(k) {
                None | Some(Value::Null) => return Ok(Vec::new()),
                Some(Value::Array(a)) => a.clone(),
                Some(_) => return Err(Error::Usage(format!("{shown}: \"{k}\" is not an array"))),
            };
            for (i, item) in items.iter().enumerate() {
                if item.get(id).and_then(Value::as_u64).is_none() {
                    return Err(Error::Usage(format!(
                        "{shown}: {k}[{i}] has no {id} (a positive integer)"
                    )));
                }
            }
            Ok(items)
        };
        let custom_properties = list("custom_properties", "PropertyNumber")?;
        let template = custom_properties
            .iter()
            .find_map(|p| p.get("ProjectTemplateId").and_then(Value::as_u64))
            .unwrap_or(1);
        Ok(Data {
            releases: list("releases", "ReleaseId")?,
            test_sets: list("test_sets", "TestSetId")?,
            automation_hosts: list("automation_hosts", "AutomationHostId")?,
            custom_properties,
            template,
        })
    }
}
