//! `spira-batch`: run lines in, JSON arrays of runs out (one request body per line); and
//! `--unbatch`, the way back.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::value::RawValue;

use crate::cli;
use crate::error::{Error, Result};
use crate::record::Kind;

const EXAMPLES: &str = "\
Examples:
  spira-map --map ids.csv < results.jsonl | spira-validate | spira-batch > batches.jsonl
  spira-batch --size 100 --max-bytes 4M runs.jsonl
  go test -json ./... | spira-parse | spira-map --map ids.csv | spira-batch --linger 5s | spira-post
  spira-batch --unbatch spira-post.dead.jsonl > to-fix.jsonl";

/// Spira's advice: 100 to 500 runs per record-multiple call.
pub(crate) const ADVISED_MAX: usize = 500;

/// Groups lines into JSON arrays of runs, one array per line, each a record-multiple body.
#[derive(Parser, Debug)]
#[command(name = "spira-batch", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// Runs per batch (Spira advises 100 to 500).
    #[arg(long, value_name = "N", default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) size: u64,

    /// A batch is also closed before its body would pass this many bytes; K, M, G suffixes.
    #[arg(long, value_name = "BYTES", default_value = "8M", value_parser = cli::parse_size)]
    pub(crate) max_bytes: usize,

    /// Also write a batch that is not full once its oldest run has waited DURATION (`5s`,
    /// `500ms`): runs reach Spira while the tests still run.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "unbatch")]
    pub(crate) linger: Option<Duration>,

    /// The reverse: arrays (and dead-letter records with a `runs` array) to one object per line.
    #[arg(long)]
    pub(crate) unbatch: bool,
}

/// The entry point of `spira-batch`.
pub fn run(args: Args) -> Result<()> {
    let inputs = cli::inputs(&args.files);
    let mut out = cli::LineOut::stdout();
    let result = if args.unbatch {
        unbatch(&inputs, &mut out)
    } else {
        if args.size as usize > ADVISED_MAX {
            cli::warn(format_args!(
                "--size {} is above Spira's advice of 100 to 500 runs per request",
                args.size
            ));
        }
        batch(&inputs, &args, &mut out)
    };
    out.flush()?;
    result
}

fn batch(inputs: &[cli::Input], args: &Args, out: &mut cli::LineOut) -> Result<()> {
    let mut b = Batcher::new(args);
    match args.linger {
        Some(linger) => lingering(inputs, &mut b, linger, out)?,
        None => cli::each_line_or_idle(inputs, |line| match line {
            Some((name, n, line)) => b.push(name, n, line, out),
            None => out.hand_on(),
        })?,
    }
    b.close(out)
}

/// The batch being gathered.
struct Batcher {
    size: usize,
    max_bytes: usize,
    body: Vec<u8>,
    count: usize,
    /// The input whose first line was checked.
    first: String,
}

impl Batcher {
    fn new(args: &Args) -> Batcher {
        Batcher {
            size: args.size as usize,
            max_bytes: args.max_bytes,
            body: Vec::with_capacity(1 << 16),
            count: 0,
            first: String::new(),
        }
    }

    /// One run line into the batch, the batch before it written out when this one would not fit.
    fn push(&mut self, name: &str, n: u64, line: &[u8], out: &mut cli::LineOut) -> Result<()> {
        // The first line of each input is read whole, for a hint when it is another stage's
        // records (result lines, batches).
        if self.first != name {
            self.first = name.to_string();
            if let Some(hint) = Kind::hint(line, Kind::Run) {
                return Err(Error::Data(format!("{name}:{n}: not a run line: {hint}")));
            }
        }
        // The shape only: a full JSON check would double the cost of this stage, and is
        // spira-validate's job.
        let trimmed = line.trim_ascii();
        if trimmed.first() != Some(&b'{') || trimmed.last() != Some(&b'}') {
            return Err(Error::Data(format!(
                "{name}:{n}: not a JSON object: a run line is {{...}}"
            )));
        }
        // `[` + runs joined by `,` + `]`.
        if line.len() + 2 > self.max_bytes {
            return Err(Error::Data(format!(
                "{name}:{n}: this run is {} bytes, more than --max-bytes {} allows in a batch",
                line.len(),
                self.max_bytes
            )));
        }
        if self.count > 0
            && (self.count == self.size || self.body.len() + 1 + line.len() + 1 > self.max_bytes)
        {
            self.close(out)?;
        }
        self.body.push(if self.count == 0 { b'[' } else { b',' });
        self.body.extend_from_slice(line);
        self.count += 1;
        Ok(())
    }

