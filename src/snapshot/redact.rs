//! Redaction of volatile and secret values into named placeholders, consistent within one case:
//! the same raw handle always becomes the same `[handle-N]`, numbered in order of first appearance.
//! Owns the placeholder vocabulary. It must not judge anything, and it is pure (no I/O); it is
//! idempotent: redacting an already redacted value changes nothing.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Members whose integer values are Element async handles.
pub(crate) const HANDLE_KEYS: &[&str] = &["asyncHandle", "asyncResultID", "asyncHandles", "handle"];
/// Members whose integer values are clone IDs.
const CLONE_KEYS: &[&str] = &["cloneID", "cloneIDs"];
/// Members whose integer values are volume IDs.
const VOLUME_KEYS: &[&str] = &["volumeID", "volumeIDs", "newVolumeID", "sourceVolumeID"];
/// Members whose integer values are account IDs.
const ACCOUNT_KEYS: &[&str] = &["accountID", "accountIDs"];

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
        let mut cur = self.text_once(s);
        for _ in 0..8 {
            let next = self.text_once(&cur);
            if next == cur {
                break;
            }
            cur = next;
        }
        cur
    }

    fn text_once(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            if let Some((len, rep)) = self.match_at(s, i) {
                out.push_str(&rep);
                i += len;
            } else {
                let ch = s[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        out
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
        let key_boundary = prev.is_none_or(|c| !c.is_ascii_alphanumeric() && c != ':' && c != '-');
        if key_boundary && let Some(len) = job_key(rest) {
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

/// `Basic <token>` / `Bearer <token>`: the length of the whole match.
fn credential_token(rest: &str) -> Option<usize> {
    let lower = rest.get(..7).map(str::to_ascii_lowercase)?;
    let scheme = if lower.starts_with("basic ") {
        6
    } else if lower == "bearer " {
        7
    } else {
        return None;
    };
    let tok = rest[scheme..]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b"+/=._-".contains(b))
        .count();
    (tok > 0).then_some(scheme + tok)
}

/// `http(s)://authority`: the length up to (not including) the path.
fn url_authority(rest: &str) -> Option<usize> {
    let scheme = if rest.starts_with("https://") {
        8
    } else if rest.starts_with("http://") {
        7
    } else {
        return None;
    };
    let auth = rest[scheme..]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || b".-:[]@%_".contains(b))
        .count();
    Some(scheme + auth)
}

fn digits(s: &[u8], from: usize) -> usize {
    s[from.min(s.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// `a.b.c.d:port` or `localhost:port`.
fn ipv4_port(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut i = if rest.starts_with("localhost") {
        9
    } else {
        let mut i = 0;
        for part in 0..4 {
            let n = digits(b, i);
            if n == 0 || n > 3 {
                return None;
            }
            i += n;
            if part < 3 {
                if b.get(i) != Some(&b'.') {
                    return None;
                }
                i += 1;
            }
        }
        i
    };
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let n = digits(b, i);
    if n == 0 || n > 5 || b.get(i + n).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(i + n)
}

/// ISO 8601 date-time: `YYYY-MM-DDTHH:MM[:SS[.frac]][Z|±HH[:]MM]`.
fn timestamp(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let fixed = |i: usize, n: usize| digits(b, i) >= n;
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(fixed(0, 4) && digits(b, 0) == 4 && at(4, b'-') && fixed(5, 2) && at(7, b'-')) {
        return None;
    }
    if !(fixed(8, 2) && (at(10, b'T') || at(10, b't')) && fixed(11, 2) && at(13, b':')) {
        return None;
    }
    if !fixed(14, 2) {
        return None;
    }
    let mut i = 16;
    if at(i, b':') && digits(b, i + 1) == 2 {
        i += 3;
        if at(i, b'.') && digits(b, i + 1) > 0 {
            i += 1 + digits(b, i + 1);
        }
    }
    if at(i, b'Z') || at(i, b'z') {
        i += 1;
    } else if (at(i, b'+') || at(i, b'-')) && digits(b, i + 1) == 2 {
        let mut j = i + 3;
        if at(j, b':') {
            j += 1;
        }
        if digits(b, j) == 2 {
            i = j + 2;
        }
    }
    Some(i)
}

/// AIQUM job key: four hex groups joined by `:`, the 2nd and 4th optionally negative
/// (`06a6148bf9e862df:-2611856e:16e8d47e722:-7f87`).
pub(crate) fn job_key(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let hex = |i: usize| {
        b[i.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count()
    };
    let mut i = 0;
    for group in 0..4 {
        if group > 0 {
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            if b.get(i) == Some(&b'-') {
                i += 1;
            }
        }
        let n = hex(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b':')
    {
        return None;
    }
    Some(i)
}

/// `jobconform-<alphanumerics>`: a scratch object named by the harness. Also
/// `[redacted]-<alphanumerics>`: the same name after `transport` replaced a password that happens
/// to be `jobconform` (the mock's default) inside it.
fn scratch_name(rest: &str) -> Option<usize> {
    let p = ["jobconform-", "[redacted]-"]
        .into_iter()
        .find(|p| rest.starts_with(p))?;
    let n = rest[p.len()..]
        .bytes()
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    (n > 0).then_some(p.len() + n)
}

/// A UUID (`8-4-4-4-12` hex digits) not followed by more of the same.
fn uuid(rest: &str) -> Option<usize> {
    let b = rest.as_bytes();
    let mut i = 0;
    for (g, n) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
        if g > 0 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
        let run = b[i.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if run != n {
            return None;
        }
        i += n;
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
    {
        return None;
    }
    Some(i)
}

/// A whole string of at least 16 hex digits (device IDs, serials): `[hex-id-N]`.
fn is_hex_id(s: &str) -> bool {
    s.len() >= 16 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// `handle 17`, `handle=17`, `Handle #17`, `/asyncresults/17` in text: (bytes before the number,
/// number length).
fn handle_in_text(rest: &str) -> Option<(usize, usize)> {
    let starts = |p: &str| {
        rest.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    let head = if starts("asyncresults/") {
        "asyncresults/".len()
    } else if starts("handle") {
        let sep = rest[6..]
            .bytes()
            .take_while(|c| b" =:#".contains(c))
            .count();
        if sep == 0 {
            return None;
        }
        6 + sep
    } else {
        return None;
    };
    let n = digits(rest.as_bytes(), head);
    let after = rest.as_bytes().get(head + n);
    if n == 0 || after.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((head, n))
}
