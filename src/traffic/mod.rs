//! Judging traffic that flowed anyway: exchanges between real clients and a real server, seen by
//! `jobconform proxy` as they happen or read back from a recording (`jobconform judge FILE`: the
//! proxy's JSON lines, or a HAR file). Owns the model of an observed exchange ([`Observed`]), the
//! recording format ([`record`]), the HAR reader ([`har`]), and the judging: server rules per
//! exchange and per handle or job ([`server`], [`keep`]), client rules per client through the
//! mock's client audit ([`clients`]), and the verdict in `run`'s report forms ([`verdict`]).
//!
//! It sends nothing and never decides what to forward (that is `proxy`'s job). Judging reuses
//! `check` (per-observation rules, named checks) and `mock::audit` (client rules) by calling
//! them; nothing here re-implements a rule those modules own. A rule the traffic did not exercise
//! is "not observed" (a skipped record with that reason), never passed.
//!
//! Decisions, stated once:
//! - Order: exchanges are judged in order of arrival (`at_ms`, then `seq`). Two fetches of one
//!   handle whose request/answer intervals overlap are concurrent: their relative order is
//!   unknown, so no keepResult rule is judged between them (EL-KEEP-ONCE is, among them).
//! - The proxy sees only the traffic that passes through it: a handle released by a client that
//!   goes to the cluster directly looks like a purge. Point every client of the cluster at the
//!   proxy while judging keepResult rules.
//! - A transport fault (upstream unreachable, TLS refused, timeout, broken connection) is
//!   recorded as such and is never a finding against the server.

pub mod aiqum_rules;
pub mod clients;
pub mod har;
pub mod keep;
pub mod record;
pub mod server;
#[cfg(test)]
mod tests;
pub mod verdict;

use serde::{Deserialize, Serialize};

use crate::check::Finding;
use crate::transport::Exchange;

/// Which API an exchange belongs to, read from its URL path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Element JSON-RPC (`/json-rpc/<version>`).
    Element,
    /// AIQUM REST (`/api/...`).
    Aiqum,
}

impl Api {
    /// The API of a URL: a path under `/json-rpc/` is Element, one under `/api` is AIQUM.
    pub fn of_url(url: &str) -> Option<Api> {
        let path = reqwest::Url::parse(url).ok()?.path().to_string();
        Api::of_path(&path)
    }

    /// The API of a URL path.
    pub fn of_path(path: &str) -> Option<Api> {
        if path.starts_with("/json-rpc/") {
            Some(Api::Element)
        } else if path == "/api" || path.starts_with("/api/") {
            Some(Api::Aiqum)
        } else {
            None
        }
    }

    /// `element` or `aiqum` (the journal's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Element => "element",
            Api::Aiqum => "aiqum",
        }
    }
}

/// One exchange seen between a client and the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observed {
    /// Order of arrival at the proxy (or position in the file).
    pub seq: u64,
    /// When the request arrived, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Who sent it: the `x-jobconform-client` header, else the peer's IP address.
    pub client: String,
    /// The request and its answer (credentials redacted), or the transport fault.
    pub exchange: Exchange,
}

impl Observed {
    /// The API of the exchange.
    pub fn api(&self) -> Option<Api> {
        Api::of_url(&self.exchange.request.url)
    }
    /// When the answer was complete (arrival plus elapsed time; arrival alone for a fault).
    pub fn done_ms(&self) -> u64 {
        self.at_ms + self.exchange.response.as_ref().map_or(0, |r| r.elapsed_ms)
    }
}

/// An exchange (or a line, or an entry) that could not be judged, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unparsed {
    /// Where: `line 12`, `entry 3`, `exchange 7`.
    pub at: String,
    /// Why.
    pub why: String,
}

/// Everything a verdict is judged from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// The Element upstream, when known (a proxy recording names it).
    pub element: Option<String>,
    /// The AIQUM upstream, when known.
    pub aiqum: Option<String>,
    /// The exchanges, in the order they were recorded.
    pub exchanges: Vec<Observed>,
    /// What could not be read.
    pub unparsed: Vec<Unparsed>,
}

/// What judging found about one rule: how often it was at stake, and the findings (their
/// `exchange` is the index in [`Traffic::exchanges`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleTally {
    /// Times the rule was at stake.
    pub observed: usize,
    /// Broken expectations.
    pub findings: Vec<Finding>,
}

/// Tallies per rule ID.
pub type Tally = std::collections::BTreeMap<&'static str, RuleTally>;

/// Counts one judgement of `rule` with its findings (each attributed to exchange `index`).
pub fn tally(t: &mut Tally, rule: &'static str, index: usize, findings: Vec<Finding>) {
    let e = t.entry(rule).or_default();
    e.observed += 1;
    e.findings
        .extend(findings.into_iter().map(|f| f.in_exchange(index)));
}

/// Counts findings of several rules at once: each finding goes to its own rule, and every rule
/// in `at_stake` counts as observed once (a rule with a finding counts as observed too).
pub fn tally_all(t: &mut Tally, at_stake: &[&'static str], index: usize, findings: Vec<Finding>) {
    for rule in at_stake {
        t.entry(rule).or_default().observed += 1;
    }
    for f in findings {
        // Every finding `check` makes names a registry rule; the registry's spelling is 'static.
        let Some(rule) = crate::contract::rule(&f.rule).map(|r| r.id.as_str()) else {
            continue;
        };
        let e = t.entry(rule).or_default();
        if !at_stake.contains(&rule) {
            e.observed += 1;
        }
        e.findings.push(f.in_exchange(index));
    }
}
