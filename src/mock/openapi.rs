//! Inflectra's OpenAPI description of the endpoints spira-pipe speaks
//! (`schemas/spira-openapi/spira-v7-excerpt.json`), read as JSON Schemas: spira-mock checks
//! every request it is sent against it, and with `--check-answers` every answer it gives.
//!
//! How the upstream description is read (docs/records.md, "Spira's API description"):
//! - `nullable: true` becomes a type list with `null`; a string without a `format` may be null
//!   too (the description marks no string nullable, yet .NET strings are, and Spira's own
//!   example sends `"RunnerStackTrace": null`); a `date-time` string may be null only where the
//!   description says so (`StartDate` may not).
//! - A property whose description ends with " - required" is required.
//! - `Int32`, `Int64`, `Byte`, `Boolean` and `DateTime` are .NET structs the generator
//!   described by their members; on the wire they are a number, a boolean or a string.
//! - `POST releases/{id}/builds` is described as a build search (`RemoteFilter`s in,
//!   `RemoteBuild`s out), and also creates a build (a `RemoteBuild` in, a `RemoteBuild` out), as
//!   Inflectra's own clients use it: either is taken.
//! - An answer described as `{"type": "object"}` is a method without a result: an empty body
//!   matches it.
//! - `BinaryData` is described as an array of `Byte` and, in the same breath, as "base64
//!   encoded if using the REST service": it is a base64 string, as Inflectra's clients send it.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::Validator;

mod flat;
use serde_json::{json, Map, Value};

static EXCERPT: &str = include_str!("../../schemas/spira-openapi/spira-v7-excerpt.json");

/// The path prefix of every described path, after the service root.
const SERVICE: [&str; 2] = [
    "/Services/v7_0/RestService.svc",
    "/Services/v6_0/RestService.svc",
];

/// The query parameters every endpoint takes: the credentials, in their query form.
const AUTH_QUERY: [&str; 2] = ["username", "api-key"];

/// The endpoints of the description, ready to check requests and answers.
pub(crate) struct Description {
    ops: Vec<Op>,
}

/// One method on one path.
pub(crate) struct Op {
    method: String,
    /// The path's segments; `None` for a `{parameter}`.
    segments: Vec<Option<String>>,
    /// Its name: `POST /projects/{project_id}/test-runs/record-multiple`.
    pub(crate) name: String,
    query: Vec<String>,
    body: Option<Checker>,
    answer: Option<Checker>,
    /// The answer is `{"type": "object"}`: a method without a result.
    void_answer: bool,
}

/// A schema, compiled when first used (a mock that starts compiles none), and what it is
/// called in messages.
struct Checker {
    what: String,
    /// The quick check, when the schema is a flat one.
    flat: Option<flat::Flat>,
    root: Value,
    validator: OnceLock<Result<Validator, String>>,
}

impl Description {
    /// The embedded excerpt, compiled (the binary carries it, so this cannot fail on a user's
    /// machine; a test compiles it on every `cargo test`).
    pub(crate) fn load() -> Result<Description, String> {
        let doc: Value = serde_json::from_str(EXCERPT).map_err(|e| e.to_string())?;
        let defs = definitions(&doc);
        let mut ops = Vec::new();
        for (path, methods) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in methods.as_object().into_iter().flatten() {
                ops.push(Op::new(path, method, op, &defs));
            }
        }
        Ok(Description { ops })
    }

    /// record-multiple, whose handler checks its runs itself.
    pub(crate) fn record_multiple(&self) -> Option<&Op> {
        self.ops
            .iter()
            .find(|op| op.method == "post" && op.checks_own_body())
    }

    /// The described operation for `method` on `path` (the whole URL path, service root and
    /// all), if the description has it.
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<&Op> {
        let rest = SERVICE.iter().find_map(|s| path.strip_prefix(s))?;
        let parts: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
        // `test-cases/count` is also `test-cases/{test_case_id}`: the literal wins.
        self.ops
            .iter()
            .filter(|op| {
                op.method.eq_ignore_ascii_case(method)
                    && op.segments.len() == parts.len()
                    && op
                        .segments
                        .iter()
                        .zip(&parts)
                        .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
            })
            .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
    }

    /// Every described operation's name.
    #[cfg(test)]
    fn names(&self) -> Vec<&str> {
        self.ops.iter().map(|o| o.name.as_str()).collect()
    }
}

