//! spira-map's command line.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::date;
use crate::mapping::IdArgs;
use crate::record::CustomProperty;

const EXAMPLES: &str = "\
Examples:
  spira-parse reports/ | spira-map --map ids.csv --release 45 > runs.jsonl
  spira-parse reports/ | spira-map --map spira.cfg --strict
  spira-parse report.xml | spira-map --default-test-case 99 --status skipped=3 --date-format wcf";

/// Turns result lines into Spira test runs (RemoteAutomatedTestRun), one per test case ID.
#[derive(Parser, Debug)]
#[command(name = "spira-map", version = crate::cli::VERSION, after_help = EXAMPLES)]
pub struct Args {
    /// Result-line files; `-` or nothing means standard input.
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// Which test case a test is.
    #[command(flatten)]
    pub(crate) ids: IdArgs,

    /// ReleaseId for every run (default: release_id from a spira.cfg map).
    #[arg(long, value_name = "ID")]
    pub(crate) release: Option<u64>,

    /// The release or iteration whose version number is V, for every run (asks the server).
    #[arg(long, value_name = "V", conflicts_with = "release")]
    pub(crate) release_version: Option<String>,

    /// TestSetId for every run without a per-suite or per-test one (default: test_set_id from a
    /// spira.cfg map).
    #[arg(long, value_name = "ID")]
    pub(crate) test_set: Option<u64>,

    /// The test set named NAME, as --test-set (asks the server).
    #[arg(long, value_name = "NAME", conflicts_with = "test_set")]
    pub(crate) test_set_name: Option<String>,

    /// BuildId for every run.
    #[arg(long, value_name = "ID")]
    pub(crate) build: Option<u64>,

    /// TestConfigurationId for every run.
    #[arg(long, value_name = "ID")]
    pub(crate) test_configuration: Option<u64>,

    /// AutomationHostId for every run.
    #[arg(long, value_name = "ID")]
    pub(crate) automation_host: Option<u64>,

    /// The automation host named NAME (or holding the token made from it), created when there
    /// is none: one host per CI agent (asks the server).
    #[arg(long, value_name = "NAME", conflicts_with = "automation_host")]
    pub(crate) automation_host_name: Option<String>,

    /// A custom property value, NUM=VALUE or NAME=VALUE (repeatable). With NUM, VALUE is text
    /// unless typed: int:5, decimal:1.5, bool:true, date:2024-05-14T12:00:00Z, list:1,2. With
    /// NAME, the property's definition (asked of the server) gives the type, and a list value
    /// is named: Browser=Chrome, Browsers=Chrome,Firefox.
    #[arg(long = "custom-property", value_name = "NUM|NAME=VALUE", value_parser = parse_custom)]
    pub(crate) custom_properties: Vec<CustomArg>,

    /// The connection, only for the names above (given IDs, spira-map connects to nothing).
    #[command(flatten)]
    pub(crate) conn: crate::config::ConnectionArgs,

    /// RunnerName: at most 20 characters.
    #[arg(long, default_value = "spira-pipe")]
    pub(crate) runner_name: String,

    /// Override a status mapping, NAME=ID (repeatable): NAME is passed, failed, error, skipped,
    /// warning, flaky, blocked, caution, not-run or n/a; ID is 1 Failed, 2 Passed, 3 Not Run,
    /// 4 N/A, 5 Blocked, 6 Caution.
    #[arg(long = "status", value_name = "NAME=ID", value_parser = parse_status)]
    pub(crate) statuses: Vec<(String, u8)>,

    /// Reference time for results without any time: ISO 8601 (default: now).
    #[arg(long, value_name = "TIME")]
    pub(crate) start: Option<String>,

    /// The zone of times written without one: UTC or a fixed offset such as +02:00.
    #[arg(long, default_value = "UTC", value_parser = parse_zone)]
    pub(crate) timezone: i32,

    /// How dates are written.
    #[arg(long, value_enum, default_value = "iso")]
    pub(crate) date_format: DateFormat,

    /// Write RunnerStackTrace as HTML (TestRunFormatId 2).
    #[arg(long)]
    pub(crate) html: bool,

    /// Steps to write: `steps` makes each of a result's steps (Cucumber, Robot, Allure) a
    /// TestRunStep; `reruns` each attempt of a rerun test. Without it, steps are listed in the
    /// stack trace.
    #[arg(long, value_enum)]
    pub(crate) steps: Option<Steps>,

    /// Read Parameters from a parameterised name: test_x[a-1], Test(value: 2).
    #[arg(long)]
    pub(crate) parameters_from_name: bool,

