//! Validation of DCC payloads against the official DCC JSON schemas (one per `ver`).
//!
//! A small evaluator of the JSON Schema 2020-12 keywords these schemas use, rather than a
//! general validator crate and its large dependency tree. Loading refuses any schema that uses a
//! keyword it does not evaluate, so nothing is silently ignored; `format` is an annotation (the
//! 2020-12 default).

use std::collections::HashMap;
use std::path::Path;

use regex::Regex;
use serde::Serialize;
use serde_json::Value as Json;

use super::HcertError;

/// Keywords that only annotate.
const ANNOTATIONS: [&str; 13] = [
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
    "title",
    "description",
    "examples",
    "format",
    "valueset-uri",
    "default",
    "deprecated",
    "readOnly",
];
/// Keywords evaluated.
const ASSERTIONS: [&str; 21] = [
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
];
/// Deepest `$ref`/subschema nesting followed; the DCC schemas need 6.
const MAX_DEPTH: usize = 32;
/// Largest schema file read.
const MAX_SCHEMA_BYTES: u64 = 4 * 1024 * 1024;

/// One way a payload violates a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaError {
    /// JSON pointer into the payload, e.g. `/t/0/tc`.
    pub path: String,
    pub keyword: &'static str,
    pub message: String,
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{path}: {} ({})", self.message, self.keyword)
    }
}

type Version = (u32, u32, u32);

/// The DCC schemas by version.
#[derive(Debug)]
pub struct SchemaSet {
    /// Sorted by version, ascending; never empty.
    versions: Vec<(Version, String, Json)>,
    patterns: HashMap<String, Regex>,
}