impl Op {
    fn new(path: &str, method: &str, op: &Value, defs: &Value) -> Op {
        let name = format!("{} {path}", method.to_uppercase());
        let query = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        let segments = path
            .split('/')
            .skip(1)
            .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
            .collect();
        let builds = method == "post" && path.ends_with("/releases/{release_id}/builds");
        let described_body = &op["requestBody"]["content"]["application/json"]["schema"];
        let described_answer = &op["responses"]["200"]["content"]["application/json"]["schema"];
        // The builds' POST: a RemoteBuild creates one (answered with it), or the search as
        // described (RemoteFilters in, RemoteBuilds out).
        let remote_build = json!({"$ref": "#/components/schemas/RemoteBuild"});
        let build_body = json!({"anyOf": [remote_build, described_body]});
        let build_answer = json!({"anyOf": [remote_build, described_answer]});
        let body = match (builds, described_body) {
            (true, _) => Some(&build_body),
            (false, Value::Null) => None,
            (false, s) => Some(s),
        };
        let answer = match (builds, described_answer) {
            (true, _) => Some(&build_answer),
            (false, Value::Null) => None,
            (false, s) => Some(s),
        };
        Op {
            method: method.to_string(),
            segments,
            query,
            void_answer: answer == Some(&json!({"type": "object"})),
            body: body.map(|s| Checker::new(s, defs)),
            answer: answer.map(|s| Checker::new(s, defs)),
            name,
        }
    }

    /// Whether a request's query is one the description allows: `Err` names the parameter.
    pub(crate) fn check_query(&self, query: &HashMap<String, String>) -> Result<(), String> {
        let mut keys: Vec<&String> = query.keys().collect();
        keys.sort();
        match keys
            .into_iter()
            .find(|k| !self.query.contains(k) && !AUTH_QUERY.contains(&k.as_str()))
        {
            None => Ok(()),
            Some(k) => Err(format!(
                "query parameter '{k}' is not one of {}'s ({})",
                self.name,
                if self.query.is_empty() {
                    "it takes none".to_string()
                } else {
                    self.query.join(", ")
                }
            )),
        }
    }

    /// Whether a request's body is one the description allows: `Err` names the field and what
    /// was expected.
    pub(crate) fn check_body(&self, body: &[u8]) -> Result<(), String> {
        match &self.body {
            None => Ok(()),
            Some(c) => c.check_bytes(body, "body"),
        }
    }

    /// Both.
    #[cfg(test)]
    fn check_request(&self, query: &HashMap<String, String>, body: &[u8]) -> Result<(), String> {
        self.check_query(query).and_then(|()| self.check_body(body))
    }

    /// record-multiple: its handler reads the runs anyway, and checks them with
    /// [`Op::check_runs`] as it does.
    pub(crate) fn checks_own_body(&self) -> bool {
        self.name.ends_with("/test-runs/record-multiple")
    }

    /// record or record-multiple: a refusal is a rejected run.
    pub(crate) fn records_runs(&self) -> bool {
        self.name.ends_with("/test-runs/record-multiple")
            || self.name.ends_with("/test-runs/record")
    }

