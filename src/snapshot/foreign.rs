//! Keeping other cases out of a case's snapshot. Cases run in parallel against one target, so a
//! list answer (Element `ListAsyncResults`, AIQUM `records`) also shows handles and jobs of other
//! cases, and its counts depend on them. Before a snapshot is taken, list entries that the case's
//! own transcript never names elsewhere are dropped, and `num_records` / `total_records` become
//! `[count]`. Pure; it must not judge (the findings were made on the full answers).

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
                r.body = Body::Json(filter(v, &own));
            }
            y
        })
        .collect()
}
