//! `spira-cases`: **result** lines in, the Spira test cases they need created, their **map**
//! lines (`key,test_case_id`) out. Each job has its module: the command line, which tests need
//! a case, the requests, the folder tree, creating the cases, the journal, the map lines, the
//! dry run.

mod api;
mod args;
mod create;
mod dry;
mod folders;
mod journal;
mod needs;
mod output;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use crate::cli;
use crate::config::Connection;
use crate::error::{Error, Result, EXIT_DATA};
use api::Api;
pub use args::Args;
use args::Lookup;
use create::{case_body, Creator, Fields, Job, Tally};
use dry::DryRun;
use folders::{Folder, Tree};
use journal::Journal;
use needs::{Found, Needed};
use output::MapOut;

/// The entry point of `spira-cases`.
pub fn run(mut args: Args) -> Result<()> {
    // Names to IDs first, once (`names`): a name that matches nothing stops before anything
    // is created.
    if args.test_set_name.is_some() || args.release_version.is_some() {
        let mut names = crate::names::Names::connect(&args.conn)?;
        if let Some(t) = &args.test_set_name {
            args.test_set = Some(names.test_set(t)?);
        }
        if let Some(v) = &args.release_version {
            args.release = Some(names.release(v)?);
        }
    }
    if args.jobs > 3 {
        cli::warn(format_args!(
            "--jobs {}: Spira's database deadlocks under parallel writers; 1 to 3 is advised",
            args.jobs
        ));
    }
    // With --append, a map file that does not exist yet is an empty one.
    let mut ids = args.ids.clone();
    if args.append
        && ids
            .map
            .as_deref()
            .is_some_and(|m| !std::path::Path::new(m).exists())
    {
        ids.map = None;
    }
    let (resolver, _) = ids.resolver()?;
    let inputs = cli::inputs(&args.files);
    let found = needs::read(&inputs, &resolver, args.folders)?;
    let conn = if args.offline {
        args.conn.resolve_without_key()?
    } else {
        args.conn.resolve()?
    };
    let stop = AtomicBool::new(false);
    let api = Api {
        sender: args.retry.sender(
            args.conn.agent()?,
            &conn,
            args.conn.auth,
            args.verbose,
            &stop,
        ),
        base: conn.project_base(args.conn.api_version),
    };
    let mut run = Run {
        args: &args,
        conn: &conn,
        all_api: &api,
        api: (!args.offline).then_some(&api),
        found,
        rng: crate::client::send::seed(7),
        counts: Counts::default(),
        stop: &stop,
    };
    let result = run.all();
    run.summary();
    result?;
    if run.found.bad > 0 || run.counts.tally.rejected > 0 {
        return Err(Error::Exit(EXIT_DATA));
    }
    Ok(())
}

/// What the summary counts beyond the reading.
#[derive(Default)]
struct Counts {
    by_lookup: u64,
    folders: u64,
    tally: Tally,
    would_create: u64,
}

/// One run of the tool.
struct Run<'a> {
    args: &'a Args,
    conn: &'a Connection,
    /// The API, whether or not the run may use it (an offline dry run sends nothing).
    all_api: &'a Api<'a>,
    /// The API, when the run may use it.
    api: Option<&'a Api<'a>>,
    found: Found,
    rng: u64,
    counts: Counts,
    stop: &'a AtomicBool,
}

