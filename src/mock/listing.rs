//! Listing stored test runs, as Spira does: `GET test-runs` a page at a time, sorted, and
//! `POST test-runs/search` with filters. What spira-post reads back to tell whether a batch
//! whose answer was lost was stored.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;

use super::http::{plain, remote_filters, Reply};
use super::state::{Config, State, Stored};
use crate::date;

/// The most rows a page holds.
const MAX_ROWS: usize = 500;

/// A page: from `starting_row` (1-based), `number_of_rows` rows, sorted.
struct Page {
    start: usize,
    rows: usize,
    sort: String,
    descending: bool,
}

/// The page the query asks for; `sort_field` must be one the server sorts on (`--sort-fields`).
fn page(query: &HashMap<String, String>, config: &Config) -> Result<Page, Reply> {
    let number = |k: &str| -> Result<usize, Reply> {
        let v = query
            .get(k)
            .ok_or_else(|| plain(400, format!("The {k} parameter is required")))?;
        v.trim()
            .parse()
            .map_err(|_| plain(400, format!("The {k} parameter '{v}' is not a number")))
    };
    let start = number("starting_row")?.max(1);
    let rows = number("number_of_rows")?.min(MAX_ROWS);
    // Without a sort field, runs come in the order stored.
    let sort = query.get("sort_field").cloned().unwrap_or_default();
    if !sort.is_empty()
        && !config
            .args
            .sort_fields
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&sort))
    {
        return Err(plain(
            400,
            format!("The sort field '{sort}' is not valid for test runs"),
        ));
    }
    let descending = query
        .get("sort_direction")
        .is_some_and(|d| d.eq_ignore_ascii_case("DESC"));
    Ok(Page {
        start,
        rows,
        sort,
        descending,
    })
}

/// The runs that pass `keep`, sorted and cut to the page, as a JSON array.
fn answer(runs: &[Stored], page: &Page, keep: impl Fn(&Stored) -> bool) -> Reply {
    let mut picked: Vec<&Stored> = runs.iter().filter(|r| keep(r)).collect();
    if page.sort.eq_ignore_ascii_case("EndDate") {
        picked.sort_by_key(|r| (r.index.end, r.id));
    } else if page.sort.eq_ignore_ascii_case("StartDate") {
        picked.sort_by_key(|r| (r.index.start, r.id));
    }
    if page.descending {
        picked.reverse();
    }
    let mut out = Vec::with_capacity(page.rows * 256);
    out.push(b'[');
    for (i, r) in picked
        .iter()
        .skip(page.start - 1)
        .take(page.rows)
        .enumerate()
    {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r.json.as_bytes());
    }
    out.push(b']');
    (200, out, true)
}

/// `GET projects/{pid}/test-runs?starting_row&number_of_rows&sort_field&sort_direction`.
pub(super) fn list(
    query: &HashMap<String, String>,
    config: &Config,
    state: &Mutex<State>,
) -> Reply {
    let page = match page(query, config) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let st = state.lock().unwrap_or_else(|p| p.into_inner());
    answer(&st.runs, &page, |_| true)
}

/// One filter of a search (`RemoteFilter`): the values it accepts.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Filter {
    property_name: String,
    #[serde(default)]
    int_value: Option<u64>,
    #[serde(default)]
    multi_value: Option<MultiValue>,
    #[serde(default)]
    date_range_value: Option<DateRange>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MultiValue {
    #[serde(default)]
    values: Vec<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DateRange {
    #[serde(default)]
    start_date: Option<String>,
    #[serde(default)]
    end_date: Option<String>,
}

/// A filter made ready: a set of integers or a range of instants on one field.
enum Test {
    Ints(String, Vec<u64>),
    Dates(String, Option<i64>, Option<i64>),
}

impl Test {
    fn of(f: Filter) -> Result<Test, String> {
        let name = f.property_name;
        if let Some(r) = f.date_range_value {
            let at = |s: Option<String>| -> Result<Option<i64>, String> {
                s.map(|s| date::parse_any(&s).ok_or_else(|| format!("'{s}' is not a date")))
                    .transpose()
            };
            return Ok(Test::Dates(name, at(r.start_date)?, at(r.end_date)?));
        }
        let values = match (f.int_value, f.multi_value) {
            (Some(v), _) => vec![v],
            (None, Some(m)) => m.values,
            (None, None) => return Err(format!("The filter on {name} has no value")),
        };
        Ok(Test::Ints(name, values))
    }

    fn passes(&self, r: &Stored) -> Result<bool, String> {
        let unknown = |n: &str| format!("Test runs cannot be filtered on '{n}'");
        Ok(match self {
            Test::Ints(n, values) => match r.index.int(n).ok_or_else(|| unknown(n))? {
                Some(v) => values.contains(&v),
                None => false,
            },
            Test::Dates(n, from, to) => match r.index.date(n).ok_or_else(|| unknown(n))? {
                Some(t) => from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e),
                None => false,
            },
        })
    }
}

/// `POST projects/{pid}/test-runs/search?starting_row&number_of_rows&sort_field&sort_direction`
/// with an array of `RemoteFilter`s, every one of which a run must pass.
pub(super) fn search(
    query: &HashMap<String, String>,
    body: &[u8],
    config: &Config,
    state: &Mutex<State>,
) -> Reply {
    let page = match page(query, config) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let filters: Vec<Filter> = match remote_filters(body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let tests: Vec<Test> = match filters.into_iter().map(Test::of).collect() {
        Ok(t) => t,
        Err(m) => return plain(400, m),
    };
    let st = state.lock().unwrap_or_else(|p| p.into_inner());
    // An unknown field is refused whatever the runs are.
    let probe = Stored {
        id: 0,
        json: String::new(),
        index: Default::default(),
    };
    if let Some(Err(m)) = tests.iter().map(|t| t.passes(&probe)).find(Result::is_err) {
        return plain(400, m);
    }
    answer(&st.runs, &page, |r| {
        tests.iter().all(|t| t.passes(r).unwrap_or(false))
    })
}
