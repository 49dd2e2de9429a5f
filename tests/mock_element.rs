//! The Element half of the mock over real HTTP on loopback: every rule of CONTRACT.md §1-3 holds
//! without deviations (both dialects), each Element deviation breaks exactly the rules it names,
//! the control API works, a load test loses no job, and (ignored by default) NetApp's Python SDK
//! round-trips against it. The mock runs on the test's paused current-thread runtime, so target
//! time only moves when a test sleeps.

use std::collections::BTreeSet;
use std::time::Duration;

use jobconform::mock::{self, ElementDialect, MockConfig, RunningMock, deviation};
use rstest::rstest;
use serde_json::{Value, json};

struct T {
    m: RunningMock,
    c: reqwest::Client,
}

const USER: &str = mock::DEFAULT_USER;
const PASS: &str = mock::DEFAULT_PASSWORD;

fn config(deviations: &[&'static str], dialect: ElementDialect) -> MockConfig {
    MockConfig {
        deviations: deviations.iter().copied().collect(),
        element_dialect: dialect,
        clone_ms: 4_000,
        ..MockConfig::default()
    }
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

impl T {
    async fn start(cfg: MockConfig) -> T {
        jobconform::transport::install_crypto();
        let m = mock::spawn(cfg).await.expect("mock starts");
        T {
            m,
            c: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.m.addr)
    }

    /// POSTs a raw body; (status, JSON body or Null, text).
    async fn raw(&self, path: &str, body: String, auth: Option<(&str, &str)>) -> (u16, Value) {
        let mut rq = self.c.post(self.url(path)).body(body);
        if let Some((u, p)) = auth {
            rq = rq.basic_auth(u, Some(p));
        }
        let resp = rq.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body read");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn call_at(&self, version: &str, req: Value) -> (u16, Value) {
        let path = format!("/json-rpc/{version}");
        self.raw(&path, req.to_string(), Some((USER, PASS))).await
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        let req = json!({"method": method, "params": params, "id": 1});
        self.call_at(mock::ELEMENT_CURRENT, req).await.1
    }

    async fn result(&self, method: &str, params: Value) -> Value {
        let body = self.call(method, params).await;
        assert!(body.get("result").is_some(), "{method}: {body}");
        body["result"].clone()
    }

    async fn gar(&self, h: u64, keep: Option<bool>) -> Value {
        let params = match keep {
            Some(k) => json!({"asyncHandle": h, "keepResult": k}),
            None => json!({"asyncHandle": h}),
        };
        self.call("GetAsyncResult", params).await
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let (status, v) = self
            .raw(
                &format!("/_jobconform{path}"),
                body.to_string(),
                Some((USER, PASS)),
            )
            .await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    async fn control_get(&self, path: &str) -> Value {
        let url = self.url(&format!("/_jobconform{path}"));
        let resp = self.c.get(url).basic_auth(USER, Some(PASS)).send().await;
        resp.expect("sent").json().await.expect("json")
    }

    /// A scripted job: `steps` of ms each, then `outcome`; returns its handle.
    async fn job(&self, steps: &[u64], outcome: &str, result_type: &str) -> u64 {
        let steps: Vec<Value> = steps.iter().map(|ms| json!({"ms": ms})).collect();
        let script = json!({"steps": steps, "outcome": outcome, "result_type": result_type});
        let v = self.control("/element/jobs", script).await;
        v["asyncHandle"].as_u64().expect("handle")
    }

    /// A complete successful job.
    async fn done_job(&self) -> u64 {
        let h = self.job(&[1000, 1000], "success", "Clone").await;
        sleep_ms(2500).await;
        h
    }
}

fn is_error(body: &Value) -> bool {
    body.get("error").is_some() && body.get("result").is_none()
}

fn code_500(body: &Value) -> bool {
    let code = &body["error"]["code"];
    code.as_u64()
        .or_else(|| code.as_str().and_then(|s| s.parse().ok()))
        == Some(500)
}

fn is_iso_z(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.ends_with('Z') && s.parse::<jiff::Timestamp>().is_ok())
}

fn version_in(list: &Value, v: &str) -> bool {
    list.as_array().is_some_and(|l| {
        l.iter()
            .any(|x| x.as_str() == Some(v) || x.as_f64().is_some_and(|f| format!("{f:.1}") == v))
    })
}

/// Runs one probe per rule of CONTRACT.md §1-3 (each on a freshly reset mock) and returns the IDs
/// of the rules the mock broke.
async fn broken_rules(t: &T) -> BTreeSet<&'static str> {
    let mut broken = BTreeSet::new();
    for (id, probe) in PROBES {
        t.control("/reset", json!({})).await;
        if !probe(t).await {
            broken.insert(*id);
        }
    }
    broken
}

type Probe = for<'a> fn(&'a T) -> futures_util::future::BoxFuture<'a, bool>;