impl SchemaSet {
    /// Loads `dir/<ver>/*combined-schema.json` for every `<ver>` folder (`1.3.0`, …).
    pub fn load(dir: &Path) -> Result<Self, HcertError> {
        let err = HcertError::Schema;
        let entries = std::fs::read_dir(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        let mut set = Self {
            versions: Vec::new(),
            patterns: HashMap::new(),
        };
        for entry in entries {
            let entry = entry.map_err(|e| err(format!("{}: {e}", dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(version) = parse_version(&name) else {
                continue;
            };
            if !entry.path().is_dir() {
                continue;
            }
            let file = std::fs::read_dir(entry.path())
                .map_err(|e| err(format!("{name}: {e}")))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().ends_with("combined-schema.json"))
                })
                .ok_or_else(|| err(format!("{name}: no *combined-schema.json")))?;
            let schema = read_json(&file).map_err(err)?;
            set.prepare(&schema, "")
                .map_err(|e| err(format!("{}: {e}", file.display())))?;
            set.versions.push((version, name, schema));
        }
        if set.versions.is_empty() {
            return Err(err(format!("{}: no version folders", dir.display())));
        }
        set.versions.sort_by_key(|(v, _, _)| *v);
        Ok(set)
    }

    /// The versions loaded, ascending.
    pub fn versions(&self) -> impl Iterator<Item = &str> {
        self.versions.iter().map(|(_, name, _)| name.as_str())
    }

    /// The schema version used for a payload's `ver`: the same, else the newest (what the
    /// upstream runner did for versions it did not know).
    pub fn pick(&self, ver: &str) -> &str {
        self.entry(ver).map_or("", |(_, name, _)| name.as_str())
    }

    fn entry(&self, ver: &str) -> Option<&(Version, String, Json)> {
        self.versions
            .iter()
            .find(|(_, name, _)| name == ver)
            .or(self.versions.last())
    }

    /// Validates `payload` against the schema [`Self::pick`] gives for `ver`.
    pub fn validate(&self, payload: &Json, ver: &str) -> Vec<SchemaError> {
        let mut errors = Vec::new();
        if let Some((_, _, root)) = self.entry(ver) {
            self.check(root, root, payload, "", 0, &mut errors);
        }
        errors
    }

    /// Refuses unknown keywords and compiles the patterns, walking every subschema.
    fn prepare(&mut self, schema: &Json, at: &str) -> Result<(), String> {
        let object = match schema {
            Json::Bool(_) => return Ok(()),
            Json::Object(o) => o,
            _ => return Err(format!("{at}: a schema must be an object or a boolean")),
        };
        for (key, value) in object {
            let here = format!("{at}/{key}");
            if !ANNOTATIONS.contains(&key.as_str()) && !ASSERTIONS.contains(&key.as_str()) {
                return Err(format!("{here}: unsupported keyword"));
            }
            match key.as_str() {
                "properties" | "$defs" | "definitions" => {
                    let subs = value.as_object().ok_or(format!("{here}: not an object"))?;
                    for (name, sub) in subs {
                        self.prepare(sub, &format!("{here}/{name}"))?;
                    }
                }
                "items" | "not" | "additionalProperties" => self.prepare(value, &here)?,
                "oneOf" | "anyOf" | "allOf" => {
                    let subs = value.as_array().ok_or(format!("{here}: not an array"))?;
                    for (i, sub) in subs.iter().enumerate() {
                        self.prepare(sub, &format!("{here}/{i}"))?;
                    }
                }
                "pattern" => {
                    let pattern = value.as_str().ok_or(format!("{here}: not a string"))?;
                    let regex = Regex::new(pattern).map_err(|e| format!("{here}: {e}"))?;
                    self.patterns.insert(pattern.to_owned(), regex);
                }
                "$ref"
                    if !value
                        .as_str()
                        .is_some_and(|r| r.starts_with("#/") || r == "#") =>
                {
                    return Err(format!("{here}: only local references are supported"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn check(
        &self,
        root: &Json,
        schema: &Json,
        value: &Json,
        path: &str,
        depth: usize,
        errors: &mut Vec<SchemaError>,
    ) {
        let fail = |errors: &mut Vec<SchemaError>, keyword: &'static str, message: String| {
            errors.push(SchemaError {
                path: path.to_owned(),
                keyword,
                message,
            });
        };
        if depth > MAX_DEPTH {
            fail(errors, "$ref", "the schema nests too deeply".to_owned());
            return;
        }
        let object = match schema {
            Json::Bool(false) => {
                fail(errors, "false", "no value is allowed here".to_owned());
                return;
            }
            Json::Object(o) => o,
            _ => return,
        };
        for (key, rule) in object {
            match key.as_str() {
                "$ref" => match rule.as_str().and_then(|r| resolve(root, r)) {
                    Some(target) => self.check(root, target, value, path, depth + 1, errors),
                    None => fail(errors, "$ref", format!("unresolvable reference {rule}")),
                },
                "properties" => {
                    if let (Some(props), Json::Object(obj)) = (rule.as_object(), value) {
                        for (name, sub) in props {
                            if let Some(v) = obj.get(name) {
                                let p = format!("{path}/{}", escape(name));
                                self.check(root, sub, v, &p, depth + 1, errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Json::Object(obj) = value {
                        let known = object.get("properties").and_then(Json::as_object);
                        for (name, v) in obj {
                            if !known.is_some_and(|k| k.contains_key(name)) {
                                let p = format!("{path}/{}", escape(name));
                                self.check(root, rule, v, &p, depth + 1, errors);
                            }
                        }
                    }
                }
                "items" => {
                    if let Json::Array(items) = value {
                        for (i, item) in items.iter().enumerate() {
                            let p = format!("{path}/{i}");
                            self.check(root, rule, item, &p, depth + 1, errors);
                        }
                    }
                }
                "oneOf" | "anyOf" | "allOf" | "not" => {
                    let subs: Vec<&Json> = match rule {
                        Json::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    let passing = subs
                        .iter()
                        .filter(|sub| {
                            let mut errs = Vec::new();
                            self.check(root, sub, value, path, depth + 1, &mut errs);
                            errs.is_empty()
                        })
                        .count();
                    let (keyword, ok) = match key.as_str() {
                        "oneOf" => ("oneOf", passing == 1),
                        "anyOf" => ("anyOf", passing >= 1),
                        "allOf" => ("allOf", passing == subs.len()),
                        _ => ("not", passing == 0),
                    };
                    if !ok {
                        let n = subs.len();
                        fail(
                            errors,
                            keyword,
                            format!("matches {passing} of {n} {key} subschemas"),
                        );
                    }
                }
                _ => {
                    if let Some((keyword, message)) = self.leaf(key, rule, value) {
                        fail(errors, keyword, message);
                    }
                }
            }
        }
    }

    /// Keywords that look at `value` alone; `Some` is a violation.
    fn leaf(&self, key: &str, rule: &Json, value: &Json) -> Option<(&'static str, String)> {
        match key {
            "type" => {
                let ok = match rule {
                    Json::String(t) => has_type(value, t),
                    Json::Array(ts) => ts
                        .iter()
                        .filter_map(Json::as_str)
                        .any(|t| has_type(value, t)),
                    _ => true,
                };
                (!ok).then(|| ("type", format!("is not of type {rule}")))
            }
            "enum" => (!rule.as_array().is_some_and(|a| a.contains(value)))
                .then(|| ("enum", "is not one of the allowed values".to_owned())),
            "const" => (rule != value).then(|| ("const", format!("is not {rule}"))),
            "required" => {
                let (Some(names), Json::Object(obj)) = (rule.as_array(), value) else {
                    return None;
                };
                let missing: Vec<&str> = names
                    .iter()
                    .filter_map(Json::as_str)
                    .filter(|n| !obj.contains_key(*n))
                    .collect();
                (!missing.is_empty())
                    .then(|| ("required", format!("lacks required {}", missing.join(", "))))
            }
            "minItems" | "maxItems" => {
                let (Some(limit), Json::Array(items)) = (rule.as_u64(), value) else {
                    return None;
                };
                let n = items.len() as u64;
                if key == "minItems" && n < limit {
                    Some(("minItems", format!("has {n} items, fewer than {limit}")))
                } else if key == "maxItems" && n > limit {
                    Some(("maxItems", format!("has {n} items, more than {limit}")))
                } else {
                    None
                }
            }
            "minLength" | "maxLength" => {
                let (Some(limit), Json::String(s)) = (rule.as_u64(), value) else {
                    return None;
                };
                // JSON Schema counts code points, not bytes.
                let n = s.chars().count() as u64;
                if key == "minLength" && n < limit {
                    Some((
                        "minLength",
                        format!("has {n} characters, fewer than {limit}"),
                    ))
                } else if key == "maxLength" && n > limit {
                    Some((
                        "maxLength",
                        format!("has {n} characters, more than {limit}"),
                    ))
                } else {
                    None
                }
            }
            "pattern" => {
                let (Some(p), Json::String(s)) = (rule.as_str(), value) else {
                    return None;
                };
                (!self.patterns.get(p).is_some_and(|r| r.is_match(s)))
                    .then(|| ("pattern", format!("{s:?} does not match {p:?}")))
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                let (Some(limit), Some(n)) = (rule.as_f64(), value.as_f64()) else {
                    return None;
                };
                let (keyword, ok) = match key {
                    "minimum" => ("minimum", n >= limit),
                    "maximum" => ("maximum", n <= limit),
                    "exclusiveMinimum" => ("exclusiveMinimum", n > limit),
                    _ => ("exclusiveMaximum", n < limit),
                };
                (!ok).then(|| (keyword, format!("{n} is out of range ({key} {limit})")))
            }
            _ => None,
        }
    }
}

fn has_type(value: &Json, t: &str) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        // 2020-12: any number with a zero fractional part is an integer.
        "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

/// Resolves a local reference (`#/$defs/name`, a JSON pointer).
fn resolve<'a>(root: &'a Json, reference: &str) -> Option<&'a Json> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn parse_version(name: &str) -> Option<Version> {
    let mut parts = name.split('.').map(str::parse::<u32>);
    let version = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    parts.next().is_none().then_some(version)
}

fn read_json(path: &Path) -> Result<Json, String> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{shown}: {e}"))?
        .len();
    if size > MAX_SCHEMA_BYTES {
        return Err(format!("{shown}: larger than {MAX_SCHEMA_BYTES} bytes"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{shown}: {e}"))
}
