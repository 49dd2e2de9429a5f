//! Built-in variables, computed at the start of a case only when the case refers to them:
//! `${unknown_handle}` (the largest `asyncResultID` ListAsyncResults shows, or 0, plus 1 000 000:
//! a handle never issued), `${unknown_key}` (a fresh AIQUM key in the real format), and
//! `${version}` (the Element endpoint's version, set when the run starts).

use serde_json::{Value, json};

use super::ElCall;
use super::run::{Run, Stop};
use crate::case::template::references;

/// A fresh key in AIQUM's format (`06a6148bf9e862df:-2611856e:16e8d47e722:-7f87`).
pub fn fresh_key() -> String {
    format!(
        "{:016x}:-{:08x}:{:011x}:-{:04x}",
        fastrand::u64(..),
        fastrand::u32(..),
        fastrand::u64(..) & 0x7ff_ffff_ffff,
        fastrand::u16(..)
    )
}

/// Binds the built-ins the case uses.
pub async fn prepare(run: &mut Run<'_>) -> Result<(), Stop> {
    let whole = serde_json::to_value(run.case()).unwrap_or(Value::Null);
    let used = references(&whole);
    if used.iter().any(|n| n == "unknown_key") {
        run.set_var("unknown_key", Value::String(fresh_key()));
    }
    if used.iter().any(|n| n == "unknown_handle") {
        let i = run
            .el_call(ElCall::new("ListAsyncResults", json!({})))
            .await?;
        let max = run
            .ex(i)
            .json()
            .and_then(|b| b.pointer("/result/asyncHandles"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.get("asyncResultID").and_then(Value::as_i64))
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        run.set_var("unknown_handle", json!(max + 1_000_000));
    }
    Ok(())
}