    /// Writes the batch gathered, if any.
    fn close(&mut self, out: &mut cli::LineOut) -> Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        self.body.extend_from_slice(b"]\n");
        out.raw_line(&self.body)?;
        self.body.clear();
        self.count = 0;
        Ok(())
    }
}

/// What the reading thread of `--linger` hands over.
enum Read {
    /// A line of input number `.0`.
    Line(usize, u64, Vec<u8>),
    /// The input may wait now.
    Idle,
    /// The inputs ended, or could not be read.
    End(Result<()>),
}

/// `--linger`: the lines are read by a thread of their own, so that a batch whose oldest run
/// has waited `linger` is written out while the input is idle. The thread is not joined: on
/// an error the tool ends without waiting for an idle input.
fn lingering(
    inputs: &[cli::Input],
    b: &mut Batcher,
    linger: Duration,
    out: &mut cli::LineOut,
) -> Result<()> {
    let (tx, rx) = mpsc::sync_channel::<Read>(4096);
    let owned: Vec<cli::Input> = inputs
        .iter()
        .map(|i| match &i.path {
            Some(p) => cli::Input::new(p),
            None => cli::Input::stdin(),
        })
        .collect();
    std::thread::spawn(move || {
        let mut i = 0usize;
        let mut name = String::new();
        let read = cli::each_line_or_idle(&owned, |line| {
            let msg = match line {
                Some((at, n, line)) => {
                    if at != name {
                        name = at.to_string();
                        i = owned.iter().position(|x| x.name == at).unwrap_or(0);
                    }
                    Read::Line(i, n, line.to_vec())
                }
                None => Read::Idle,
            };
            // The batcher stopped (an error): so does the reading.
            tx.send(msg).map_err(|_| Error::Exit(crate::error::EXIT_OK))
        });
        let _ = tx.send(Read::End(read));
    });
    let mut oldest: Option<Instant> = None;
    loop {
        let msg = match oldest {
            Some(t) => match rx.recv_timeout(linger.saturating_sub(t.elapsed())) {
                Ok(m) => m,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    b.close(out)?;
                    out.hand_on()?;
                    oldest = None;
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => Read::End(Ok(())),
            },
            None => rx.recv().unwrap_or(Read::End(Ok(()))),
        };
        match msg {
            Read::Line(i, n, line) => {
                let name = inputs.get(i).map_or("", |x| x.name.as_str());
                b.push(name, n, &line, out)?;
                if b.count == 1 {
                    oldest = Some(Instant::now());
                }
            }
            Read::Idle => out.hand_on()?,
            Read::End(r) => return r,
        }
    }
}

/// A duration: a number (fractions allowed) and a unit, `ms`, `s`, `m` or `h`; a bare number is
/// seconds. (Hand-written: humantime takes no fractions, `0.5s`.)
pub(crate) fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit '{other}': use ms, s, m or h (5s, 500ms)"
            ))
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration such as 5s or 500ms"))?;
    Duration::try_from_secs_f64(n * scale)
        .ok()
        .filter(|d| !d.is_zero() && d.as_secs() <= 86_400)
        .ok_or_else(|| format!("'{s}': give more than 0 and at most a day"))
}

/// A dead-letter record, as spira-post writes them: the runs of a rejected batch.
#[derive(serde::Deserialize)]
struct DeadLetter<'a> {
    #[serde(borrow)]
    runs: Vec<&'a RawValue>,
}

fn unbatch(inputs: &[cli::Input], out: &mut cli::LineOut) -> Result<()> {
    cli::each_line(inputs, |name, n, line| {
        let runs = match line.trim_ascii().first() {
            Some(b'[') => serde_json::from_slice::<Vec<&RawValue>>(line).ok(),
            Some(b'{') => serde_json::from_slice::<DeadLetter<'_>>(line)
                .ok()
                .map(|d| d.runs),
            _ => None,
        };
        let runs = match runs {
            Some(r) => r,
            None => {
                return Err(Error::Data(format!(
                    "{name}:{n}: not a batch (a JSON array) nor a dead-letter record (an object with a \"runs\" array)"
                )))
            }
        };
        // A run is an object: anything else is not one, and is refused by its place.
        if let Some(k) = runs.iter().position(|r| !r.get().starts_with('{')) {
            return Err(Error::Data(format!(
                "{name}:{n}: item {} of the batch is not a run (a JSON object): {}",
                k + 1,
                cli::printable(&runs[k].get().chars().take(40).collect::<String>())
            )));
        }
        for r in runs {
            out.line(|buf| buf.extend_from_slice(r.get().as_bytes()))?;
        }
        Ok(())
    })
}
