//! Element schemas: the vendor's documented GetAsyncResult examples validate, hand-made
//! counter-examples do not, and the other method schemas accept and refuse what they should.

use rstest::rstest;
use serde_json::{Value, json};

use crate::{aiqum::literal_job, fixture, netapp_fixture};
use crate::{assert_invalid, assert_valid, with};

/// The GetAsyncResult page's examples, in page order: request (`tests/fixtures/docs/`), method
/// error, asynchronous error, asynchronous success (`tests/fixtures/netapp/`, with the other
/// answers NetApp published).
fn documented_examples() -> [Value; 4] {
    [
        fixture("element/get-async-result/request.json"),
        netapp_fixture("element/get-async-result-method-error.json"),
        netapp_fixture("element/get-async-result-task-error.json"),
        netapp_fixture("element/get-async-result-task-success.json"),
    ]
}

#[test]
fn documented_examples_validate() {
    let ex = documented_examples();
    let (request, method_error, async_error, async_success) = (&ex[0], &ex[1], &ex[2], &ex[3]);

    assert_valid("element/request.json", request);
    assert_valid(
        "element/get-async-result.json#/$defs/params",
        &request["params"],
    );

    assert_valid("element/response.json", method_error);
    assert_valid("element/error.json", &method_error["error"]);
    assert_valid("element/get-async-result.json", method_error);
    assert_eq!(method_error["error"]["name"], "xDBNoSuchPath");

    for ok in [async_error, async_success] {
        assert_valid("element/get-async-result.json#/$defs/response", ok);
        assert_valid("element/get-async-result.json", ok);
        assert_valid("element/get-async-result.json#/$defs/result", &ok["result"]);
    }
    assert_valid(
        "element/get-async-result.json#/$defs/complete-failure",
        &async_error["result"],
    );
    assert_valid(
        "element/get-async-result.json#/$defs/complete-success",
        &async_success["result"],
    );
    assert_valid(
        "element/clone-volume.json#/$defs/clone-result",
        &async_success["result"]["result"],
    );
}

fn complete_success() -> Value {
    json!({
        "createTime": "2016-01-01T22:29:18Z",
        "lastUpdateTime": "2016-01-01T22:45:51Z",
        "result": {"cloneID": 25, "message": "Clone complete.", "volumeID": 47},
        "resultType": "Clone",
        "status": "complete"
    })
}

fn running() -> Value {
    json!({
        "createTime": "2016-01-01T22:29:18Z",
        "lastUpdateTime": "2016-01-01T22:30:00Z",
        "resultType": "Clone",
        "status": "running",
        "details": {"percentComplete": 40}
    })
}

#[rstest]
#[case::result_and_error(with(complete_success(), |m| {
    m.insert("error".into(), json!({"name": "xFailed", "message": "no"}));
}))]
#[case::details_while_complete(with(complete_success(), |m| {
    m.insert("details".into(), json!({}));
}))]
#[case::status_completed(with(complete_success(), |m| {
    m.insert("status".into(), json!("completed"));
}))]
#[case::time_without_z(with(complete_success(), |m| {
    m.insert("createTime".into(), json!("2016-01-01T22:29:18"));
}))]
#[case::running_with_result(with(running(), |m| {
    m.insert("result".into(), json!({"cloneID": 1}));
}))]
#[case::running_with_error(with(running(), |m| {
    m.insert("error".into(), json!({"name": "x", "message": "y"}));
}))]
#[case::nested_error_without_name(with(complete_success(), |m| {
    m.remove("result");
    m.insert("error".into(), json!({"message": "Bulk volume job failed", "bvID": 1}));
}))]
#[case::string_error(with(complete_success(), |m| {
    m.remove("result");
    m.insert("error".into(), json!("Bulk volume job failed"));
}))]
#[case::complete_with_neither(with(complete_success(), |m| { m.remove("result"); }))]
#[case::no_result_type(with(complete_success(), |m| { m.remove("resultType"); }))]
fn counter_examples_do_not_validate(#[case] result: Value) {
    assert_invalid("element/get-async-result.json#/$defs/result", &result);
    let response = json!({"id": 1, "result": result});
    assert_invalid("element/get-async-result.json#/$defs/response", &response);
}

#[test]
fn errors_point_into_the_instance() {
    let bad = with(complete_success(), |m| {
        m.insert("createTime".into(), json!("2016-01-01T22:29:18"));
    });
    let errs = assert_invalid(
        "element/get-async-result.json#/$defs/response",
        &json!({"id": 1, "result": bad}),
    );
    assert!(
        errs.iter().any(|e| e.pointer == "/result/createTime"),
        "{errs:#?}"
    );
}