    /// Whether the runs of a record-multiple `body`, already read as `runs`, match; the quick
    /// check on what was read, the general validator only when it cannot vouch for them.
    pub(crate) fn check_runs(&self, runs: &[flat::Object<'_>], body: &[u8]) -> Result<(), String> {
        let quick = self.body.as_ref().and_then(|c| c.flat.as_ref());
        match quick {
            Some(f) if runs.iter().all(|r| f.object(r)) => Ok(()),
            _ => self.check_body(body),
        }
    }

    /// The 400 message of a request the description refuses; a run of a record-multiple is
    /// named as the mock's other checks name it (`Test run 3 of 10: …`), so that a client can
    /// set it aside.
    pub(crate) fn refusal(&self, body: &[u8], reason: &str) -> String {
        let run = reason
            .strip_prefix('/')
            .and_then(|r| r.split(['/', ':']).next())
            .and_then(|i| i.parse::<usize>().ok());
        let runs = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(body).map(|v| v.len());
        match (self.checks_own_body(), run, runs) {
            (true, Some(i), Ok(n)) => format!(
                "Test run {} of {n}: does not match Spira's API description: {reason}",
                i + 1
            ),
            _ => format!("The request does not match {}: {reason}", self.name),
        }
    }

    /// What Spira's reader makes of a body the description refuses (Spira takes a number
    /// written as a string): the body as read, and each field so taken; `Err` names the first
    /// value that cannot be read as its type.
    pub(crate) fn lenient(&self, body: &[u8]) -> Result<(Vec<u8>, Vec<String>), String> {
        match &self.body {
            None => Ok((body.to_vec(), Vec::new())),
            Some(c) => c.lenient(body, "body"),
        }
    }

    /// Whether a 200 answer with `body` matches the description.
    pub(crate) fn check_answer(&self, body: &[u8]) -> Result<(), String> {
        let Some(c) = &self.answer else {
            return Ok(());
        };
        if body.is_empty() && self.void_answer {
            return Ok(());
        }
        c.check_bytes(body, "answer")
    }
}

impl Checker {
    fn new(schema: &Value, defs: &Value) -> Checker {
        let mut root = translate(schema);
        if let Value::Object(o) = &mut root {
            o.insert("definitions".into(), defs.clone());
        }
        Checker {
            what: describe(schema),
            flat: flat::Flat::of(&root, defs),
            root,
            validator: OnceLock::new(),
        }
    }

    /// Whether the JSON text `body` (a request's body or an answer: `what`) matches.
    fn check_bytes(&self, body: &[u8], what: &str) -> Result<(), String> {
        if self.flat.as_ref().is_some_and(|f| f.surely_valid(body)) {
            return Ok(());
        }
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| format!("the {what} is not JSON ({e}); {} expected", self.what))?;
        self.check(&v)
    }

    /// The validator, compiled the first time.
    fn validator(&self) -> Result<&Validator, String> {
        let validator = self.validator.get_or_init(|| {
            jsonschema::options()
                .should_validate_formats(false)
                .build(&self.root)
                .map_err(|e| format!("{}: the schema does not compile: {e}", self.what))
        });
        validator.as_ref().map_err(String::clone)
    }

    /// The first reason `v` does not match, as `/pointer: reason`.
    fn check(&self, v: &Value) -> Result<(), String> {
        let validator = self.validator()?;
        if validator.is_valid(v) {
            return Ok(());
        }
        match validator.iter_errors(v).next() {
            None => Ok(()),
            Some(e) => Err(self.reason(&e)),
        }
    }

    fn reason(&self, e: &jsonschema::ValidationError<'_>) -> String {
        let at = e.instance_path().to_string();
        format!(
            "{}: {e} ({} expected)",
            if at.is_empty() { "/" } else { &at },
            self.what
        )
    }

    /// [`Op::lenient`]: every value the validator refuses must be a number written as a
    /// string where a number is described; each is replaced by the number, then the body is
    /// checked again (a few rounds at most: a replaced value may uncover another).
    fn lenient(&self, body: &[u8], what: &str) -> Result<(Vec<u8>, Vec<String>), String> {
        let mut v: Value = serde_json::from_slice(body)
            .map_err(|e| format!("the {what} is not JSON ({e}); {} expected", self.what))?;
        let validator = self.validator()?;
        let mut taken = std::collections::BTreeSet::new();
        for _ in 0..4 {
            let mut fixes = Vec::new();
            for e in validator.iter_errors(&v) {
                match number_in_string(&e) {
                    Some(n) => fixes.push((e.instance_path().as_str().to_string(), n)),
                    None => return Err(self.reason(&e)),
                }
            }
            if fixes.is_empty() {
                break;
            }
            for (at, n) in fixes {
                if let Some(x) = v.pointer_mut(&at) {
                    *x = n;
                }
                taken.insert(field_of(&at));
            }
        }
        self.check(&v)?;
        let body = serde_json::to_vec(&v).map_err(|e| e.to_string())?;
        Ok((body, taken.into_iter().collect()))
    }
}

