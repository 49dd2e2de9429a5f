//! The AIQUM part of the control API's `GET /_jobconform/state`: jobs counted by lifecycle
//! state and status (split vocabulary, whatever the dialect), and the provisioned objects still
//! present once every effect due by now is applied ([`AiqumState::settle`], as every route does).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{AiqumState, Kind, jobs};

/// For the control API's `/state`: jobs by lifecycle state and by status (split vocabulary,
/// whatever the dialect), and the provisioned objects still present.
pub fn state_summary(s: &mut AiqumState) -> Value {
    let now = s.now_ms();
    s.settle(now);
    let config = &s.config;
    let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    for j in &s.jobs {
        if let Some(seg) = jobs::segment_at(j, config, now) {
            *by_state.entry(seg.state.clone()).or_default() += 1;
            *by_status.entry(seg.status.clone()).or_default() += 1;
        }
    }
    let keys = |kind: Kind| -> Vec<&String> {
        s.objects
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
