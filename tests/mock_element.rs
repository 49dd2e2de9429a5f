//! The Element half of the mock over real HTTP on loopback: every rule of CONTRACT.md §1-3 holds
//! without deviations (both dialects), each Element deviation breaks exactly the rules it names,
//! the control API works, a load test loses no job, and (ignored by default) NetApp's Python SDK
//! round-trips against it. The mock runs on the test's paused current-thread runtime, so target
//! time only moves when a test sleeps.

use std::collections::BTreeSet;

use jobconform::mock::{ElementDialect, deviation};
use rstest::rstest;
use serde_json::json;

#[path = "mock_element/handles.rs"]
mod handles;
#[path = "mock_element/probes.rs"]
mod probes;
#[path = "mock_element/support.rs"]
mod support;

use probes::broken_rules;
use support::*;

#[rstest]
#[case::current(ElementDialect::Current)]
#[case::doc_literal(ElementDialect::DocLiteral)]
#[tokio::test(start_paused = true)]
async fn every_rule_holds_without_deviations(#[case] dialect: ElementDialect) {
    let t = T::start(config(&[], dialect)).await;
    assert_eq!(broken_rules(&t).await, BTreeSet::new());
}

/// Every Element deviation (the registry's entries from `id-not-echoed` to
/// `clone-result-wrong-id`).
fn element_deviations() -> &'static [deviation::Entry] {
    let first = deviation::ALL
        .iter()
        .position(|d| d.name == "id-not-echoed");
    let last = deviation::ALL
        .iter()
        .position(|d| d.name == "clone-result-wrong-id");
    match (first, last) {
        (Some(a), Some(b)) => &deviation::ALL[a..=b],
        _ => panic!("element deviations not found in the registry"),
    }
}

/// The deviations tested one by one below, in registry order.
const DEVIATION_CASES: &[&str] = &[
    "id-not-echoed",
    "error-code-string",
    "errors-as-http-500",
    "element-no-auth",
    "unknown-method-wrong-name",
    "reject-unknown-params",
    "getapi-missing-url-version",
    "cluster-version-number",
    "gar-missing-handle-result",
    "status-completed",
    "running-with-result",
    "running-without-details",
    "details-when-complete",
    "both-result-and-error",
    "async-error-without-name",
    "times-without-z",
    "last-update-backwards",
    "unknown-handle-wrong-code",
    "purge-running",
    "purge-despite-keep",
    "keep-absent-ignored",
    "keep-false-ignored",
    "purge-on-failed-call",
    "racy-purge",
    "reuse-handles",
    "list-completed-as-string",
    "list-ignores-filter",
    "list-purges",
    "list-data-differs",
    "list-keeps-purged",
    "clone-result-wrong-id",
];

#[test]
fn deviation_cases_cover_the_registry() {
    let registry: Vec<&str> = element_deviations().iter().map(|d| d.name).collect();
    assert_eq!(registry, DEVIATION_CASES);
}

#[rstest]
#[case::id_not_echoed("id-not-echoed")]
#[case::error_code_string("error-code-string")]
#[case::errors_as_http_500("errors-as-http-500")]
#[case::element_no_auth("element-no-auth")]
#[case::unknown_method_wrong_name("unknown-method-wrong-name")]
#[case::reject_unknown_params("reject-unknown-params")]
#[case::getapi_missing_url_version("getapi-missing-url-version")]
#[case::cluster_version_number("cluster-version-number")]
#[case::gar_missing_handle_result("gar-missing-handle-result")]
#[case::status_completed("status-completed")]
#[case::running_with_result("running-with-result")]
#[case::running_without_details("running-without-details")]
#[case::details_when_complete("details-when-complete")]
#[case::both_result_and_error("both-result-and-error")]
#[case::async_error_without_name("async-error-without-name")]
#[case::times_without_z("times-without-z")]
#[case::last_update_backwards("last-update-backwards")]
#[case::unknown_handle_wrong_code("unknown-handle-wrong-code")]
#[case::purge_running("purge-running")]
#[case::purge_despite_keep("purge-despite-keep")]
#[case::keep_absent_ignored("keep-absent-ignored")]
#[case::keep_false_ignored("keep-false-ignored")]
#[case::purge_on_failed_call("purge-on-failed-call")]
#[case::racy_purge("racy-purge")]
#[case::reuse_handles("reuse-handles")]
#[case::list_completed_as_string("list-completed-as-string")]
#[case::list_ignores_filter("list-ignores-filter")]
#[case::list_purges("list-purges")]
#[case::list_data_differs("list-data-differs")]
#[case::list_keeps_purged("list-keeps-purged")]
#[case::clone_result_wrong_id("clone-result-wrong-id")]
#[tokio::test(start_paused = true)]
async fn deviation_breaks_exactly_its_rules(#[case] name: &str) {
    let d = deviation::find(name).expect("registered deviation");
    let t = T::start(config(&[d.name], ElementDialect::Current)).await;
    let broken = broken_rules(&t).await;
    let want: BTreeSet<&str> = d.rules.iter().copied().collect();
    assert_eq!(
        broken, want,
        "{name} ({}) must break exactly its rules",
        d.does
    );
}