#[test]
fn errors_are_specific_and_reported_once() {
    let bad = with(complete_success(), |m| {
        m.insert("status".into(), json!("completed"));
    });
    let errs = assert_invalid(
        "element/get-async-result.json#/$defs/response",
        &json!({"id": 1, "result": bad}),
    );
    assert!(
        errs.iter().all(|e| e.pointer == "/result/status"),
        "{errs:#?}"
    );
    for (i, e) in errs.iter().enumerate() {
        assert!(!errs[..i].contains(e), "duplicate {e:?}");
    }
    let both = json!({"id": 1, "result": {}, "error": {"code": 500, "name": "x", "message": "y"}});
    let errs = assert_invalid("element/response.json", &both);
    assert_eq!(errs[0].pointer, "/error", "{errs:#?}");
    let literal_running = with(literal_job(), |m| {
        m.insert("state".into(), json!("running"));
    });
    let errs = assert_invalid("aiqum/job.json", &literal_running);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].pointer, "/state");
}

#[test]
fn response_level_shapes_apply_to_a_whole_body() {
    let ex = documented_examples();
    let (method_error, async_error, async_success) = (&ex[1], &ex[2], &ex[3]);
    let gar = "element/get-async-result.json#/$defs/";
    assert_valid(&format!("{gar}response-complete-failure"), async_error);
    assert_valid(&format!("{gar}response-complete-success"), async_success);
    assert_invalid(&format!("{gar}response-complete-success"), async_error);
    assert_invalid(&format!("{gar}response-complete-failure"), async_success);
    assert_invalid(&format!("{gar}response-running"), async_success);
    let body = json!({"id": 7, "result": running()});
    assert_valid(&format!("{gar}response-running"), &body);
    assert_valid(&format!("{gar}response-running-details"), &body);
    for shape in [
        "running",
        "running-details",
        "complete-success",
        "complete-failure",
    ] {
        // A method error is a valid GetAsyncResult response, but never one of these shapes.
        assert_invalid(&format!("{gar}response-{shape}"), method_error);
    }
}

#[test]
fn details_is_should_level_only() {
    let bare = with(running(), |m| {
        m.remove("details");
    });
    assert_valid("element/get-async-result.json#/$defs/running", &bare);
    assert_valid("element/get-async-result.json#/$defs/result", &bare);
    assert_invalid(
        "element/get-async-result.json#/$defs/running-details",
        &bare,
    );
    assert_valid(
        "element/get-async-result.json#/$defs/running-details",
        &running(),
    );
    let not_object = with(running(), |m| {
        m.insert("details".into(), json!("40%"));
    });
    assert_invalid("element/get-async-result.json#/$defs/running", &not_object);
}

#[test]
fn element_envelope_and_methods() {
    assert_invalid(
        "element/response.json",
        &json!({"id": 1, "result": {}, "error": {"code": 500, "name": "x", "message": "y"}}),
    );
    assert_invalid("element/response.json", &json!({"id": 1}));
    assert_invalid("element/response.json", &json!({"id": 1.5, "result": {}}));
    assert_valid("element/response.json", &json!({"id": null, "result": {}}));
    assert_invalid(
        "element/error.json",
        &json!({"code": "500", "name": "x", "message": "y"}),
    );
    assert_invalid(
        "element/get-async-result.json#/$defs/params",
        &json!({"asyncHandle": "1"}),
    );
    assert_invalid(
        "element/get-async-result.json#/$defs/params",
        &json!({"keepResult": true}),
    );

    // E5: numbers or numeric strings.
    assert_valid(
        "element/get-api.json",
        &json!({"id": 1, "result": {"currentVersion": 12.5, "supportedVersions": [1.0, 12.5]}}),
    );
    assert_valid(
        "element/get-api.json",
        &json!({"id": 1, "result": {"currentVersion": "12.5", "supportedVersions": ["1.0", "12.5"]}}),
    );
    assert_invalid(
        "element/get-api.json",
        &json!({"id": 1, "result": {"currentVersion": "twelve", "supportedVersions": []}}),
    );

    assert_valid(
        "element/get-cluster-version-info.json#/$defs/result",
        &json!({"clusterAPIVersion": "12.5", "clusterVersion": "12.5.0.897"}),
    );
    assert_invalid(
        "element/get-cluster-version-info.json#/$defs/result",
        &json!({"clusterAPIVersion": 12.5, "clusterVersion": "12.5.0.897"}),
    );

    assert_valid(
        "element/clone-volume.json",
        &json!({"id": 1, "result": {"asyncHandle": 12, "cloneID": 3, "volumeID": 48, "curve": {}}}),
    );
    assert_invalid(
        "element/clone-volume.json",
        &json!({"id": 1, "result": {"asyncHandle": "12", "cloneID": 3, "volumeID": 48}}),
    );

    let entry = json!({"asyncResultID": 3, "completed": true, "createTime": "2016-10-27T16:09:29Z",
        "lastUpdateTime": "2016-10-27T16:09:30Z", "resultType": "DriveAdd", "success": true, "data": {}});
    assert_valid(
        "element/list-async-results.json",
        &json!({"id": 1, "result": {"asyncHandles": [entry.clone()]}}),
    );
    assert_valid(
        "element/list-async-results.json#/$defs/result",
        &json!({"asyncHandles": []}),
    );
    let no_data = with(entry, |m| {
        m.remove("data");
    });
    assert_invalid(
        "element/list-async-results.json#/$defs/result",
        &json!({"asyncHandles": [no_data]}),
    );
}