impl Run<'_> {
    /// Looks up, then creates (or, in a dry run, shows) what is still missing.
    fn all(&mut self) -> Result<()> {
        let mut tree = Tree::load(self.api, self.args.root_folder, &mut self.rng)?;
        let journal = match (&self.args.journal, self.args.dry_run) {
            (Some(p), false) => Some(Journal::open(p, self.conn)?),
            _ => None,
        };
        let mut out = match (self.args.dry_run, self.args.append, &self.args.ids.map) {
            (true, ..) => None,
            (false, true, Some(m)) => Some(MapOut::append(std::path::Path::new(m))?),
            _ => Some(MapOut::stdout()),
        };
        let needed = std::mem::take(&mut self.found.needed);
        let needed = self.lookup(needed, out.as_mut())?;
        let creator = Creator {
            api: self.all_api,
            journal: journal.as_ref(),
            fields: Fields {
                engine: self.args.automation_engine,
                status: self.args.status_id,
                kind: self.args.type_id,
            },
            verbose: self.args.verbose,
            out: Mutex::new(out.unwrap_or_else(MapOut::stdout)),
            tally: Mutex::new(Tally::default()),
            listed: Mutex::new(HashMap::new()),
            new_ids: Mutex::new(Vec::new()),
            stop: self.stop,
        };
        let result = self.create(&mut tree, &creator, needed);
        self.counts.folders = tree.created;
        self.counts.tally = creator
            .tally
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        result
    }

    /// With `--lookup name`: the tests whose name a project test case has are mapped to it;
    /// returns the rest.
    fn lookup(&mut self, needed: Vec<Needed>, mut out: Option<&mut MapOut>) -> Result<Vec<Needed>> {
        let (Some(Lookup::Name), Some(api)) = (self.args.lookup, self.api) else {
            return Ok(needed);
        };
        let agent = api.sender.agent.clone();
        let mut names: HashMap<String, u64> = HashMap::new();
        crate::client::each_page(&agent, self.conn, &self.args.conn, |page| {
            for tc in page {
                if let Some(n) = tc.name {
                    names.entry(n.to_lowercase()).or_insert(tc.test_case_id);
                }
            }
            Ok(())
        })?;
        let mut rest = Vec::new();
        for n in needed {
            match names.get(&n.name.to_lowercase()) {
                Some(&id) => {
                    self.counts.by_lookup += 1;
                    if let Some(o) = out.as_deref_mut() {
                        o.line(&n.key, id)?;
                    }
                }
                None => rest.push(n),
            }
        }
        Ok(rest)
    }

    /// The folders, then the test cases: shown in a dry run, else created.
    fn create(
        &mut self,
        tree: &mut Tree,
        creator: &Creator<'_>,
        needed: Vec<Needed>,
    ) -> Result<()> {
        if self.args.dry_run {
            return self.dry_run(tree, creator, needed);
        }
        // What an earlier run made is found first, so that only what is new is counted.
        let mut jobs = Vec::new();
        for n in needed {
            let earlier = self.earlier(tree, creator, &n)?;
            jobs.push((n, earlier));
        }
        let new = jobs.iter().filter(|(_, e)| e.is_none()).count();
        self.confirm(new)?;
        let mut work = Vec::new();
        for (n, earlier) in jobs {
            let folder = match earlier {
                Some(f) => f,
                None => tree.ensure(self.api, &n.path, &mut None, &mut self.rng)?,
            };
            if let Folder::Real(f) = folder {
                if !tree.existing.contains(&f) {
                    // Made by this run: it holds nothing made earlier, and needs no listing.
                    let mut listed = creator.listed.lock().unwrap_or_else(|p| p.into_inner());
                    listed.entry(Some(f)).or_default();
                }
            }
            work.push(Job {
                needed: n,
                folder: folder.id(),
            });
        }
        creator.run(work, usize::try_from(self.args.jobs).unwrap_or(1))?;
        self.memberships(creator)
    }

    /// The folder of a test whose test case an earlier run made (known from the journal, or
    /// found in the folder, which exists), or `None` when it is to be created.
    fn earlier(
        &mut self,
        tree: &Tree,
        creator: &Creator<'_>,
        n: &Needed,
    ) -> Result<Option<Folder>> {
        let lower = n.key.to_lowercase();
        let folder = tree.existing_folder(&n.path);
        if creator
            .journal
            .is_some_and(|j| j.created.contains_key(&lower))
        {
            return Ok(Some(folder.unwrap_or(Folder::Root)));
        }
        let (Some(folder @ (Folder::Root | Folder::Real(_))), Some(api)) = (folder, self.api)
        else {
            return Ok(None);
        };
        let mut listed = creator.listed.lock().unwrap_or_else(|p| p.into_inner());
        let cases = match listed.entry(folder.id()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(create::list_folder(api, folder.id(), &mut self.rng)?)
            }
        };
        Ok(cases.contains_key(&lower).then_some(folder))
    }

    /// Above `--confirm-above` new test cases: asks once on a terminal, or refuses without
    /// `--yes`.
    fn confirm(&self, new: usize) -> Result<()> {
        if new <= self.args.confirm_above || self.args.yes {
            return Ok(());
        }
        let refuse = || {
            Error::Usage(format!(
                "{new} test cases would be created, more than --confirm-above {}: add --yes (or see them first with --dry-run)",
                self.args.confirm_above
            ))
        };
        if !std::io::stderr().is_terminal() {
            return Err(refuse());
        }
        let Ok(tty) = std::fs::File::open("/dev/tty") else {
            return Err(refuse());
        };
        eprint!(
            "{}: create {new} test cases in project PR:{}? [y/N] ",
            cli::tool(),
            self.conn.project
        );
        let mut answer = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(tty), &mut answer);
        if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            Ok(())
        } else {
            Err(refuse())
        }
    }

    /// The dry run: each folder and test case that would be created, and the memberships, as
    /// requests.
    fn dry_run(
        &mut self,
        tree: &mut Tree,
        creator: &Creator<'_>,
        needed: Vec<Needed>,
    ) -> Result<()> {
        let mut dry = Some(DryRun {
            out: cli::LineOut::stdout(),
            conn: self.conn,
            auth: self.args.conn.auth,
            base: self.conn.project_base(self.args.conn.api_version),
            requests: 0,
        });
        for n in needed {
            if self.api.is_some() && self.earlier(tree, creator, &n)?.is_some() {
                continue;
            }
            let folder = tree.ensure(None, &n.path, &mut dry, &mut self.rng)?;
            let body = case_body(&n, folder.id(), &creator.fields);
            let note = match folder {
                Folder::Planned(_) => format!(
                    "creates the test case {} (in the folder created above)",
                    n.key
                ),
                _ => format!("creates the test case {}", n.key),
            };
            if let Some(d) = dry.as_mut() {
                d.request("test-cases", &body, &cli::printable(&note))?;
            }
            self.counts.would_create += 1;
        }
        if let Some(mut d) = dry {
            if self.counts.would_create > 0 {
                if let Some(s) = self.args.test_set {
                    cli::info(format_args!(
                        "dry run: each new test case would be added to test set TX:{s}"
                    ));
                }
                if let Some(r) = self.args.release {
                    cli::info(format_args!(
                        "dry run: the new test cases would be added to release RL:{r}"
                    ));
                }
            }
            d.out.flush()?;
        }
        Ok(())
    }

    /// `--test-set` and `--release`: the new test cases added to them.
    fn memberships(&mut self, creator: &Creator<'_>) -> Result<()> {
        let ids = creator
            .new_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(api) = self.api else {
            return Ok(());
        };
        if let Some(set) = self.args.test_set {
            for id in &ids {
                let url = format!("{}/test-sets/{set}/test-case-mapping/{id}", api.base);
                added(
                    api.sender.post_blind(&url, "[]", &mut self.rng).answer,
                    &format!("TC:{id} to test set TX:{set}"),
                )?;
            }
        }
        if let Some(release) = self.args.release {
            for chunk in ids.chunks(crate::client::PAGE) {
                let url = format!("{}/releases/{release}/test-cases", api.base);
                let body = serde_json::to_string(chunk).unwrap_or_default();
                added(
                    api.sender.post_blind(&url, &body, &mut self.rng).answer,
                    &format!("{} test cases to release RL:{release}", chunk.len()),
                )?;
            }
        }
        Ok(())
    }

    fn summary(&self) {
        if self.args.quiet {
            return;
        }
        let (f, c) = (&self.found, &self.counts);
        let t = &c.tally;
        let mut s = format!(
            "{} tests: {} mapped already, {} found by name, {} made earlier",
            f.seen, f.mapped, c.by_lookup, t.earlier
        );
        if self.args.dry_run {
            s.push_str(&format!(
                "; dry run: {} test cases would be created",
                c.would_create
            ));
        } else {
            s.push_str(&format!(
                "; {} test cases created ({} folders)",
                t.created, c.folders
            ));
        }
        if t.rejected > 0 {
            s.push_str(&format!("; {} rejected", t.rejected));
        }
        if f.bad > 0 {
            s.push_str(&format!("; {} lines were not result lines", f.bad));
        }
        cli::info(format_args!("{s}"));
    }
}

/// A membership request's answer: done, or reported (a rejection is a warning; a refusal of the
/// credentials or a network that stays down an error).
fn added(answer: crate::client::send::Answer, what: &str) -> Result<()> {
    use crate::client::send::Answer;
    match answer {
        Answer::Ok(_) => Ok(()),
        Answer::Rejected(status, m) => {
            cli::warn(format_args!("could not add {what}: {status} {m}"));
            Ok(())
        }
        Answer::Denied(status) => Err(Error::Server(format!(
            "{status} from Spira when adding {what}"
        ))),
        Answer::Redirected(status, to) => Err(crate::client::redirected(status, &to)),
        Answer::GaveUp(why) | Answer::Uncertain(why) => {
            Err(Error::Server(format!("adding {what}: {why}")))
        }
        Answer::Stopped => Ok(()),
    }
}
