//! `spira-batch`: run lines in, JSON arrays of runs out (one request body per line); and
//! `--unbatch`, the way back.

use std::path::PathBuf;

use clap::Parser;
use serde_json::value::RawValue;

use crate::cli;
use crate::error::{Error, Result};
use crate::record::Kind;

const EXAMPLES: &str = "\
Examples:
  spira-map --map ids.csv < results.jsonl | spira-validate | spira-batch > batches.jsonl
  spira-batch --size 100 --max-bytes 4M runs.jsonl
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
    let size = args.size as usize;
    let mut body: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut count = 0usize;
    let mut first = String::new();
    cli::each_line(inputs, |name, n, line| {
        // The first line of each input is read whole, for a hint when it is another stage's
        // records (result lines, batches).
        if first != name {
            first = name.to_string();
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
        if line.len() + 2 > args.max_bytes {
            return Err(Error::Data(format!(
                "{name}:{n}: this run is {} bytes, more than --max-bytes {} allows in a batch",
                line.len(),
                args.max_bytes
            )));
        }
        if count > 0 && (count == size || body.len() + 1 + line.len() + 1 > args.max_bytes) {
            flush(out, &mut body, &mut count)?;
        }
        body.push(if count == 0 { b'[' } else { b',' });
        body.extend_from_slice(line);
        count += 1;
        Ok(())
    })?;
    if count > 0 {
        flush(out, &mut body, &mut count)?;
    }
    Ok(())
}

fn flush(out: &mut cli::LineOut, body: &mut Vec<u8>, count: &mut usize) -> Result<()> {
    body.extend_from_slice(b"]\n");
    out.raw_line(body)?;
    body.clear();
    *count = 0;
    Ok(())
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