/// The number a type error's value stands for, when the error is a string where an integer
/// or a number is described and the string reads as one (as .NET's `XmlConvert` reads it:
/// white space around it, a sign).
fn number_in_string(e: &jsonschema::ValidationError<'_>) -> Option<Value> {
    use jsonschema::error::{TypeKind, ValidationErrorKind};
    use jsonschema::JsonType;
    let ValidationErrorKind::Type { kind } = e.kind() else {
        return None;
    };
    let wants = |t: JsonType| match kind {
        TypeKind::Single(k) => *k == t,
        TypeKind::Multiple(set) => set.contains(t),
    };
    let s = e.instance().as_str()?.trim();
    if let Ok(n) = s.parse::<i64>() {
        return (wants(JsonType::Integer) || wants(JsonType::Number)).then(|| Value::from(n));
    }
    let f: f64 = s.parse().ok().filter(|f: &f64| f.is_finite())?;
    // Rust reads "inf" and "NaN"; .NET's invariant culture does not: digits only.
    let digits = s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    (digits && wants(JsonType::Number))
        .then(|| serde_json::Number::from_f64(f).map(Value::Number))
        .flatten()
}

/// A field named by its JSON pointer without the array indices: `/0/TestRunSteps/1/Position`
/// is `TestRunSteps.Position`; an array's own item is `(item)`.
fn field_of(pointer: &str) -> String {
    let names: Vec<&str> = pointer
        .split('/')
        .skip(1)
        .filter(|s| s.parse::<usize>().is_err())
        .collect();
    if names.is_empty() {
        "(item)".into()
    } else {
        names.join(".")
    }
}

/// `RemoteBuild`, `RemoteAutomatedTestRun[]`, `object`.
fn describe(schema: &Value) -> String {
    if let Some(all) = schema["anyOf"].as_array() {
        return all.iter().map(describe).collect::<Vec<_>>().join(" or ");
    }
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema["type"].as_str() {
        Some("array") => format!("{}[]", describe(&schema["items"])),
        Some(t) => t.to_string(),
        None => "a value".into(),
    }
}

/// The description's component schemas, translated, as a `definitions` object.
fn definitions(doc: &Value) -> Value {
    let mut defs = Map::new();
    for (k, v) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        defs.insert(k.clone(), translate(v));
    }
    Value::Object(defs)
}

