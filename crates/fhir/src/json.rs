//! Reading members of untrusted JSON while collecting every problem instead of stopping at the
//! first: each accessor returns the value when usable and records an [`Issue`] when not.

use serde_json::Value;

use crate::issue::{Issue, Kind};

#[derive(Debug, Default)]
pub(crate) struct Check {
    pub issues: Vec<Issue>,
}

impl Check {
    /// Records an issue once per (location, code): several Immunizations of one Patient must not
    /// repeat the Patient's problem.
    pub fn push(&mut self, issue: Issue) {
        if !self
            .issues
            .iter()
            .any(|i| i.location == issue.location && i.code == issue.code)
        {
            self.issues.push(issue);
        }
    }

    /// A member that must be present: `None` and an issue when it is absent or `null`.
    pub fn required<'a>(&mut self, obj: &'a Value, key: &str, at: &str) -> Option<&'a Value> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                self.push(Issue::missing(format!("{at}.{key}")));
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A string member; blank counts as absent. `required` says whether absence is an issue.
    pub fn string<'a>(
        &mut self,
        obj: &'a Value,
        key: &str,
        at: &str,
        required: bool,
    ) -> Option<&'a str> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.push(Issue::missing(format!("{at}.{key}")));
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                if required {
                    self.push(Issue::missing(format!("{at}.{key}")));
                }
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.push(Issue::wrong_type(format!("{at}.{key}"), Kind::String));
                None
            }
        }
    }

    /// An object member (required or not); another type is an issue.
    pub fn object<'a>(
        &mut self,
        obj: &'a Value,
        key: &str,
        at: &str,
        required: bool,
    ) -> Option<&'a Value> {
        let v = if required {
            self.required(obj, key, at)?
        } else {
            obj.get(key).filter(|v| !v.is_null())?
        };
        if v.is_object() {
            Some(v)
        } else {
            self.push(Issue::wrong_type(format!("{at}.{key}"), Kind::Object));
            None
        }
    }

    /// An array member; absent or empty gives an empty slice (and an issue when required).
    pub fn array<'a>(
        &mut self,
        obj: &'a Value,
        key: &str,
        at: &str,
        required: bool,
    ) -> &'a [Value] {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.push(Issue::missing(format!("{at}.{key}")));
                }
                &[]
            }
            Some(Value::Array(a)) => {
                if required && a.is_empty() {
                    self.push(Issue::missing(format!("{at}.{key}")));
                }
                a
            }
            Some(_) => {
                self.push(Issue::wrong_type(format!("{at}.{key}"), Kind::Array));
                &[]
            }
        }
    }
}

/// A non-blank string member, without recording anything (for optional lookups).
pub(crate) fn str_of<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}
