//! Keeping other cases out of a case's snapshot. Cases run in parallel against one target, so a
//! list answer (Element `ListAsyncResults`, AIQUM `records`) also shows handles and jobs of other
//! cases, and its counts depend on them. Before a snapshot is taken, list entries that the case's
//! own transcript never names elsewhere are dropped, and `num_records` / `total_records` become
//! `[count]`. A job the case did not make but read from a list (its key or handle first appears
//! in a list entry: "the newest listed job") is another case's, and what it holds depends on how
//! far that case got: every object describing it is reduced to its key or handle and
//! `"borrowed": "[another job]"` (its content is in the snapshot of the case that made it).
//! Pure; it must not judge (the findings were made on the full answers).

use std::collections::BTreeSet;

use serde_json::Value;

use super::redact::HANDLE_KEYS;
use crate::transport::{Body, Exchange};

/// Members holding list entries of possibly other cases.
const LIST_KEYS: &[&str] = &["asyncHandles", "records"];
/// Members holding counts of such lists.
const COUNT_KEYS: &[&str] = &["num_records", "total_records"];

/// What the case names outside list entries: integers at handle members and every string.
#[derive(Default)]
struct Own {
    handles: BTreeSet<i64>,
    strings: BTreeSet<String>,
    urls: Vec<String>,
}

impl Own {
    fn collect(&mut self, v: &Value, key: Option<&str>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if !(LIST_KEYS.contains(&k.as_str()) && x.is_array() && has_objects(x)) {
                        self.collect(x, Some(k));
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.collect(x, key)),
            Value::Number(n) if key.is_some_and(|k| HANDLE_KEYS.contains(&k)) => {
                self.handles.extend(n.as_i64());
            }
            Value::String(s) => {
                self.strings.insert(s.clone());
            }
            _ => {}
        }
    }

    fn owns(&self, entry: &Value) -> bool {
        if let Some(h) = entry.get("asyncResultID").and_then(Value::as_i64) {
            return self.handles.contains(&h);
        }
        match entry.get("key").and_then(Value::as_str) {
            Some(k) => self.strings.contains(k) || self.urls.iter().any(|u| u.contains(k)),
            None => true,
        }
    }
}

/// Keys and handles whose first appearance in the transcript is inside a list entry.
#[derive(Default)]
struct Borrowed {
    named: BTreeSet<String>,
    keys: BTreeSet<String>,
    handles: BTreeSet<i64>,
}

impl Borrowed {
    fn id_of(entry: &Value) -> Option<String> {
        match (entry.get("key"), entry.get("asyncResultID")) {
            (Some(Value::String(k)), _) => Some(k.clone()),
            (_, Some(Value::Number(n))) => n.as_i64().map(|h| format!("#{h}")),
            _ => None,
        }
    }

    /// Notes what `v` names outside list entries, then the list entries it names for the first
    /// time, as borrowed.
    fn scan(&mut self, v: &Value) {
        let mut own = Own::default();
        own.collect(v, None);
        self.named.extend(own.strings);
        self.named
            .extend(own.handles.iter().map(|h| format!("#{h}")));
        self.entries(v);
    }

    fn entries(&mut self, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if LIST_KEYS.contains(&k.as_str()) && has_objects(x) {
                        for e in x.as_array().into_iter().flatten() {
                            let Some(id) = Borrowed::id_of(e) else {
                                continue;
                            };
                            // A key may have been named inside a longer string (a job link).
                            let seen = match id.strip_prefix('#') {
                                Some(_) => self.named.contains(&id),
                                None => self.named.iter().any(|s| s.contains(id.as_str())),
                            };
                            if seen {
                                continue;
                            }
                            match id.strip_prefix('#').and_then(|h| h.parse().ok()) {
                                Some(h) => self.handles.insert(h),
                                None => self.keys.insert(id.clone()),
                            };
                            self.named.insert(id);
                        }
                    } else {
                        self.entries(x);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.entries(x)),
            _ => {}
        }
    }

    fn reduce(&self, v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let key = m
                    .get("key")
                    .and_then(Value::as_str)
                    .filter(|k| self.keys.contains(*k));
                let handle = m
                    .get("asyncResultID")
                    .and_then(Value::as_i64)
                    .filter(|h| self.handles.contains(h));
                let borrowed = |name: &str, id: Value| {
                    let mut out = serde_json::Map::new();
                    out.insert(name.into(), id);
                    out.insert("borrowed".into(), Value::String("[another job]".into()));
                    Value::Object(out)
                };
                match (key, handle) {
                    (Some(k), _) => borrowed("key", Value::String(k.into())),
                    (_, Some(h)) => borrowed("asyncResultID", Value::from(h)),
                    _ => {
                        Value::Object(m.iter().map(|(k, x)| (k.clone(), self.reduce(x))).collect())
                    }
                }
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.reduce(x)).collect()),
            other => other.clone(),
        }
    }
}

fn has_objects(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|a| a.iter().any(|x| x.is_object()))
}

fn filter(v: &Value, own: &Own) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let y = if COUNT_KEYS.contains(&k.as_str()) && x.is_number() {
                        Value::String("[count]".into())
                    } else if LIST_KEYS.contains(&k.as_str()) && has_objects(x) {
                        let kept = x.as_array().into_iter().flatten();
                        Value::Array(
                            kept.filter(|e| own.owns(e))
                                .map(|e| filter(e, own))
                                .collect(),
                        )
                    } else {
                        filter(x, own)
                    };
                    (k.clone(), y)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| filter(x, own)).collect()),
        other => other.clone(),
    }
}

/// The transcript with other cases' list entries dropped and list counts replaced.
pub fn drop_foreign(transcript: &[Exchange]) -> Vec<Exchange> {
    let mut borrowed = Borrowed::default();
    for x in transcript {
        let url = Value::String(crate::snapshot::url_path(&x.request.url));
        borrowed.scan(&url);
        if let Some(b) = &x.request.body {
            borrowed.scan(b);
        }
        if let Some(b) = x.json() {
            borrowed.scan(b);
        }
    }
    let mut own = Own::default();
    for x in transcript {
        own.urls.push(crate::snapshot::url_path(&x.request.url));
        if let Some(b) = &x.request.body {
            own.collect(b, None);
        }
        if let Some(b) = x.json() {
            own.collect(b, None);
        }
    }
    transcript
        .iter()
        .map(|x| {
            let mut y = x.clone();
            if let Ok(r) = &mut y.response
                && let Body::Json(v) = &r.body
            {
                r.body = Body::Json(borrowed.reduce(&filter(v, &own)));
            }
            y
        })
        .collect()
}