#[rstest]
#[case::current(
    ElementDialect::Current,
    "xAsyncHandleDoesNotExist",
    "Async handle 42 does not exist."
)]
#[case::doc_literal(
    ElementDialect::DocLiteral,
    "xDBNoSuchPath",
    "DBClient operation requested on a non-existent path at [/asyncresults/42]"
)]
#[tokio::test(start_paused = true)]
async fn dialects_name_unknown_handles_and_versions(
    #[case] dialect: ElementDialect,
    #[case] name: &str,
    #[case] message: &str,
) {
    let t = T::start(config(&[], dialect)).await;
    let b = t.gar(42, None).await;
    assert_eq!(
        b["error"],
        json!({"code": 500, "name": name, "message": message})
    );
    let api = t.result("GetAPI", json!({})).await;
    // Strings in both dialects, as every answer NetApp published (register E5).
    assert_eq!(api["currentVersion"], json!("12.5"));
    assert!(
        api["12.5"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("GetAsyncResult")))
    );
}

#[tokio::test(start_paused = true)]
async fn envelope_edge_cases() {
    let t = T::start(config(&[], ElementDialect::Current)).await;
    let auth = Some((USER, PASS));
    let cases = [
        ("{not json", "xJSONParseError"),
        (
            r#"[{"method":"GetAPI","params":{},"id":1}]"#,
            "xInvalidRequest",
        ),
        (
            r#"{"method":"GetAPI","params":[1],"id":1}"#,
            "xInvalidParameterType",
        ),
        (r#"{"params":{},"id":1}"#, "xMissingParameter"),
        (r#"{"method":"ListAsyncResults","params":{},"id":1}"#, ""),
    ];
    for (body, name) in cases {
        let (status, b) = t.raw("/json-rpc/12.5", body.into(), auth).await;
        assert_eq!(status, 200, "{body}");
        if name.is_empty() {
            assert!(b["result"]["asyncHandles"].is_array(), "{b}");
        } else {
            assert_eq!(b["error"]["name"], name, "{body}: {b}");
        }
    }
    // ListAsyncResults does not exist before 9.0.
    let (_, b) = t.raw("/json-rpc/8.0", cases[4].0.into(), auth).await;
    assert_eq!(b["error"]["name"], "xUnknownAPIMethod");
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("method=ListAsyncResults"))
    );
    let (status, b) = t.raw("/json-rpc/99.0", cases[4].0.into(), auth).await;
    assert_eq!((status, b["error"]["code"].clone()), (404, json!(404)));
    let big = format!(
        r#"{{"method":"GetAPI","params":{{"pad":"{}"}},"id":1}}"#,
        "x".repeat(2 << 20)
    );
    let (status, b) = t.raw("/json-rpc/12.5", big, auth).await;
    assert_eq!(status, 413, "{b}");
    assert_eq!(b["error"]["code"], 413);
    let (status, _) = t.raw("/json-rpc/12.5", "{}".into(), None).await;
    assert_eq!(status, 401);
}

