//! Server rules on traffic, exchange by exchange: the automatic per-answer checks of
//! `check::element` and `check::aiqum` (envelope, GetAsyncResult observations, EL-GAR-STABLE, job
//! observations, UM-TERMINAL-ABSORBING, UM-STATE-FORWARD), the named checks of `check::named`
//! that apply to any answer of their kind (EL-GAR-PARAMS, EL-GAR-UNKNOWN, EL-VER-GETAPI,
//! EL-LIST-SHAPE/-FILTER, UM-ERROR-SHAPE, UM-ACCEPT-LINK, UM-LIST-*), and the few rules a single
//! exchange shows on its own (EL-RPC-AUTH, UM-AUTH for requests sent without credentials,
//! EL-RPC-ERROR-HTTP, UM-ACCEPT-202, UM-JOBS-READONLY). The keepResult rules, which need the
//! sequence of fetches of a handle, are [`super::keep`]'s. Pure: traffic in, tallies out.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Api, Observed, Tally, Traffic, Unparsed, tally, tally_all};
use crate::check::names::Response;
use crate::check::{self, Finding};
use crate::transport::{AuthMode, Exchange};

/// What the server rules found, and what could not be judged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerJudged {
    /// Per rule: times at stake and findings.
    pub tally: Tally,
    /// Register decisions applied and facts seen on Element answers, for people (`E1: unknown
    /// handle named ...`).
    pub element_notes: Vec<String>,
    /// The same on AIQUM answers (`U1: AIQUM dialect split`).
    pub aiqum_notes: Vec<String>,
    /// The Element dialect an unknown-handle answer showed first (register E1).
    pub element_dialect: Option<check::ElementDialect>,
    /// The AIQUM dialect the first job read showed (register U1).
    pub aiqum_dialect: Option<check::AiqumDialect>,
    /// Exchanges without an answer (transport faults): not findings.
    pub faults: usize,
    /// Exchanges that could not be judged.
    pub unparsed: Vec<Unparsed>,
}

/// Earlier observations per origin and handle.
type Histories = BTreeMap<String, BTreeMap<String, Vec<Value>>>;

/// Judges every exchange of `traffic`, visiting them in `order` (indices into its exchanges).
pub fn judge(traffic: &Traffic, order: &[usize]) -> ServerJudged {
    let mut out = ServerJudged {
        unparsed: traffic.unparsed.clone(),
        ..ServerJudged::default()
    };
    let mut element_obs = Histories::new();
    let mut aiqum_seen: BTreeMap<String, super::aiqum_rules::Seen> = BTreeMap::new();
    for &i in order {
        let o = &traffic.exchanges[i];
        let Some(api) = o.api() else {
            out.unparsed.push(Unparsed {
                at: format!("exchange {}", o.seq),
                why: format!(
                    "{} {} is neither Element (/json-rpc/<version>) nor AIQUM (/api/...) traffic",
                    o.exchange.request.method, o.exchange.request.url
                ),
            });
            continue;
        };
        if o.exchange.response.is_err() {
            out.faults += 1;
            continue;
        }
        let origin = origin_of(&o.exchange.request.url);
        match api {
            Api::Element => element(i, o, element_obs.entry(origin).or_default(), &mut out),
            Api::Aiqum => super::aiqum_rules::judge(
                i,
                &o.exchange,
                aiqum_seen.entry(origin).or_default(),
                &mut out,
            ),
        }
    }
    out
}

/// `scheme://host:port` of a URL (the whole URL when it does not parse).
pub fn origin_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_string())
}

/// The JSON-RPC method of an Element request, if its body is a call.
pub fn method_of(ex: &Exchange) -> Option<&str> {
    ex.request.body.as_ref()?.get("method")?.as_str()
}

/// Runs a named check of `check::named` on an answer and tallies it (an inconclusive check, whose
/// precondition did not hold, counts for nothing); the Element dialect it saw, if any.
pub fn named(
    t: &mut Tally,
    notes: &mut Vec<String>,
    rule: &'static str,
    check: Response,
    i: usize,
    ex: &Exchange,
) -> Option<check::ElementDialect> {
    let j = check::named::response(check, rule, ex, ex.json());
    if j.inconclusive.is_some() {
        return None;
    }
    for n in j.notes {
        if !notes.contains(&n) {
            notes.push(n);
        }
    }
    tally(t, rule, i, j.findings);
    j.element_dialect
}