/// One OpenAPI schema as a JSON Schema, by the rules at the top of this module.
fn translate(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    if let Some(r) = o.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return match name {
            "Int32" | "Int64" | "Byte" => json!({"type": "integer"}),
            "Boolean" => json!({"type": "boolean"}),
            "DateTime" => json!({"type": "string"}),
            _ => json!({"$ref": format!("#/definitions/{name}")}),
        };
    }
    let mut out = Map::new();
    for (k, x) in o {
        match k.as_str() {
            "nullable" | "example" | "description" => {}
            "properties" => {
                let props = x.as_object().into_iter().flatten();
                let required: Vec<Value> = props
                    .clone()
                    .filter(|(_, p)| {
                        p["description"]
                            .as_str()
                            .is_some_and(|d| d.ends_with(" - required"))
                    })
                    .map(|(n, _)| Value::String(n.clone()))
                    .collect();
                if !required.is_empty() {
                    out.insert("required".into(), Value::Array(required));
                }
                let props: Map<String, Value> = props
                    .map(|(n, p)| match n.as_str() {
                        "BinaryData" => (n.clone(), json!({"type": ["string", "null"]})),
                        _ => (n.clone(), translate(p)),
                    })
                    .collect();
                out.insert(k.clone(), Value::Object(props));
            }
            "items" => {
                out.insert(k.clone(), translate(x));
            }
            "anyOf" => {
                let each = x.as_array().into_iter().flatten().map(translate).collect();
                out.insert(k.clone(), Value::Array(each));
            }
            _ => {
                out.insert(k.clone(), x.clone());
            }
        }
    }
    let nullable = o.get("nullable") == Some(&Value::Bool(true))
        || (o.get("type") == Some(&json!("string")) && !o.contains_key("format"));
    if let (true, Some(t)) = (nullable, o.get("type").cloned()) {
        out.insert("type".into(), json!([t, "null"]));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Description {
        Description::load().unwrap()
    }

    const V7: &str = "/Services/v7_0/RestService.svc/projects/1";

    fn run() -> Value {
        json!({"TestCaseId": 5, "ExecutionStatusId": 2, "StartDate": "2024-05-14T12:00:00Z",
               "RunnerName": "x", "RunnerTestName": "a.b", "RunnerMessage": "Passed",
               "RunnerStackTrace": "", "TestRunFormatId": 1})
    }

    fn record(runs: Value) -> Result<(), String> {
        let d = d();
        let op = d
            .find("POST", &format!("{V7}/test-runs/record-multiple"))
            .unwrap();
        op.check_request(&HashMap::new(), runs.to_string().as_bytes())
    }

    #[test]
    fn the_excerpt_compiles_and_paths_are_found() {
        let d = d();
        assert_eq!(d.names().len(), 161, "{:?}", d.names());
        // Every schema compiles.
        for op in &d.ops {
            for c in [&op.body, &op.answer].into_iter().flatten() {
                let r = c.check(&Value::Null);
                assert!(
                    !r.as_ref().is_err_and(|e| e.contains("does not compile")),
                    "{}: {r:?}",
                    op.name
                );
            }
        }
        let count = d.find("GET", &format!("{V7}/test-cases/count")).unwrap();
        assert_eq!(count.name, "GET /projects/{project_id}/test-cases/count");
        let op = d
            .find("GET", &format!("{V7}/test-folders/12/test-cases"))
            .unwrap();
        assert_eq!(
            op.name,
            "GET /projects/{project_id}/test-folders/{test_case_folder_id}/test-cases"
        );
        assert!(d.find("GET", &format!("{V7}/releases")).is_some());
        assert!(d.find("GET", &format!("{V7}/no-such-thing")).is_none());
        assert!(d.find("GET", "/elsewhere/projects/1/test-runs").is_none());
    }

    #[test]
    fn runs_need_the_five_fields_and_strings_may_be_null() {
        assert_eq!(record(json!([run()])), Ok(()));
        for f in [
            "TestRunFormatId",
            "RunnerName",
            "RunnerTestName",
            "RunnerMessage",
            "RunnerStackTrace",
        ] {
            let mut r = run();
            r.as_object_mut().unwrap().remove(f);
            let e = record(json!([r])).unwrap_err();
            assert!(e.starts_with("/0: ") && e.contains(f), "{f}: {e}");
        }
        let mut r = run();
        r["RunnerStackTrace"] = Value::Null;
        r["ReleaseId"] = Value::Null;
        r["Unknown"] = json!("allowed");
        assert_eq!(record(json!([r])), Ok(()));
        let mut r = run();
        r["StartDate"] = Value::Null;
        assert!(record(json!([r])).unwrap_err().contains("/0/StartDate"));
        let mut r = run();
        r["TestCaseId"] = json!("5");
        assert!(record(json!([r])).unwrap_err().contains("/0/TestCaseId"));
        assert!(record(run())
            .unwrap_err()
            .contains("RemoteAutomatedTestRun[] expected"));
    }

    /// Spira's reading: numbers written as strings become numbers, where the description has
    /// a number; anything else is refused with the validator's reason.
    #[test]
    fn a_number_written_as_a_string_is_read_as_the_number() {
        let d = d();
        let op = d.find("POST", &format!("{V7}/test-runs/record")).unwrap();
        let mut r = run();
        r["TestCaseId"] = json!("7");
        r["ReleaseId"] = json!(" 3 ");
        r["RunnerName"] = json!("42");
        let (read, fields) = op.lenient(r.to_string().as_bytes()).unwrap();
        let read: Value = serde_json::from_slice(&read).unwrap();
        assert_eq!(read["TestCaseId"], 7);
        assert_eq!(read["ReleaseId"], 3);
        assert_eq!(read["RunnerName"], "42", "a string field stays a string");
        assert_eq!(fields, ["ReleaseId", "TestCaseId"]);
        for bad in [
            json!("abc"),
            json!({}),
            json!("7.5"),
            json!(""),
            json!("inf"),
            json!(true),
        ] {
            let mut r = run();
            r["TestCaseId"] = bad.clone();
            let e = op.lenient(r.to_string().as_bytes()).unwrap_err();
            assert!(e.starts_with("/TestCaseId: "), "{bad}: {e}");
        }
        let rel = d
            .find("POST", &format!("{V7}/releases/4/test-cases"))
            .unwrap();
        let (read, fields) = rel.lenient(br#"[1, "2"]"#).unwrap();
        assert_eq!(
            (read, fields),
            (b"[1,2]".to_vec(), vec!["(item)".to_string()])
        );
        assert_eq!(
            field_of("/0/TestRunSteps/1/Position"),
            "TestRunSteps.Position"
        );
    }

    #[test]
    fn query_parameters_and_the_struct_artefacts() {
        let d = d();
        let list = d.find("GET", &format!("{V7}/test-runs")).unwrap();
        let q = |kv: &[(&str, &str)]| -> HashMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            list.check_request(&q(&[("starting_row", "1"), ("api-key", "k")]), b""),
            Ok(())
        );
        let e = list.check_request(&q(&[("start", "1")]), b"").unwrap_err();
        assert!(e.contains("'start'") && e.contains("starting_row"), "{e}");
        // Int32 on the wire is a number; Int64 answers too.
        let rel = d
            .find("POST", &format!("{V7}/releases/4/test-cases"))
            .unwrap();
        assert_eq!(rel.check_request(&q(&[]), b"[1,2]"), Ok(()));
        assert!(rel.check_request(&q(&[]), b"[\"1\"]").is_err());
        let count = d.find("GET", &format!("{V7}/test-runs/count")).unwrap();
        assert_eq!(count.check_answer(b"12"), Ok(()));
        // A build is created with a RemoteBuild and answered with one.
        let b = d.find("POST", &format!("{V7}/releases/4/builds")).unwrap();
        assert_eq!(
            b.check_request(&q(&[]), br#"{"Name":"b","BuildStatusId":2}"#),
            Ok(())
        );
        assert_eq!(b.check_answer(br#"{"BuildId":3,"Name":"b"}"#), Ok(()));
        // A method without a result answers nothing.
        let r = d.find("POST", &format!("{V7}/refresh-caches")).unwrap();
        assert_eq!(r.check_answer(b""), Ok(()));
        assert!(r.check_answer(b"[]").is_err());
    }
}

/// The quick check of `flat`, against the general validator.
#[cfg(test)]
mod flat_tests {
    use super::*;

    #[test]
    fn record_multiple_has_a_quick_check() {
        let d = Description::load().unwrap();
        let op = d
            .find(
                "POST",
                "/Services/v7_0/RestService.svc/projects/1/test-runs/record-multiple",
            )
            .unwrap();
        assert!(op.body.as_ref().unwrap().flat.is_some());
    }

    /// The quick check never vouches for a body the general validator refuses, and vouches for
    /// the ordinary runs (else it would save nothing).
    #[test]
    fn the_quick_check_agrees_with_the_validator() {
        use serde_json::{json, Value};
        let d = Description::load().unwrap();
        let op = d.record_multiple().unwrap();
        let c = op.body.as_ref().unwrap();
        let f = c.flat.as_ref().unwrap();
        let base = json!({"TestCaseId": 5, "ExecutionStatusId": 2, "StartDate": "2024-05-14T12:00:00Z",
               "RunnerName": "x", "RunnerTestName": "a.b", "RunnerMessage": "Passed",
               "RunnerStackTrace": "", "TestRunFormatId": 1});
        let values = [
            json!(null),
            json!(1),
            json!(1.0),
            json!(1.5),
            json!(-3),
            json!(1e3),
            json!("s"),
            json!(true),
            json!([]),
            json!([1]),
            json!([{}]),
            json!({}),
            json!("/Date(1)/"),
        ];
        let fields = [
            "TestCaseId",
            "StartDate",
            "EndDate",
            "RunnerName",
            "RunnerStackTrace",
            "ReleaseId",
            "TestRunSteps",
            "Parameters",
            "RunnerAssertCount",
            "Unknown",
            "TestRunFormatId",
        ];
        let mut vouched = 0;
        let mut bodies = vec![json!([base.clone()])];
        for field in fields {
            for v in &values {
                let mut r = base.clone();
                r[field] = v.clone();
                bodies.push(json!([r]));
            }
            let mut r = base.clone();
            r.as_object_mut().unwrap().remove(field);
            bodies.push(json!([base.clone(), r]));
        }
        for body in bodies {
            let text = body.to_string();
            if f.surely_valid(text.as_bytes()) {
                vouched += 1;
                assert_eq!(c.check(&body), Ok(()), "{text}");
            }
            let runs: Vec<flat::Object<'_>> = serde_json::from_str(&text).unwrap();
            let quick = runs.iter().all(|r| f.object(r));
            assert_eq!(quick, f.surely_valid(text.as_bytes()));
            let _: Value = body;
        }
        assert!(vouched > 40, "only {vouched} vouched for");
    }
}
