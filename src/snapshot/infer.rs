//! Inferring the "never issued" values of a case from its transcript, when the caller did not
//! name them: an AIQUM job key that appears in a request path but in no 2xx response body, and an
//! Element handle of at least [`UNKNOWN_HANDLE_FLOOR`] that appears in a request but at no handle
//! member of any successful response (exec builds `${unknown_handle}` as the largest listed handle
//! plus 1 000 000). Pure; a wrong guess only changes a placeholder's name, never determinism.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Volatile;
use super::patterns::job_key_after;
use super::redact::HANDLE_KEYS;
use crate::transport::Exchange;

/// Handles below this are never guessed to be the unknown handle.
pub const UNKNOWN_HANDLE_FLOOR: i64 = 1_000_000;

fn handles(v: &Value, key: Option<&str>, out: &mut BTreeSet<i64>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| handles(x, Some(k), out)),
        Value::Array(a) => a.iter().for_each(|x| handles(x, key, out)),
        Value::Number(n) if key.is_some_and(|k| HANDLE_KEYS.contains(&k)) => {
            out.extend(n.as_i64());
        }
        _ => {}
    }
}

fn keys_in(s: &str, out: &mut BTreeSet<String>) {
    let mut i = 0;
    while i < s.len() {
        if let Some(len) = job_key_after(s[..i].chars().next_back(), &s[i..]) {
            out.insert(s[i..i + len].to_string());
            i += len;
        } else {
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
}

fn strings(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => keys_in(s, out),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// `given` completed with the unknown handles and keys the transcript shows.
pub fn infer_unknowns(given: &Volatile, transcript: &[Exchange]) -> Volatile {
    let mut asked = BTreeSet::new();
    let mut issued = BTreeSet::new();
    let mut asked_keys = BTreeSet::new();
    let mut issued_keys = BTreeSet::new();
    for x in transcript {
        if let Some(b) = &x.request.body {
            handles(b, None, &mut asked);
        }
        keys_in(&super::url_path(&x.request.url), &mut asked_keys);
        let Ok(r) = &x.response else { continue };
        let Some(body) = r.body.json() else { continue };
        if body.get("error").is_none() {
            handles(body, None, &mut issued);
        }
        if (200..300).contains(&r.status) {
            strings(body, &mut issued_keys);
        }
    }
    let mut v = given.clone();
    for h in asked.difference(&issued) {
        if *h >= UNKNOWN_HANDLE_FLOOR && !v.unknown_handles.contains(h) {
            v.unknown_handles.push(*h);
        }
    }
    for k in asked_keys.difference(&issued_keys) {
        if !v.unknown_keys.contains(k) {
            v.unknown_keys.push(k.clone());
        }
    }
    v
}
