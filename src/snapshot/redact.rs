//! Redaction of volatile and secret values into named placeholders, consistent within one case:
//! the same raw handle always becomes the same `[handle-N]`, numbered in order of first appearance.
//! Owns the placeholder vocabulary. It must not judge anything, and it is pure (no I/O); it is
//! idempotent: redacting an already redacted value changes nothing.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::patterns::{
    credential_token, handle_in_text, ipv4_port, is_hex_id, job_key_after, scratch_name, timestamp,
    url_authority, uuid,
};

/// Members whose integer values are Element async handles.
pub(crate) const HANDLE_KEYS: &[&str] = &["asyncHandle", "asyncResultID", "asyncHandles", "handle"];
/// Members whose integer values are clone IDs.
const CLONE_KEYS: &[&str] = &["cloneID", "cloneIDs"];
/// Members whose integer values are volume IDs.
const VOLUME_KEYS: &[&str] = &["volumeID", "volumeIDs", "newVolumeID", "sourceVolumeID"];
/// Members whose integer values are account IDs.
const ACCOUNT_KEYS: &[&str] = &["accountID", "accountIDs"];

/// Members whose numbers are progress, which depends on when the job was polled.
const PROGRESS_KEYS: &[&str] = &["percentComplete", "progress", "percent_complete"];

/// The placeholder every credential becomes (the same marker `transport` uses).
pub const REDACTED: &str = crate::transport::REDACTED;

/// What the redactor must know about the run to name its volatile values.
#[derive(Debug, Clone, Default)]
pub struct Volatile {
    /// Element handles the case used as "never issued" (`${unknown_handle}`): `[unknown-handle]`.
    pub unknown_handles: Vec<i64>,
    /// AIQUM keys the case used as "never issued" (`${unknown_key}`): `[unknown-key]`. Each must
    /// contain `:` (others are ignored).
    pub unknown_keys: Vec<String>,
    /// Extra `host:port` strings to replace by `[host]` (each must contain `:`).
    pub hosts: Vec<String>,
}

/// The kinds of numbered placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Handle,
    Clone,
    VolumeId,
    AccountId,
    JobKey,
    ScratchName,
    Uuid,
    HexId,
    Iqn,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Handle => "handle",
            Kind::Clone => "clone",
            Kind::VolumeId => "volume-id",
            Kind::AccountId => "account-id",
            Kind::JobKey => "job-key",
            Kind::ScratchName => "scratch-name",
            Kind::Uuid => "uuid",
            Kind::HexId => "hex-id",
            Kind::Iqn => "iqn",
        }
    }
}

/// Redaction state for one case: placeholders are numbered by first appearance.
#[derive(Debug, Clone)]
pub struct Redactor<'a> {
    volatile: &'a Volatile,
    seen: BTreeMap<Kind, Vec<String>>,
}

impl<'a> Redactor<'a> {
    /// A redactor with no values seen yet.
    pub fn new(volatile: &'a Volatile) -> Self {
        Redactor {
            volatile,
            seen: BTreeMap::new(),
        }
    }

    fn placeholder(&mut self, kind: Kind, raw: &str) -> String {
        let list = self.seen.entry(kind).or_default();
        let n = match list.iter().position(|s| s == raw) {
            Some(i) => i + 1,
            None => {
                list.push(raw.to_string());
                list.len()
            }
        };
        format!("[{}-{n}]", kind.word())
    }