    /// One run per test case and test set: the worst status, the earliest start, the latest end.
    #[arg(long)]
    pub(crate) aggregate: bool,

    /// Write unmapped results to FILE as result lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) unmapped_out: Option<PathBuf>,

    /// Exit 1 when any result is unmapped.
    #[arg(long)]
    pub(crate) strict: bool,
}

/// How dates are written.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateFormat {
    /// `2024-05-14T12:00:00.000Z`.
    Iso,
    /// `/Date(1715688000000-0000)/`.
    Wcf,
}

/// Which steps to write.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Steps {
    /// One step per step of the result (a BDD step, a keyword).
    Steps,
    /// One step per attempt of a rerun test.
    Reruns,
}

fn parse_zone(s: &str) -> std::result::Result<i32, String> {
    date::parse_offset(s).ok_or_else(|| {
        format!("'{s}' is not UTC or a fixed offset such as +02:00 (zone names are not supported)")
    })
}

fn parse_status(s: &str) -> std::result::Result<(String, u8), String> {
    let (name, id) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=ID"))?;
    let id: u8 = id
        .trim()
        .parse()
        .ok()
        .filter(|i| (1..=6).contains(i))
        .ok_or_else(|| format!("'{id}' is not a status ID from 1 to 6"))?;
    let n = name.trim().to_lowercase().replace(['_', ' '], "-");
    let known = [
        "passed", "failed", "error", "skipped", "warning", "flaky", "blocked", "caution",
        "not-run", "n/a",
    ];
    if !known.contains(&n.as_str()) {
        return Err(format!("'{name}' is not one of {}", known.join(", ")));
    }
    Ok((n, id))
}

/// A `--custom-property`: by number, read here; or by name, resolved against the server.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CustomArg {
    Numbered(CustomProperty),
    Named(String, String),
}

fn parse_custom(s: &str) -> std::result::Result<CustomArg, String> {
    let (num, value) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not NUM=VALUE nor NAME=VALUE"))?;
    let Some(number) = num.trim().parse::<u32>().ok() else {
        if num.trim().is_empty() {
            return Err(format!("'{s}': the property's number or name is missing"));
        }
        return Ok(CustomArg::Named(num.trim().to_string(), value.to_string()));
    };
    if number < 1 {
        return Err(format!("'{num}' is not a custom property number"));
    }
    let mut p = CustomProperty {
        property_number: number,
        ..CustomProperty::default()
    };
    let bad = |t: &str| format!("'{value}' is not a valid {t}");
    match value.split_once(':') {
        Some(("int", v)) => p.integer_value = Some(v.trim().parse().map_err(|_| bad("int"))?),
        Some(("decimal", v)) => {
            p.decimal_value = Some(
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| bad("decimal"))?,
            )
        }
        Some(("bool", v)) => p.boolean_value = Some(v.trim().parse().map_err(|_| bad("bool"))?),
        Some(("date", v)) => {
            let t = date::parse_any(v.trim()).ok_or_else(|| bad("date"))?;
            p.date_time_value = Some(date::format_iso(t));
        }
        Some(("list", v)) => {
            p.integer_list_value = Some(
                v.split(',')
                    .map(|x| x.trim().parse::<i64>())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| bad("list"))?,
            )
        }
        _ => p.string_value = Some(value.to_string()),
    }
    Ok(CustomArg::Numbered(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_numbered(s: &str) -> std::result::Result<CustomProperty, String> {
        match parse_custom(s)? {
            CustomArg::Numbered(p) => Ok(p),
            CustomArg::Named(n, _) => Err(format!("named {n}")),
        }
    }

    #[test]
    fn custom_properties_are_typed() {
        assert_eq!(parse_numbered("3=int:5").unwrap().integer_value, Some(5));
        assert_eq!(
            parse_numbered("3=bool:true").unwrap().boolean_value,
            Some(true)
        );
        assert_eq!(
            parse_numbered("3=list:1,2").unwrap().integer_list_value,
            Some(vec![1, 2])
        );
        assert_eq!(
            parse_numbered("3=hello").unwrap().string_value.as_deref(),
            Some("hello")
        );
        assert_eq!(
            parse_numbered("3=date:2024-05-14T12:00:00Z")
                .unwrap()
                .date_time_value
                .as_deref(),
            Some("2024-05-14T12:00:00.000Z")
        );
        assert_eq!(
            parse_custom("Browser=Chrome"),
            Ok(CustomArg::Named("Browser".into(), "Chrome".into()))
        );
        assert!(parse_custom("=1").is_err());
        assert!(parse_numbered("3=int:five").is_err());
    }
}