/// A request sent without credentials must get 401 (`rule`: EL-RPC-AUTH or UM-AUTH). True when
/// the request had none (and nothing else is judged on it).
pub fn unauthenticated(t: &mut Tally, rule: &'static str, i: usize, ex: &Exchange) -> bool {
    if ex.request.auth != AuthMode::None {
        return false;
    }
    let status = ex.status();
    let findings = if status == Some(401) {
        Vec::new()
    } else {
        vec![
            Finding::new(rule, "a request without credentials was served")
                .values(Some(401.into()), status.map(Value::from)),
        ]
    };
    tally(t, rule, i, findings);
    true
}

fn element(i: usize, o: &Observed, obs: &mut BTreeMap<String, Vec<Value>>, out: &mut ServerJudged) {
    let ex = &o.exchange;
    let Some(method) = method_of(ex) else {
        out.unparsed.push(Unparsed {
            at: format!("exchange {}", o.seq),
            why: "the Element request body is not a JSON-RPC call (no string method)".into(),
        });
        return;
    };
    let t = &mut out.tally;
    if unauthenticated(t, "EL-RPC-AUTH", i, ex) {
        return;
    }
    let status = ex.status().unwrap_or(0);
    if matches!(status, 401 | 403) {
        return;
    }
    let body = ex.json();
    let error = body.and_then(|b| b.get("error"));
    let mut at_stake = vec!["EL-RPC-ENVELOPE"];
    if error.is_some() {
        at_stake.push("EL-RPC-ERROR-SHAPE");
    }
    let handle = check::element::gar_handle(ex).map(Value::to_string);
    let nested = body.and_then(|b| b.get("result")).filter(|r| r.is_object());
    if let (Some(h), Some(r)) = (&handle, nested) {
        at_stake.extend(["EL-GAR-STATUS", "EL-GAR-TIMES"]);
        match r.get("status").and_then(Value::as_str) {
            Some("running") => at_stake.extend(["EL-GAR-RUNNING", "EL-GAR-DETAILS"]),
            Some("complete") => at_stake.push("EL-GAR-COMPLETE"),
            _ => {}
        }
        if r.get("error").is_some() {
            at_stake.push("EL-GAR-ASYNC-ERROR");
        }
        if obs.get(h).is_some_and(|v| !v.is_empty()) {
            at_stake.push("EL-GAR-STABLE");
        }
    }
    let found = check::element::automatic(ex, false, obs);
    tally_all(t, &at_stake, i, found);
    if error.is_some() {
        let findings = if status == 200 {
            Vec::new()
        } else {
            vec![
                Finding::new(
                    "EL-RPC-ERROR-HTTP",
                    format!("a method error came with HTTP {status}"),
                )
                .values(Some(200.into()), Some(status.into())),
            ]
        };
        tally(t, "EL-RPC-ERROR-HTTP", i, findings);
    }
    let notes = &mut out.element_notes;
    match method {
        "GetAsyncResult" => {
            let param = ex
                .request
                .body
                .as_ref()
                .and_then(|b| b.pointer("/params/asyncHandle"));
            if param.is_none_or(|h| !(h.is_u64() || h.is_i64())) {
                named(t, notes, "EL-GAR-PARAMS", Response::Error500, i, ex);
            } else if error
                .and_then(|e| e.get("name"))
                .and_then(Value::as_str)
                .is_some_and(|n| check::UNKNOWN_HANDLE_NAMES.contains(&n))
            {
                let seen = named(
                    t,
                    notes,
                    "EL-GAR-UNKNOWN",
                    Response::UnknownHandleError,
                    i,
                    ex,
                );
                out.element_dialect = out.element_dialect.or(seen);
            }
        }
        "GetAPI" if nested.is_some() => {
            named(t, notes, "EL-VER-GETAPI", Response::GetapiVersions, i, ex);
        }
        "ListAsyncResults" if nested.is_some() => {
            named(t, notes, "EL-LIST-SHAPE", Response::AsyncListShape, i, ex);
            let filtered = ex
                .request
                .body
                .as_ref()
                .and_then(|b| b.pointer("/params/asyncResultTypes"));
            if filtered.is_some() {
                named(t, notes, "EL-LIST-FILTER", Response::AsyncListFilter, i, ex);
            }
        }
        _ => {}
    }
}