    /// Redacts a JSON value; `key` is the name of the member holding it, if any.
    pub fn value(&mut self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    let red = if is_credential_key(k) {
                        Value::String(REDACTED.to_string())
                    } else {
                        self.value(x, Some(k))
                    };
                    out.insert(k.clone(), red);
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x, key)).collect()),
            Value::Number(_) if key.is_some_and(|k| PROGRESS_KEYS.contains(&k)) => {
                Value::String("[percent]".into())
            }
            Value::Number(n) => match (key.and_then(kind_of_key), n.as_i64()) {
                (Some(Kind::Handle), Some(i)) if self.volatile.unknown_handles.contains(&i) => {
                    Value::String("[unknown-handle]".into())
                }
                (Some(kind), Some(_)) => Value::String(self.placeholder(kind, &n.to_string())),
                _ => v.clone(),
            },
            Value::String(s) if key == Some("iqn") && !s.starts_with('[') => {
                Value::String(self.placeholder(Kind::Iqn, s))
            }
            Value::String(s) if is_hex_id(s) => Value::String(self.placeholder(Kind::HexId, s)),
            Value::String(s) => Value::String(self.text(s)),
            other => other.clone(),
        }
    }

    /// Redacts volatile values inside free text (paths, messages, bodies that are not JSON).
    /// Repeated until nothing changes (a replacement can complete a match next to it), so the
    /// result is a fixed point: redacting it again changes nothing.
    pub fn text(&mut self, s: &str) -> String {
        let (mut cur, matched) = self.text_once(s);
        if !matched {
            // Nothing matched, so another pass over the same text cannot match either.
            return cur;
        }
        for _ in 0..8 {
            let (next, _) = self.text_once(&cur);
            if next == cur {
                break;
            }
            cur = next;
        }
        cur
    }

    /// One pass over `s`, and whether any matcher applied.
    fn text_once(&mut self, s: &str) -> (String, bool) {
        let mut out = String::with_capacity(s.len());
        let mut matched = false;
        let mut i = 0;
        while i < s.len() {
            if let Some((len, rep)) = self.match_at(s, i) {
                out.push_str(&rep);
                matched = true;
                i += len;
            } else {
                let ch = s[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        (out, matched)
    }

    /// The first matcher that applies at byte `i`: (bytes consumed, replacement).
    fn match_at(&mut self, s: &str, i: usize) -> Option<(usize, String)> {
        let rest = &s[i..];
        let prev = s[..i].chars().next_back();
        if let Some(len) = credential_token(rest) {
            return Some((len, format!("{} {REDACTED}", &rest[..rest.find(' ')?])));
        }
        if let Some(len) = url_authority(rest) {
            return Some((len, "[host]".into()));
        }
        for h in &self.volatile.hosts {
            if h.contains(':') && rest.starts_with(h.as_str()) {
                return Some((h.len(), "[host]".into()));
            }
        }
        let boundary = prev.is_none_or(|c| !c.is_ascii_alphanumeric() && c != ':' && c != '.');
        if boundary && let Some(len) = ipv4_port(rest) {
            return Some((len, "[host]".into()));
        }
        if let Some(len) = timestamp(rest) {
            return Some((len, "[timestamp]".into()));
        }
        let hex_boundary = prev.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-');
        if hex_boundary && let Some(len) = uuid(rest) {
            return Some((len, self.placeholder(Kind::Uuid, &rest[..len])));
        }
        if let Some((skip, len)) = handle_in_text(rest) {
            let digits = &rest[skip..skip + len];
            let unknown = digits
                .parse::<i64>()
                .is_ok_and(|n| self.volatile.unknown_handles.contains(&n));
            let rep = if unknown {
                "[unknown-handle]".to_string()
            } else {
                self.placeholder(Kind::Handle, digits)
            };
            return Some((skip + len, format!("{}{rep}", &rest[..skip])));
        }
        for k in &self.volatile.unknown_keys {
            if k.contains(':') && rest.starts_with(k.as_str()) {
                return Some((k.len(), "[unknown-key]".into()));
            }
        }
        if let Some(len) = job_key_after(prev, rest) {
            return Some((len, self.placeholder(Kind::JobKey, &rest[..len])));
        }
        if let Some(len) = scratch_name(rest) {
            return Some((len, self.placeholder(Kind::ScratchName, &rest[..len])));
        }
        None
    }
}

/// Redacts one value with a fresh redactor (placeholders numbered within this value only).
pub fn redact(v: &Value, volatile: &Volatile) -> Value {
    Redactor::new(volatile).value(v, None)
}

fn kind_of_key(k: &str) -> Option<Kind> {
    if HANDLE_KEYS.contains(&k) {
        Some(Kind::Handle)
    } else if CLONE_KEYS.contains(&k) {
        Some(Kind::Clone)
    } else if VOLUME_KEYS.contains(&k) {
        Some(Kind::VolumeId)
    } else if ACCOUNT_KEYS.contains(&k) {
        Some(Kind::AccountId)
    } else {
        None
    }
}

/// Member names whose values are credentials, whatever they hold.
pub fn is_credential_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "authorization",
        "secret",
        "token",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
}
