//! The AIQUM part of the control API's `GET /_jobconform/state`: jobs counted by lifecycle
//! state and status (split vocabulary, whatever the dialect), and the provisioned objects still
//! present once every effect due by now is applied. Reads the state; changes nothing.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{AiqumState, Effect, Kind, apply, jobs};

/// For the control API's `/state`: jobs by lifecycle state and by status (split vocabulary,
/// whatever the dialect), and the provisioned objects still present.
pub fn state_summary(s: &AiqumState) -> Value {
    let now = s.now_ms();
    let config = &s.config;
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut objects = s.objects.clone();
    let mut pending: Vec<(i64, u64, Effect)> = Vec::new();
    for j in &s.jobs {
        if let Some(seg) = jobs::segment_at(j, config, now) {
            *by_state.entry(seg.state.clone()).or_default() += 1;
            *by_status.entry(seg.status.clone()).or_default() += 1;
        }
        let at = jobs::succeeded_at(j, config).filter(|at| *at <= now);
        if let (false, Some(e), Some(at)) = (j.applied, &j.effect, at) {
            pending.push((at, j.seq, e.clone()));
        }
    }
    pending.sort_by_key(|p| (p.0, p.1));
    for (_, _, e) in pending {
        apply(&mut objects, e);
    }
    let keys = |kind: Kind| -> Vec<&String> {
        objects
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, key)| key)
            .collect()
    };
    json!({
        "jobs": {"total": s.jobs.len(), "by_state": by_state, "by_status": by_status},
        "objects": {"luns": keys(Kind::Lun), "file_shares": keys(Kind::FileShare)},
    })
}
