//! A quick check for the common case: a body that is an object (or an array of objects) whose
//! schema only gives each property its JSON types, as `RemoteAutomatedTestRun` does. For
//! record-multiple it runs on the runs the handler has read anyway (keys borrowed, values raw),
//! instead of building a `serde_json::Value` and walking the general validator. Measured side
//! by side with curl sending 400 batches of 500 runs over one connection: 0.66 to 0.85 s
//! without any check, 1.13 to 1.30 s with the general validator on every body, 0.79 to 0.90 s
//! with this one (the machine drifts by a third).
//!
//! It is conservative: it only ever says "valid" where the general validator would; anything
//! else (a doubtful number, a shape it does not know) goes to the general validator, which
//! decides and says why. A unit test holds the two to the same verdict on valid runs.

use std::collections::{BTreeMap, HashMap};

use serde_json::value::RawValue;
use serde_json::Value;

/// JSON types, as bits.
const STRING: u8 = 1;
const INTEGER: u8 = 2;
const NUMBER: u8 = 4;
const BOOLEAN: u8 = 8;
const OBJECT: u8 = 16;
const ARRAY: u8 = 32;
const NULL: u8 = 64;

/// An object schema of typed properties; `array` when the body is an array of such objects.
pub(crate) struct Flat {
    array: bool,
    /// Each property's allowed types, and its items' types when it is an array.
    props: HashMap<String, (u8, u8)>,
    required: Vec<String>,
}

/// A run as the mock reads it: keys borrowed (a key with an escape goes to the general
/// validator).
pub(crate) type Object<'a> = BTreeMap<&'a str, &'a RawValue>;

impl Flat {
    /// The quick form of `schema` (translated, with `defs`), when it has one.
    pub(super) fn of(schema: &Value, defs: &Value) -> Option<Flat> {
        let (array, object) = match schema["type"].as_str() {
            Some("array") => (true, resolve(&schema["items"], defs)?),
            _ => (false, resolve(schema, defs)?),
        };
        let o = object.as_object()?;
        if o.keys()
            .any(|k| !["type", "properties", "required"].contains(&k.as_str()))
            || object["type"] != "object"
        {
            return None;
        }
        let mut props = HashMap::new();
        for (name, p) in o.get("properties")?.as_object()? {
            let p = p.as_object()?;
            if p.keys()
                .any(|k| !["type", "items", "format"].contains(&k.as_str()))
            {
                return None;
            }
            let items = match p.get("items") {
                None => 0,
                Some(i) if i.as_object()?.len() == 1 => types(i.get("type")?)?,
                Some(_) => return None,
            };
            props.insert(name.clone(), (types(p.get("type")?)?, items));
        }
        let required = o
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect();
        Some(Flat {
            array,
            props,
            required,
        })
    }

    /// True when `body` surely matches; false when the general validator must decide.
    pub(super) fn surely_valid(&self, body: &[u8]) -> bool {
        if self.array {
            serde_json::from_slice::<Vec<Object<'_>>>(body)
                .is_ok_and(|objects| objects.iter().all(|o| self.object(o)))
        } else {
            serde_json::from_slice::<Object<'_>>(body).is_ok_and(|o| self.object(&o))
        }
    }

    /// True when the object `o` surely matches.
    pub(crate) fn object(&self, o: &Object<'_>) -> bool {
        self.required.iter().all(|r| o.contains_key(r.as_str()))
            && o.iter().all(|(k, v)| match self.props.get(*k) {
                None => true,
                Some(&(allowed, items)) => {
                    let t = type_of(v);
                    allowed & t != 0
                        && (t != ARRAY
                            || items == 0
                            || serde_json::from_str::<Vec<&RawValue>>(v.get())
                                .is_ok_and(|a| a.iter().all(|i| items & type_of(i) != 0)))
                }
            })
    }
}

/// The object schema `s` stands for, following one `$ref`.
fn resolve<'a>(s: &'a Value, defs: &'a Value) -> Option<&'a Value> {
    match s["$ref"].as_str() {
        Some(r) => defs.get(r.strip_prefix("#/definitions/")?),
        None => Some(s),
    }
}

/// The bits of a `type` (a name or a list of names).
fn types(t: &Value) -> Option<u8> {
    let bit = |n: &str| match n {
        "string" => Some(STRING),
        // An integer is a number too.
        "integer" => Some(INTEGER),
        "number" => Some(NUMBER | INTEGER),
        "boolean" => Some(BOOLEAN),
        "object" => Some(OBJECT),
        "array" => Some(ARRAY),
        "null" => Some(NULL),
        _ => None,
    };
    match t {
        Value::String(n) => bit(n),
        Value::Array(a) => a.iter().try_fold(0, |acc, n| Some(acc | bit(n.as_str()?)?)),
        _ => None,
    }
}

/// The type of a raw value from its first byte; a number with a fraction or an exponent is a
/// `NUMBER` (the general validator decides whether `1.0` is an integer).
fn type_of(v: &RawValue) -> u8 {
    let s = v.get().as_bytes();
    match s.first() {
        Some(b'"') => STRING,
        Some(b'{') => OBJECT,
        Some(b'[') => ARRAY,
        Some(b't' | b'f') => BOOLEAN,
        Some(b'n') => NULL,
        Some(_) if s.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) => NUMBER,
        Some(_) => INTEGER,
        None => 0,
    }
}
