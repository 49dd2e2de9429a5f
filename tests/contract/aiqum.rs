//! AIQUM schemas: jobs in both dialects (register U1), 202 bodies, list pages and error bodies.

use serde_json::{Value, json};

use crate::{assert_invalid, assert_valid, fixture, with};

const KEY: &str = "06a6148bf9e862df:-2611856e:16e8d47e722:-7f87";

/// A finished job in the split dialect (register U1), `tests/fixtures/docs/aiqum/job-split.json`.
fn split_job() -> Value {
    fixture("aiqum/job-split.json")
}

/// A finished job in the literal dialect, `tests/fixtures/docs/aiqum/job-literal.json`.
pub(crate) fn literal_job() -> Value {
    fixture("aiqum/job-literal.json")
}

#[test]
fn aiqum_jobs_in_both_dialects() {
    assert_valid("aiqum/job.json", &split_job());
    assert_valid("aiqum/job.json#/$defs/split", &split_job());
    assert_valid("aiqum/job.json", &literal_job());
    assert_valid("aiqum/job.json#/$defs/literal", &literal_job());
    assert_valid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert("status".into(), json!("PARTIAL_FAILURES"));
            m.insert("complete_time".into(), Value::Null);
        }),
    );
    assert_valid(
        "aiqum/job.json",
        &with(literal_job(), |m| {
            m.insert("state".into(), json!("Warning"));
        }),
    );

    // A literal job (no status) must carry one of the four outcomes in `state`.
    assert_invalid(
        "aiqum/job.json",
        &with(literal_job(), |m| {
            m.insert("state".into(), json!("running"));
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert("status".into(), json!("done"));
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.remove("_links");
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert("submit_time".into(), json!("yesterday"));
        }),
    );
    assert_invalid(
        "aiqum/job.json",
        &with(split_job(), |m| {
            m.insert(
                "job_results".into(),
                json!([{"name": "lunKey", "value": 7}]),
            );
        }),
    );

    let list = json!({"records": [split_job(), literal_job()], "num_records": 2, "total_records": 5,
        "_links": {"self": {"href": "/api/management-server/jobs"},
                   "next": {"href": "/api/management-server/jobs?start.key=x&max_records=2"}}});
    assert_valid("aiqum/job-list.json", &list);
    assert_invalid(
        "aiqum/job-list.json",
        &with(list.clone(), |m| {
            m.remove("_links");
        }),
    );
    assert_invalid(
        "aiqum/job-list.json",
        &with(list, |m| {
            m.insert("_links".into(), json!({"next": {}}));
        }),
    );
}

#[test]
fn aiqum_accepted_and_error_bodies() {
    let href = format!("/api/management-server/jobs/{KEY}");
    assert_valid(
        "aiqum/accepted.json",
        &json!({"job": {"key": KEY, "_links": {"self": {"href": href}}}}),
    );
    assert_valid("aiqum/accepted.json", &json!({"job": {"key": KEY}}));
    assert_invalid(
        "aiqum/accepted.json",
        &json!({"job": {"_links": {"self": {"href": href}}}}),
    );
    assert_invalid("aiqum/accepted.json", &json!({"job": {"key": ""}}));
    assert_invalid("aiqum/accepted.json", &json!({"job_key": KEY}));

    assert_valid(
        "aiqum/error.json",
        &json!({"error": {"message": "not found", "code": "4", "target": "key"}}),
    );
    assert_invalid("aiqum/error.json", &json!({"error": {"code": "4"}}));
    assert_invalid("aiqum/error.json", &json!({"message": "not found"}));
}
