//! The shape of JSON bodies: member names with JSON types (arrays as the union of their items,
//! written `/*`), and the values seen at enum-like members (`status`, `state`, `resultType`, an
//! error's `name` and `code`). Shapes are what `diff` compares between snapshot sets. Pure; it must
//! not read or redact anything (its input is already redacted where that matters).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Members whose (string or boolean) values are enum-like and recorded.
pub const ENUM_KEYS: &[&str] = &["status", "state", "resultType", "completed", "success"];

/// The shape of every response to one kind of request within a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// HTTP status codes seen.
    pub status_codes: BTreeSet<u16>,
    /// JSON pointer (array items as `*`) to the JSON types seen there, joined by `|`.
    pub members: BTreeMap<String, String>,
    /// JSON pointer to the enum-like values seen there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, BTreeSet<String>>,
    /// Error names seen (`error.name`, at any depth).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub error_names: BTreeSet<String>,
}

pub use crate::check::type_name;

/// A member name as one JSON-pointer token (`~` -> `~0`, `/` -> `~1`).
pub(crate) fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

impl Shape {
    /// Adds one response body (of any non-JSON kind, pass a marker such as `text` instead).
    pub fn add_body(&mut self, v: &Value) {
        self.walk(v, "", None);
    }

    /// Records a non-JSON body kind (`empty`, `text`, `too-large`, `no-response`) at the root.
    pub fn add_kind(&mut self, kind: &str) {
        self.add_type("", kind);
    }

    fn add_type(&mut self, pointer: &str, ty: &str) {
        let e = self.members.entry(pointer.to_string()).or_default();
        if !e.split('|').any(|t| t == ty) {
            let mut all: Vec<&str> = e.split('|').filter(|t| !t.is_empty()).collect();
            all.push(ty);
            all.sort_unstable();
            *e = all.join("|");
        }
    }

    fn walk(&mut self, v: &Value, pointer: &str, parent_key: Option<&str>) {
        self.add_type(pointer, type_name(v));
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = format!("{pointer}/{}", escape(k));
                    let enum_like = ENUM_KEYS.contains(&k.as_str())
                        || (parent_key == Some("error") && (k == "name" || k == "code"));
                    if enum_like && let Some(s) = scalar_text(x) {
                        self.values.entry(p.clone()).or_default().insert(s);
                    }
                    if parent_key == Some("error")
                        && k == "name"
                        && let Value::String(s) = x
                    {
                        self.error_names.insert(s.clone());
                    }
                    self.walk(x, &p, Some(k));
                }
            }
            Value::Array(a) => {
                let p = format!("{pointer}/*");
                for x in a {
                    self.walk(x, &p, parent_key);
                }
            }
            _ => {}
        }
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
