//! Register E7 on the mock: a numeric-string `asyncHandle` is looked up in the `current` dialect
//! (a real fetch: without keepResult a complete handle is purged, as the integer would be) and
//! refused in `doc-literal` (a failing call that invalidates nothing); non-numeric strings are
//! refused in both; the `purge-on-failed-call` deviation purges only integer handles.

use jobconform::mock::ElementDialect;
use serde_json::json;

use super::support::*;

#[tokio::test(start_paused = true)]
async fn current_dialect_looks_numeric_string_handles_up() {
    let t = T::start(config(&[], ElementDialect::Current)).await;
    let h = t.done_job().await;
    let kept = t
        .call(
            "GetAsyncResult",
            json!({"asyncHandle": h.to_string(), "keepResult": true}),
        )
        .await;
    assert_eq!(kept["result"]["status"], "complete", "{kept}");
    let fetched = t
        .call("GetAsyncResult", json!({"asyncHandle": h.to_string()}))
        .await;
    assert_eq!(fetched["result"]["result"], kept["result"]["result"]);
    let gone = t.gar(h, Some(true)).await;
    assert_eq!(gone["error"]["name"], "xAsyncHandleDoesNotExist", "{gone}");
    for bad in [
        json!("x1"),
        json!(""),
        json!("-1"),
        json!(" 1"),
        json!("1.0"),
    ] {
        let b = t.call("GetAsyncResult", json!({"asyncHandle": bad})).await;
        assert_eq!(b["error"]["name"], "xInvalidParameterType", "{bad}: {b}");
    }
    let huge = t
        .call(
            "GetAsyncResult",
            json!({"asyncHandle": "99999999999999999999999"}),
        )
        .await;
    assert!(is_error(&huge) && code_500(&huge), "{huge}");
}

#[tokio::test(start_paused = true)]
async fn doc_literal_refuses_numeric_string_handles_and_keeps_the_handle() {
    let t = T::start(config(&[], ElementDialect::DocLiteral)).await;
    let h = t.done_job().await;
    let refused = t
        .call("GetAsyncResult", json!({"asyncHandle": h.to_string()}))
        .await;
    assert_eq!(
        refused["error"]["name"], "xInvalidParameterType",
        "{refused}"
    );
    assert!(code_500(&refused));
    let still = t.gar(h, Some(true)).await;
    assert_eq!(still["result"]["status"], "complete", "{still}");
}

#[tokio::test(start_paused = true)]
async fn purge_on_failed_call_purges_integer_handles_only() {
    let t = T::start(config(
        &["purge-on-failed-call"],
        ElementDialect::DocLiteral,
    ))
    .await;
    let h = t.done_job().await;
    let refused = t
        .call("GetAsyncResult", json!({"asyncHandle": h.to_string()}))
        .await;
    assert!(is_error(&refused), "{refused}");
    assert_eq!(t.gar(h, Some(true)).await["result"]["status"], "complete");
    let bad = json!({"asyncHandle": h, "keepResult": "yes"});
    assert!(is_error(&t.call("GetAsyncResult", bad).await));
    assert!(
        is_error(&t.gar(h, Some(true)).await),
        "the deviation purges on a failed call"
    );
}
