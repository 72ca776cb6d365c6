//! `spira-validate`: lines in, the valid ones out unchanged; each invalid one reported with
//! every reason, and kept in a reject file if asked, never passed on.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError, Validator};
use serde_json::{Map, Value};

use crate::cli;
use crate::error::{Error, Result, EXIT_DATA};
use crate::spira::utf16_len;

/// The result contract.
pub(crate) const RESULT_SCHEMA: &str = include_str!("../schemas/test-result.schema.json");
/// The run contract.
pub(crate) const RUN_SCHEMA: &str =
    include_str!("../schemas/remote-automated-test-run.schema.json");
/// The batch contract.
pub(crate) const BATCH_SCHEMA: &str = include_str!("../schemas/batch.schema.json");

const EXAMPLES: &str = "\
Examples:
  spira-map --map ids.csv < results.jsonl | spira-validate | spira-batch > batches.jsonl
  spira-validate --schema result --reject bad.jsonl results.jsonl > good.jsonl
  spira-validate --schema my-schema.json --fail-fast lines.jsonl";

/// Checks every line against a JSON Schema: valid lines pass through unchanged, invalid ones
/// are reported with all their errors and never passed on.
#[derive(Parser, Debug)]
#[command(name = "spira-validate", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// The schema: run (default), result, batch, or the path of a JSON Schema file.
    #[arg(long, value_name = "run|result|batch|PATH", default_value = "run")]
    pub(crate) schema: String,

    /// Append each invalid line to FILE as {"line", "errors", "input"}.
    #[arg(long, value_name = "FILE")]
    pub(crate) reject: Option<PathBuf>,

    /// Stop at the first invalid line.
    #[arg(long)]
    pub(crate) fail_fast: bool,
}

/// `maxUtf16Length`: a string's length in UTF-16 code units, as Spira's columns count it.
struct MaxUtf16 {
    max: usize,
}

impl<'i> Keyword<'i> for MaxUtf16 {
    fn validate(&self, instance: &'i Value) -> std::result::Result<(), ValidationError<'i>> {
        match instance.as_str().map(utf16_len) {
            Some(n) if n > self.max => Err(ValidationError::custom(format!(
                "is {n} UTF-16 units long, more than the {} Spira's column holds",
                self.max
            ))),
            _ => Ok(()),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|s| utf16_len(s) <= self.max)
    }
}

fn max_utf16<'a>(
    _parent: &'a Map<String, Value>,
    value: &'a Value,
    _path: Location,
) -> std::result::Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let max = value
        .as_u64()
        .ok_or_else(|| ValidationError::custom("maxUtf16Length must be a non-negative integer"))?;
    Ok(Box::new(MaxUtf16 { max: max as usize }))
}

/// The schema named by `--schema`, with the batch schema's reference to the run schema
/// resolved from the embedded copy (nothing is fetched).
pub(crate) fn load_schema(which: &str) -> Result<Value> {
    let parse = |text: &str, name: &str| -> Result<Value> {
        serde_json::from_str(text)
            .map_err(|e| Error::Usage(format!("schema {name}: not valid JSON: {e}")))
    };
    Ok(match which {
        "run" => parse(RUN_SCHEMA, "run")?,
        "result" => parse(RESULT_SCHEMA, "result")?,
        "batch" => {
            let mut b = parse(BATCH_SCHEMA, "batch")?;
            b["items"] = parse(RUN_SCHEMA, "run")?;
            b
        }
        path => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::Usage(format!(
                    "cannot open schema '{path}': {}",
                    cli::io_reason(&e)
                ))
            })?;
            parse(&text, path)?
        }
    })
}

/// A validator for `schema`, with the `maxUtf16Length` keyword.
pub(crate) fn compile(schema: &Value) -> Result<Validator> {
    jsonschema::options()
        .with_keyword("maxUtf16Length", max_utf16)
        .build(schema)
        .map_err(|e| Error::Usage(format!("the schema does not compile: {e}")))
}

/// The reasons `value` is invalid, as `/pointer: reason` (empty when valid).
pub(crate) fn errors(validator: &Validator, value: &Value) -> Vec<String> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    validator
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect()
}

/// A line of the reject file.
#[derive(serde::Serialize)]
struct Rejected<'a> {
    line: u64,
    errors: &'a [String],
    input: &'a str,
}

/// The entry point of `spira-validate`.
pub fn run(args: Args) -> Result<()> {
    let validator = compile(&load_schema(&args.schema)?)?;
    let mut reject = args.reject.as_deref().map(cli::open_append).transpose()?;
    let mut out = cli::LineOut::stdout();
    let (mut valid, mut rejected) = (0u64, 0u64);
    let inputs = cli::inputs(&args.files);
    let result = cli::each_line_or_idle(&inputs, |line| {
        let Some((name, n, line)) = line else {
            return out.hand_on();
        };
        let errs = match serde_json::from_slice::<Value>(line) {
            Ok(v) => errors(&validator, &v),
            Err(e) => vec![format!("/: not JSON: {e}")],
        };
        if errs.is_empty() {
            valid += 1;
            return out.line(|buf| buf.extend_from_slice(line));
        }
        rejected += 1;
        for e in &errs {
            cli::error(format_args!("{name}:{n}: {e}"));
        }
        if let Some(w) = reject.as_mut() {
            let record = Rejected {
                line: n,
                errors: &errs,
                input: &String::from_utf8_lossy(line),
            };
            serde_json::to_writer(&mut *w, &record).map_err(std::io::Error::from)?;
            w.write_all(b"\n")?;
        }
        if args.fail_fast {
            return Err(Error::Exit(EXIT_DATA));
        }
        Ok(())
    });
    out.flush()?;
    if let Some(w) = reject.as_mut() {
        w.flush()?;
    }
    match result {
        Err(Error::Exit(_)) | Ok(()) if rejected > 0 => {
            cli::info(format_args!(
                "{} lines: {valid} valid, {rejected} rejected{}",
                valid + rejected,
                if args.fail_fast {
                    " (stopped at the first)"
                } else {
                    ""
                }
            ));
            Err(Error::Exit(EXIT_DATA))
        }
        other => other,
    }
}