macro_rules! probe {
    ($id:literal, |$t:ident| $body:block) => {
        ($id, {
            fn probe($t: &T) -> futures_util::future::BoxFuture<'_, bool> {
                Box::pin(async move $body)
            }
            probe as Probe
        })
    };
}

static PROBES: &[(&str, Probe)] = &[
    probe!("EL-RPC-ENVELOPE", |t| {
        let mut ok = true;
        for id in [json!(7), json!("abc-1")] {
            for method in ["GetAPI", "NoSuchMethod"] {
                let req = json!({"method": method, "params": {}, "id": id});
                let (_, b) = t.call_at("12.5", req).await;
                ok &= b["id"] == id && (b.get("result").is_some() != b.get("error").is_some());
            }
        }
        ok
    }),
    probe!("EL-RPC-ERROR-SHAPE", |t| {
        let b = t.call("GetAsyncResult", json!({"asyncHandle": "x"})).await;
        let e = &b["error"];
        e["code"].as_u64() == Some(500) && e["name"].is_string() && e["message"].is_string()
    }),
    probe!("EL-RPC-ERROR-HTTP", |t| {
        let req = json!({"method": "GetAsyncResult", "params": {"asyncHandle": "x"}, "id": 1});
        let (status, b) = t.call_at("12.5", req).await;
        status == 200 && is_error(&b)
    }),
    probe!("EL-RPC-AUTH", |t| {
        let body = json!({"method": "GetAPI", "params": {}, "id": 1}).to_string();
        let (none, _) = t.raw("/json-rpc/12.5", body.clone(), None).await;
        let (wrong, _) = t.raw("/json-rpc/12.5", body, Some((USER, "wrong"))).await;
        none == 401 && wrong == 401
    }),
    probe!("EL-RPC-UNKNOWN-METHOD", |t| {
        let b = t.call("NoSuchMethod", json!({})).await;
        b["error"]["name"] == "xUnknownAPIMethod"
    }),
    probe!("EL-RPC-UNUSED-PARAMS", |t| {
        let b = t.call("GetLimits", json!({"bogus": 1})).await;
        b["result"]["unusedParameters"]["bogus"] == 1 && b["result"]["volumeSizeMin"].is_u64()
    }),
    probe!("EL-VER-GETAPI", |t| {
        let mut ok = true;
        for v in ["12.5", "9.0", "1.0"] {
            let (_, b) = t
                .call_at(v, json!({"method": "GetAPI", "params": {}, "id": 1}))
                .await;
            let r = &b["result"];
            ok &= r.get("currentVersion").is_some() && version_in(&r["supportedVersions"], v);
        }
        ok
    }),
    probe!("EL-VER-CLUSTER", |t| {
        let r = t.result("GetClusterVersionInfo", json!({})).await;
        r["clusterAPIVersion"].is_string() && r["clusterVersion"].is_string()
    }),
    probe!("EL-GAR-PARAMS", |t| {
        let h = t.done_job().await;
        let mut ok = true;
        for params in [
            json!({}),
            json!({"asyncHandle": h.to_string()}),
            json!({"asyncHandle": 1.5}),
        ] {
            let b = t.call("GetAsyncResult", params).await;
            ok &= is_error(&b) && code_500(&b);
        }
        ok
    }),
    probe!("EL-GAR-STATUS", |t| {
        let h = t.job(&[1000], "success", "Clone").await;
        let a = t.gar(h, Some(true)).await;
        sleep_ms(1500).await;
        let b = t.gar(h, Some(true)).await;
        a["result"]["status"] == "running" && b["result"]["status"] == "complete"
    }),
    probe!("EL-GAR-RUNNING", |t| {
        let h = t.job(&[1000], "failure", "Clone").await;
        let r = &t.gar(h, Some(true)).await["result"];
        r["status"] == "running" && r.get("result").is_none() && r.get("error").is_none()
    }),
    probe!("EL-GAR-DETAILS", |t| {
        let h = t.job(&[1000, 1000], "success", "Clone").await;
        let a = t.gar(h, Some(true)).await;
        sleep_ms(1200).await;
        let b = t.gar(h, Some(true)).await;
        a["result"]["details"].is_object() && b["result"]["details"]["percentComplete"] == 50
    }),
    probe!("EL-GAR-COMPLETE", |t| {
        let mut ok = true;
        for (outcome, want_result) in [("success", true), ("failure", false)] {
            let h = t.job(&[500], outcome, "Clone").await;
            sleep_ms(600).await;
            let r = &t.gar(h, Some(true)).await["result"];
            if r["status"] == "complete" {
                ok &= r.get("result").is_some() == want_result
                    && r.get("error").is_some() != want_result
                    && r.get("details").is_none();
            }
        }
        ok
    }),
    probe!("EL-GAR-ASYNC-ERROR", |t| {
        let h = t.job(&[500], "failure", "BulkVolume").await;
        sleep_ms(600).await;
        let e = &t.gar(h, Some(true)).await["result"]["error"];
        e["name"].is_string() && e["message"].is_string()
    }),
    probe!("EL-GAR-TIMES", |t| {
        let h = t.job(&[1500, 1500], "success", "Clone").await;
        sleep_ms(1000).await;
        let a = t.gar(h, Some(true)).await["result"].clone();
        sleep_ms(2500).await;
        let b = t.gar(h, Some(true)).await["result"].clone();
        [a, b].iter().all(|r| {
            r["resultType"].is_string()
                && is_iso_z(&r["createTime"])
                && is_iso_z(&r["lastUpdateTime"])
                && r["lastUpdateTime"].as_str() >= r["createTime"].as_str()
        })
    }),
    probe!("EL-GAR-STABLE", |t| {
        let h = t.job(&[1000, 1000, 1000], "success", "Clone").await;
        let mut seen: Vec<Value> = Vec::new();
        for _ in 0..7 {
            let b = t.gar(h, Some(true)).await;
            if let Some(r) = b.get("result") {
                seen.push(r.clone());
            }
            sleep_ms(700).await;
        }
        let first = &seen[0];
        let mut ok = true;
        for w in seen.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            ok &= b["createTime"] == first["createTime"] && b["resultType"] == first["resultType"];
            ok &= b["lastUpdateTime"].as_str() >= a["lastUpdateTime"].as_str();
            ok &= !(a["status"] != "running" && b["status"] == "running");
            if a["status"] != "running" {
                ok &= a.get("result") == b.get("result") && a.get("error") == b.get("error");
            }
        }
        ok
    }),
    probe!("EL-GAR-UNKNOWN", |t| {
        let b = t.gar(999_999_999, None).await;
        let name = b["error"]["name"].as_str().unwrap_or("");
        code_500(&b) && ["xAsyncHandleDoesNotExist", "xDBNoSuchPath"].contains(&name)
    }),
    probe!("EL-KEEP-RUNNING", |t| {
        let h = t.job(&[2000], "success", "Clone").await;
        let a = t.gar(h, None).await;
        let b = t.gar(h, Some(false)).await;
        let c = t.gar(h, Some(true)).await;
        [a, b, c].iter().all(|x| x["result"]["status"] == "running")
    }),
    probe!("EL-KEEP-TRUE", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, Some(true)).await;
        let b = t.gar(h, Some(true)).await;
        let c = t.gar(h, Some(true)).await;
        a.get("result").is_some()
            && [&b, &c]
                .iter()
                .all(|x| x["result"]["result"] == a["result"]["result"])
    }),
    probe!("EL-KEEP-DEFAULT", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, None).await;
        let b = t.gar(h, None).await;
        let c = t.gar(h, Some(true)).await;
        a["result"]["result"].is_object() && is_error(&b) && is_error(&c)
    }),
    probe!("EL-KEEP-FALSE", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, Some(false)).await;
        let b = t.gar(h, Some(true)).await;
        a["result"]["result"].is_object() && is_error(&b)
    }),
    probe!("EL-KEEP-FAILED-CALL", |t| {
        let h = t.done_job().await;
        let bad = json!({"asyncHandle": h, "keepResult": "yes"});
        let a = t.call("GetAsyncResult", bad).await;
        let b = t.gar(h, Some(true)).await;
        is_error(&a) && b["result"]["result"].is_object()
    }),
    probe!("EL-KEEP-ONCE", |t| {
        let h = t.done_job().await;
        let answers = futures_util::future::join_all((0..8).map(|_| t.gar(h, None))).await;
        let got = answers.iter().filter(|b| b.get("result").is_some()).count();
        // Only meaningful where a plain fetch purges at all (EL-KEEP-DEFAULT).
        let purges = is_error(&t.gar(h, None).await);
        !purges || got == 1
    }),
    probe!("EL-HANDLE-UNIQUE", |t| {
        let a = t.job(&[5000], "success", "Clone").await;
        let b = t.job(&[5000], "success", "Clone").await;
        a != b
    }),
    probe!("EL-LIST-SHAPE", |t| {
        t.job(&[1000], "success", "Clone").await;
        t.job(&[], "failure", "BulkVolume").await;
        let r = t.result("ListAsyncResults", json!({})).await;
        r["asyncHandles"].as_array().is_some_and(|l| {
            !l.is_empty()
                && l.iter().all(|e| {
                    e["asyncResultID"].is_u64()
                        && e["completed"].is_boolean()
                        && e["createTime"].is_string()
                        && e["lastUpdateTime"].is_string()
                        && e["resultType"].is_string()
                        && e["success"].is_boolean()
                        && e["data"].is_object()
                })
        })
    }),
    probe!("EL-LIST-FILTER", |t| {
        t.job(&[], "success", "Clone").await;
        t.job(&[], "failure", "BulkVolume").await;
        let r = t
            .result(
                "ListAsyncResults",
                json!({"asyncResultTypes": ["BulkVolume"]}),
            )
            .await;
        let l = r["asyncHandles"].as_array().cloned().unwrap_or_default();
        !l.is_empty() && l.iter().all(|e| e["resultType"] == "BulkVolume")
    }),
    probe!("EL-LIST-NO-PURGE", |t| {
        let h = t.done_job().await;
        t.result("ListAsyncResults", json!({})).await;
        t.gar(h, Some(true)).await["result"]["result"].is_object()
    }),
    probe!("EL-LIST-AGREES", |t| {
        let good = t.job(&[500], "success", "Clone").await;
        let bad = t.job(&[500], "failure", "Clone").await;
        let running = t.job(&[5000], "success", "Clone").await;
        sleep_ms(600).await;
        let mut gars = std::collections::BTreeMap::new();
        for h in [good, bad, running] {
            gars.insert(h, t.gar(h, Some(true)).await["result"].clone());
        }
        let list = t.result("ListAsyncResults", json!({})).await;
        let mut ok = true;
        for e in list["asyncHandles"].as_array().cloned().unwrap_or_default() {
            let Some(g) = e["asyncResultID"].as_u64().and_then(|h| gars.get(&h)) else {
                continue;
            };
            if g.is_null() {
                continue;
            }
            let complete = g["status"] != "running";
            if let Some(c) = e["completed"].as_bool() {
                ok &= c == complete;
            }
            if complete {
                let success = g.get("result").is_some() && g.get("error").is_none();
                ok &= e["success"].as_bool() == Some(success);
                if success {
                    ok &= e["data"] == g["result"];
                }
            }
        }
        ok
    }),
    probe!("EL-LIST-PURGED", |t| {
        let h = t.done_job().await;
        let a = t.gar(h, None).await;
        let list = t.result("ListAsyncResults", json!({})).await;
        let listed = list["asyncHandles"]
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["asyncResultID"] == h));
        // Only meaningful where the fetch invalidated the handle (EL-KEEP-DEFAULT).
        let invalidated = is_error(&t.gar(h, Some(true)).await);
        a.get("result").is_some() && !(invalidated && listed)
    }),
    probe!("EL-CLONE-START", |t| {
        let acct = t.result("AddAccount", json!({"username": "probe"})).await;
        let size = 1_000_000_000u64;
        let params = json!({"name": "src", "accountID": acct["accountID"], "totalSize": size});
        let vol = t.result("CreateVolume", params).await;
        let c = t
            .result(
                "CloneVolume",
                json!({"volumeID": vol["volumeID"], "name": "dst"}),
            )
            .await;
        let (Some(h), Some(clone_id)) = (c["asyncHandle"].as_u64(), c["cloneID"].as_u64()) else {
            return false;
        };
        sleep_ms(4500).await;
        let r = &t.gar(h, Some(true)).await["result"];
        c["volumeID"].is_u64()
            && r["status"] != "running"
            && r["resultType"] == "Clone"
            && r["result"]["cloneID"].as_u64() == Some(clone_id)
    }),
];

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
fn element_deviations() -> &'static [deviation::Deviation] {
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
    let current = &api["currentVersion"];
    match dialect {
        ElementDialect::Current => assert_eq!(current, &json!(12.5)),
        ElementDialect::DocLiteral => assert_eq!(current, &json!("12.5")),
    }
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
            let obs = e["observed"].as_str().unwrap_or("");
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

/// Runs tests/sdk_roundtrip.py (NetApp's Python SDK, typed models) against an in-process mock.
#[test]
#[ignore = "needs python3 with solidfire-sdk-python"]
fn python_sdk_roundtrip() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let cfg = MockConfig {
            time_scale: 10.0,
            ..MockConfig::default()
        };
        let m = mock::spawn(cfg).await.expect("mock starts");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk_roundtrip.py");
        let url = format!("http://{}", m.addr);
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .args([script, &url, USER, PASS])
                .output()
        })
        .await
        .expect("joined")
        .expect("python3 runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "sdk roundtrip failed:\n{text}");
        println!("{text}");
        m.stop().await;
    });
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
