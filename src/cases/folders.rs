//! The test case folder tree: the project's folders, read once; each level of a test's path
//! found by name under its parent or created (a creation whose answer was lost is looked for
//! in a fresh listing before it is sent again).

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::api::{id, Api, Posted};
use super::dry::DryRun;
use crate::error::{Error, Result};
use crate::spira;

/// A folder: the project's root, one that exists, or one a dry run would create.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Folder {
    Root,
    Real(u64),
    Planned(usize),
}

impl Folder {
    /// Its `TestCaseFolderId` in a request: null for the root (and for a planned one).
    pub(super) fn id(self) -> Option<u64> {
        match self {
            Folder::Real(f) => Some(f),
            Folder::Root | Folder::Planned(_) => None,
        }
    }
}

/// The folders known, by parent and name.
pub(super) struct Tree {
    by_parent: HashMap<(Folder, String), Folder>,
    /// Folders that existed before this run: their test cases may include ones made earlier.
    pub(super) existing: HashSet<u64>,
    root: Folder,
    /// Folders created by this run.
    pub(super) created: u64,
    /// Folders a dry run would create.
    planned: usize,
}

/// A folder's name as Spira holds it: at most 255 characters.
fn folder_name(s: &str) -> String {
    spira::truncate_utf16(s, spira::TEXT_255).into_owned()
}

impl Tree {
    /// The project's folders (none read when `offline`), under `root`.
    pub(super) fn load(api: Option<&Api<'_>>, root: Option<u64>, rng: &mut u64) -> Result<Tree> {
        let mut t = Tree {
            by_parent: HashMap::new(),
            existing: HashSet::new(),
            root: root.map_or(Folder::Root, Folder::Real),
            created: 0,
            planned: 0,
        };
        if let Some(api) = api {
            t.read(api, rng)?;
            if let Some(r) = root.filter(|r| !t.existing.contains(r)) {
                return Err(Error::Usage(format!(
                    "--root-folder {r}: the project has no such test case folder"
                )));
            }
        }
        Ok(t)
    }

    /// Reads (again) every folder of the project.
    fn read(&mut self, api: &Api<'_>, rng: &mut u64) -> Result<()> {
        let list = api.get("test-folders", rng)?;
        for f in list.as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let (Some(fid), Some(name)) = (
                id(f, "TestCaseFolderId"),
                f.get("Name").and_then(Value::as_str),
            ) else {
                continue;
            };
            self.existing.insert(fid);
            let parent = id(f, "ParentTestCaseFolderId").map_or(Folder::Root, Folder::Real);
            self.by_parent
                .insert((parent, name.to_string()), Folder::Real(fid));
        }
        Ok(())
    }

    /// The folder of `path` if every level exists already.
    pub(super) fn existing_folder(&self, path: &[String]) -> Option<Folder> {
        let mut parent = self.root;
        for level in path {
            parent = *self.by_parent.get(&(parent, folder_name(level)))?;
        }
        Some(parent)
    }

    /// The folder of `path`, each missing level created in turn; a dry run names what it
    /// would create instead.
    pub(super) fn ensure(
        &mut self,
        api: Option<&Api<'_>>,
        path: &[String],
        dry: &mut Option<DryRun>,
        rng: &mut u64,
    ) -> Result<Folder> {
        let mut parent = self.root;
        for (depth, level) in path.iter().enumerate() {
            let name = folder_name(level);
            if let Some(&f) = self.by_parent.get(&(parent, name.clone())) {
                parent = f;
                continue;
            }
            let body = json!({"Name": name, "ParentTestCaseFolderId": parent.id()});
            let folder = match (dry.as_mut(), api) {
                (Some(d), _) => {
                    let shown = path[..=depth].join(" / ");
                    d.request(
                        "test-folders",
                        &body,
                        &format!("creates the folder {shown}"),
                    )?;
                    self.planned += 1;
                    Folder::Planned(self.planned)
                }
                (None, Some(api)) => Folder::Real(self.create(api, parent, &name, &body, rng)?),
                (None, None) => return Err(Error::Usage("no connection to create folders".into())),
            };
            self.by_parent.insert((parent, name), folder);
            parent = folder;
        }
        Ok(parent)
    }

    /// Creates one folder; after a lost answer, looks for it before trying again.
    fn create(
        &mut self,
        api: &Api<'_>,
        parent: Folder,
        name: &str,
        body: &Value,
        rng: &mut u64,
    ) -> Result<u64> {
        for _ in 0..3 {
            match api.post("test-folders", body, rng)? {
                Posted::Done(v) => {
                    self.created += 1;
                    return id(&v, "TestCaseFolderId").ok_or_else(|| {
                        Error::Server("the created folder has no TestCaseFolderId".into())
                    });
                }
                Posted::Rejected(status, m) => {
                    return Err(Error::Server(format!(
                        "cannot create the folder '{name}': {status} {m}"
                    )))
                }
                Posted::Uncertain(_) => {
                    self.read(api, rng)?;
                    if let Some(&Folder::Real(f)) = self.by_parent.get(&(parent, name.to_string()))
                    {
                        self.existing.remove(&f);
                        self.created += 1;
                        return Ok(f);
                    }
                }
            }
        }
        Err(Error::Server(format!(
            "cannot create the folder '{name}': its answer was lost three times"
        )))
    }
}
