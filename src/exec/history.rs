//! The per-handle history of one case run: every GetAsyncResult `result` and every AIQUM job
//! object seen, per handle or key, and when this case started each one. The automatic
//! per-observation checks (`check::element::automatic`, `check::aiqum::automatic`) read and extend
//! it through [`super::observe`]; a `poll` step asks it whether a job was already seen ended, named
//! checks whether it was seen running and when it started. No I/O, no judging.

use std::collections::BTreeMap;

use serde_json::Value;
use tokio::time::Instant;

use crate::case::Api;
use crate::contract::jobs;

/// What one case saw of each handle and job.
#[derive(Debug, Default)]
pub struct History {
    /// GetAsyncResult observations (nested `result` objects) per handle (as text).
    element: BTreeMap<String, Vec<Value>>,
    /// AIQUM job observations per key.
    aiqum: BTreeMap<String, Vec<Value>>,
    /// When each handle or job key was started by this case (its answer arrived).
    started: BTreeMap<String, Instant>,
}

impl History {
    /// Work `key` (a handle or job key, as text) was started now: what was seen of an earlier
    /// job under that name is forgotten.
    pub fn began(&mut self, key: &str) {
        self.element.remove(key);
        self.aiqum.remove(key);
        self.started.insert(key.to_string(), Instant::now());
    }

    /// When this case started `key`, if it did.
    pub fn started(&self, key: &str) -> Option<Instant> {
        self.started.get(key).copied()
    }

    /// What was seen of `key` in `api`, oldest first.
    pub fn seen(&self, api: Api, key: &str) -> &[Value] {
        let map = match api {
            Api::Element => &self.element,
            Api::Aiqum => &self.aiqum,
        };
        map.get(key).map_or(&[], Vec::as_slice)
    }

    /// Whether `key` was seen ended (Element `complete`; AIQUM terminal by register U1/U2).
    pub fn seen_ended(&self, api: Api, key: &str) -> bool {
        self.seen(api, key).iter().any(|v| match api {
            Api::Element => jobs::element_terminal(v),
            Api::Aiqum => jobs::aiqum_terminal(v) == Some(true),
        })
    }

    /// Whether `key` was seen still going (Element `running`; AIQUM not terminal).
    pub fn seen_running(&self, api: Api, key: &str) -> bool {
        self.seen(api, key).iter().any(|v| match api {
            Api::Element => v.get("status").and_then(Value::as_str) == Some("running"),
            Api::Aiqum => jobs::aiqum_terminal(v) == Some(false),
        })
    }

    /// The Element observations, for `check::element::automatic` to extend.
    pub fn element_mut(&mut self) -> &mut BTreeMap<String, Vec<Value>> {
        &mut self.element
    }

    /// The AIQUM observations, for `check::aiqum::automatic` to extend.
    pub fn aiqum_mut(&mut self) -> &mut BTreeMap<String, Vec<Value>> {
        &mut self.aiqum
    }

    /// The per-observation rules these observations exercised (`check::observed`).
    pub fn observed_rules(&self) -> Vec<String> {
        crate::check::observed::rules(&self.element, &self.aiqum)
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}