#[tokio::test(start_paused = true)]
async fn objects_carry_their_members_and_lifecycle() {
    let t = T::start(config(&[], ElementDialect::Current)).await;
    let acct = t.result("AddAccount", json!({"username": "a1"})).await;
    let a = acct["accountID"].clone();
    for k in [
        "accountID",
        "username",
        "status",
        "initiatorSecret",
        "targetSecret",
        "volumes",
        "storageContainerID",
        "attributes",
        "enableChap",
    ] {
        assert!(acct["account"].get(k).is_some(), "account lacks {k}");
    }
    let small = t
        .call(
            "CreateVolume",
            json!({"name": "v", "accountID": a, "totalSize": 1}),
        )
        .await;
    assert!(is_error(&small));
    let v = t
        .result(
            "CreateVolume",
            json!({"name": "v", "accountID": a, "totalSize": 1_000_000_000u64}),
        )
        .await;
    assert_eq!(
        v["volume"]["totalSize"], 1_000_341_504u64,
        "rounded up to MiB"
    );
    for k in [
        "volumeID",
        "name",
        "accountID",
        "createTime",
        "volumeUUID",
        "status",
        "access",
        "enable512e",
        "iqn",
        "scsiEUIDeviceID",
        "scsiNAADeviceID",
        "qos",
        "volumeAccessGroups",
        "volumePairs",
        "sliceCount",
        "totalSize",
        "blockSize",
        "attributes",
        "deleteTime",
        "purgeTime",
        "currentProtectionScheme",
        "volumeConsistencyGroupUUID",
    ] {
        assert!(v["volume"].get(k).is_some(), "volume lacks {k}");
    }
    let src = v["volumeID"].clone();
    let c = t
        .result("CloneVolume", json!({"volumeID": src, "name": "c"}))
        .await;
    assert_eq!(c["volume"]["status"], "init");
    let copy_dst = t
        .result(
            "CreateVolume",
            json!({"name": "d", "accountID": a, "totalSize": 1_000_000_000u64}),
        )
        .await;
    let copy = t
        .result(
            "CopyVolume",
            json!({"volumeID": src, "dstVolumeID": copy_dst["volumeID"]}),
        )
        .await;
    assert!(copy["asyncHandle"].is_u64() && copy["cloneID"].is_u64());
    let cancelled = t
        .result("CancelClone", json!({"cloneID": copy["cloneID"]}))
        .await;
    assert_eq!(cancelled, json!({}));
    assert!(is_error(
        &t.gar(copy["asyncHandle"].as_u64().expect("h"), None).await
    ));
    sleep_ms(4100).await;
    let listed = t
        .result("ListVolumes", json!({"volumeIDs": [c["volumeID"]]}))
        .await;
    assert_eq!(listed["volumes"][0]["status"], "active");
    let page = t
        .result("ListVolumes", json!({"startVolumeID": 2, "limit": 1}))
        .await;
    assert_eq!(page["volumes"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["volumes"][0]["volumeID"], 2);
    for id in [&src, &c["volumeID"], &copy_dst["volumeID"]] {
        t.result("DeleteVolume", json!({"volumeID": id})).await;
    }
    let refused = t.call("RemoveAccount", json!({"accountID": a})).await;
    assert_eq!(refused["error"]["name"], "xAccountHasVolumes");
    for id in [&src, &c["volumeID"], &copy_dst["volumeID"]] {
        t.result("PurgeDeletedVolume", json!({"volumeID": id}))
            .await;
    }
    assert_eq!(
        t.result("RemoveAccount", json!({"accountID": a})).await,
        json!({})
    );
    let info = t.result("GetClusterInfo", json!({})).await;
    assert!(info["clusterInfo"]["uuid"].is_string());
}

#[tokio::test(start_paused = true)]
async fn control_api_scripts_journals_resets() {
    let t = T::start(config(&[], ElementDialect::Current)).await;
    let (status, _) = t.raw("/_jobconform/reset", "{}".into(), None).await;
    assert_eq!(status, 401);
    let script = json!({"steps": [{"ms": 1000, "details": {"stage": "copy"}}], "outcome": "aborted",
                        "result_type": "BulkVolume"});
    let h = t.control("/element/jobs", script).await["asyncHandle"]
        .as_u64()
        .expect("h");
    let a = t.gar(h, Some(true)).await;
    assert_eq!(a["result"]["details"], json!({"stage": "copy"}));
    sleep_ms(1000).await;
    let b = t.gar(h, None).await;
    assert_eq!(b["result"]["error"]["name"], "xAsyncJobAborted");
    assert_eq!(b["result"]["resultType"], "BulkVolume");
    let journal = t.control_get("/journal").await;
    let ops: Vec<(&str, &str, bool)> = journal
        .as_array()
        .expect("array")
        .iter()
        .map(|e| {
            // Running observations carry their details: keep the lifecycle word.
            let obs = e["observed"]
                .as_str()
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("");
            (
                e["op"].as_str().unwrap_or(""),
                obs,
                e["released"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("control job", "running", false),
            ("GetAsyncResult", "running", false),
            ("GetAsyncResult", "complete", true)
        ]
    );
    assert_eq!(journal[1]["keep_result"], true);
    assert_eq!(journal[1]["client"], "127.0.0.1");
    t.result("AddAccount", json!({"username": "x"})).await;
    let state = t.control_get("/state").await;
    assert_eq!(state["element"]["accounts"][0]["username"], "x");
    t.control("/reset", json!({})).await;
    let state = t.control_get("/state").await;
    assert_eq!(
        state["element"],
        json!({"volumes": [], "accounts": [], "handles": 0})
    );
    assert_eq!(t.control_get("/journal").await, json!([]));
}

#[tokio::test(start_paused = true)]
async fn load_no_job_lost_and_keep_once_holds() {
    let t = T::start(config(&[], ElementDialect::Current)).await;
    let acct = t.result("AddAccount", json!({"username": "load"})).await;
    let params =
        json!({"name": "src", "accountID": acct["accountID"], "totalSize": 1_000_000_000u64});
    let src = t.result("CreateVolume", params).await["volumeID"].clone();
    let cycle = |i: usize| {
        let t = &t;
        let src = src.clone();
        async move {
            let c = t
                .result(
                    "CloneVolume",
                    json!({"volumeID": src, "name": format!("c{i}")}),
                )
                .await;
            let h = c["asyncHandle"].as_u64().expect("handle");
            loop {
                let r = t.gar(h, Some(true)).await;
                if r["result"]["status"] == "complete" {
                    break;
                }
                sleep_ms(500).await;
            }
            let fetched = t.gar(h, None).await;
            let gone = t.gar(h, None).await;
            assert_eq!(fetched["result"]["result"]["cloneID"], c["cloneID"]);
            assert!(is_error(&gone));
            h
        }
    };
    let handles = futures_util::future::join_all((0..200).map(cycle)).await;
    assert_eq!(
        handles.iter().collect::<BTreeSet<_>>().len(),
        200,
        "handles are unique"
    );
    let list = t.result("ListAsyncResults", json!({})).await;
    assert_eq!(
        list["asyncHandles"],
        json!([]),
        "every fetched handle is purged"
    );
    for _ in 0..5 {
        let h = t.done_job().await;
        let answers = futures_util::future::join_all((0..50).map(|_| t.gar(h, None))).await;
        let got = answers.iter().filter(|b| b.get("result").is_some()).count();
        assert_eq!(got, 1, "exactly one concurrent fetch gets the result");
    }
}

/// Runs tests/sdk_roundtrip.py against `jobconform serve --tls` (a separate process): NetApp's
/// Python SDK connects through its own `ElementFactory.create(..., verify_ssl=False)`, so the
/// round trip exercises the SDK's HTTPS connection path, GetAPI at 7.0 and the version
/// negotiation, then its typed models. Needs `pip install solidfire-sdk-python`.
#[test]
#[ignore = "needs python3 with solidfire-sdk-python"]
fn python_sdk_roundtrip() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    fn wait(child: &mut std::process::Child, limit: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    let mut serve = Command::new(env!("CARGO_BIN_EXE_jobconform"))
        .args(["serve", "--tls", "--time-scale", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("jobconform serve starts");
    let mut line = String::new();
    let stdout = serve.stdout.take().expect("stdout");
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("serve prints its URLs");
    let urls: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("serve printed {line:?}, not JSON: {e}"));
    let element = urls["element"].as_str().expect("element URL");
    let base = element.trim_end_matches("/json-rpc/12.5").to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{urls}");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk_roundtrip.py");
    // Output goes to a file, so a chatty SDK can never fill a pipe and stall the bounded wait.
    let log = tempfile::NamedTempFile::new().expect("temp file");
    let mut py = Command::new("python3")
        .args([script, &base, USER, PASS])
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"))
        .spawn()
        .expect("python3 runs");
    let status = wait(&mut py, Duration::from_secs(120));
    let text = std::fs::read_to_string(log.path()).unwrap_or_default();
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    let stopped = wait(&mut serve, Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "sdk roundtrip over TLS failed ({status:?}):\n{text}"
    );
    assert!(
        stopped.is_some_and(|s| s.success()),
        "serve stops on SIGTERM: {stopped:?}"
    );
    println!("serve: {}\n{text}", line.trim());
}

#[tokio::test(start_paused = true)]
async fn hostile_params_never_crash() {
    let t = T::start(config(&[], ElementDialect::Current)).await;
    let acct = t.result("AddAccount", json!({"username": "h"})).await;
    let params =
        json!({"name": "v", "accountID": acct["accountID"], "totalSize": 1_000_000_000u64});
    let v = t.result("CreateVolume", params).await;
    let hostile = [
        json!(u64::MAX),
        json!(-1),
        json!(1.5),
        json!("x"),
        json!(""),
        json!([]),
        json!([u64::MAX]),
        json!({}),
        json!(null),
        json!(true),
        json!("a".repeat(10_000)),
    ];
    for m in jobconform::mock::element::METHODS {
        for p in m.params {
            for h in &hostile {
                let mut params = json!({"volumeID": v["volumeID"], "name": "n", "accountID": acct["accountID"],
                                        "totalSize": 1_000_000_000u64, "username": "u2", "asyncHandle": 1});
                params[*p] = h.clone();
                let req = json!({"method": m.name, "params": params, "id": 9});
                let (status, b) = t.call_at("12.5", req).await;
                assert_eq!(status, 200, "{} {p}={h}: {b}", m.name);
                assert!(
                    b.get("result").is_some() != b.get("error").is_some(),
                    "{} {p}: {b}",
                    m.name
                );
            }
        }
    }
}

#[rstest]
#[case::current(ElementDialect::Current)]
#[case::doc_literal(ElementDialect::DocLiteral)]
#[tokio::test(start_paused = true)]
async fn answers_validate_against_the_project_schemas(#[case] dialect: ElementDialect) {
    let t = T::start(config(&[], dialect)).await;
    let mut answers: Vec<(&str, serde_json::Value)> = vec![
        ("element/get-api.json", t.call("GetAPI", json!({})).await),
        (
            "element/get-cluster-version-info.json",
            t.call("GetClusterVersionInfo", json!({})).await,
        ),
    ];
    let acct = t.result("AddAccount", json!({"username": "s"})).await;
    let params =
        json!({"name": "v", "accountID": acct["accountID"], "totalSize": 1_000_000_000u64});
    let v = t.result("CreateVolume", params).await;
    let clone = t
        .call(
            "CloneVolume",
            json!({"volumeID": v["volumeID"], "name": "c"}),
        )
        .await;
    let h = clone["result"]["asyncHandle"].as_u64().expect("handle");
    answers.push(("element/clone-volume.json", clone));
    let failing = t.job(&[1000], "failure", "BulkVolume").await;
    answers.push(("element/get-async-result.json", t.gar(h, Some(true)).await));
    answers.push((
        "element/list-async-results.json",
        t.call("ListAsyncResults", json!({})).await,
    ));
    sleep_ms(4100).await;
    answers.push(("element/get-async-result.json", t.gar(h, Some(true)).await));
    answers.push((
        "element/get-async-result.json",
        t.gar(failing, Some(true)).await,
    ));
    answers.push((
        "element/list-async-results.json",
        t.call("ListAsyncResults", json!({})).await,
    ));
    let unknown = t.gar(999, None).await;
    answers.push(("element/error.json", unknown["error"].clone()));
    answers.push(("element/response.json", unknown));
    for (schema, answer) in answers {
        let errors = jobconform::contract::validate(schema, &answer).expect("known schema");
        assert!(errors.is_empty(), "{schema}: {errors:?}\n{answer:#}");
    }
}
