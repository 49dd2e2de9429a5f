//! (b) The mock's shapes match NetApp's: for every fixture, the mock's answer to the same
//! request, compared through the snapshot shape code (`snapshot::Shape`: JSON pointers, array
//! items as `*`, to JSON types). An answer from the firmware the mock claims (12.x) must have
//! exactly the fixture's members; one from older firmware must have every member the fixture has,
//! with the same type (a 12.5 cluster carries more). Every difference left is in [`EXCEPTIONS`],
//! with its reason, and every exception must still be needed.

use std::time::Duration;

use jobconform::mock::{self, MockConfig, RunningMock};
use jobconform::snapshot::Shape;
use serde_json::{Value, json};

use super::fixture;

/// Which firmware the fixture comes from, relative to the 12.5 cluster the mock claims.
#[derive(Clone, Copy, PartialEq)]
enum Era {
    /// A 12.x answer: the same member set.
    Same,
    /// Older firmware: the mock may carry more members.
    Older,
}

/// Every fixture with its era (its request is in [`mock_answer`]).
const ERAS: &[(&str, Era)] = &[
    ("element/get-async-result-method-error.json", Era::Same),
    ("element/get-async-result-task-error.json", Era::Same),
    ("element/get-async-result-task-success.json", Era::Same),
    ("element/list-async-results.json", Era::Same),
    ("element/get-api.json", Era::Same),
    ("element/get-api-7.3-recorded.json", Era::Same),
    ("element/get-cluster-version-info.json", Era::Same),
    ("element/get-cluster-info.json", Era::Same),
    ("element/get-limits.json", Era::Same),
    ("element/clone-volume.json", Era::Older),
    ("element/delete-volume.json", Era::Older),
    ("element/add-account.json", Era::Same),
    ("element/create-volume.json", Era::Same),
    ("element/list-volumes.json", Era::Older),
    ("element/list-volumes-recorded.json", Era::Older),
    ("element/list-accounts-recorded.json", Era::Older),
    (
        "element/error-async-handle-does-not-exist-recorded.json",
        Era::Same,
    ),
    ("element/error-unknown-account-recorded.json", Era::Same),
    ("aiqum/job-file-share-tail.json", Era::Older),
];

/// The one table of differences: fixture, JSON pointer (it and everything under it; `""` is
/// the whole answer, whose request is then not sent), reason.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "element/list-accounts-recorded.json",
        "",
        "the mock serves no ListAccounts (the harness never calls it)",
    ),
    (
        "element/error-unknown-account-recorded.json",
        "",
        "the mock serves no GetAccountByName (the harness never calls it)",
    ),
    (
        "element/get-async-result-task-error.json",
        "/result/error/bvID",
        "bvID and volumeID are a BulkVolume job's keys; the mock runs no bulk volume jobs (its failed jobs are scripted with name and message)",
    ),
    (
        "element/get-async-result-task-error.json",
        "/result/error/volumeID",
        "as bvID",
    ),
    (
        "element/get-cluster-info.json",
        "/id",
        "register E9: the example answers a request with id 1 with id null; the mock echoes the id",
    ),
    (
        "element/delete-volume.json",
        "/result/volume/attributes",
        "free-form attributes the example's volume was created with",
    ),
    (
        "element/delete-volume.json",
        "/result/volume/volumeAccessGroups/*",
        "the example's volume is in an access group; the mock serves no access groups",
    ),
    (
        "element/error-async-handle-does-not-exist-recorded.json",
        "/id",
        "the SDK's test removes id before comparing the recorded error",
    ),
];

/// The answer a request got, as JSON (Null when the body is not JSON).
struct Client {
    m: RunningMock,
    http: reqwest::Client,
}

impl Client {
    async fn start(config: MockConfig) -> Client {
        jobconform::transport::install_crypto();
        Client {
            m: mock::spawn(config).await.expect("mock starts"),
            http: reqwest::Client::new(),
        }
    }

    async fn rpc(&self, version: &str, method: &str, params: Value, id: Option<i64>) -> Value {
        let mut req = json!({"method": method, "params": params});
        if let Some(id) = id {
            req["id"] = json!(id);
        }
        let url = format!("http://{}/json-rpc/{version}", self.m.addr);
        self.send(self.http.post(url).body(req.to_string())).await
    }

    async fn result(&self, method: &str, params: Value) -> Value {
        let b = self.rpc("12.5", method, params, Some(1)).await;
        assert!(b.get("result").is_some(), "{method}: {b}");
        b["result"].clone()
    }

    async fn send(&self, rq: reqwest::RequestBuilder) -> Value {
        let rq = rq.basic_auth(mock::DEFAULT_USER, Some(mock::DEFAULT_PASSWORD));
        let resp = rq.send().await.expect("request sent");
        serde_json::from_str(&resp.text().await.expect("body")).unwrap_or(Value::Null)
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("http://{}{path}", self.m.addr);
        self.send(self.http.get(url)).await
    }
}

/// Objects the requests name, made once per mock.
struct World {
    account: u64,
    volume: u64,
    clone_handle: u64,
    failed_handle: u64,
}

async fn world(c: &Client) -> World {
    let acct = c
        .result("AddAccount", json!({"username": "jc-fixtures"}))
        .await;
    let account = acct["accountID"].as_u64().expect("accountID");
    let params = json!({"name": "src", "accountID": account, "totalSize": 1_000_341_504u64});
    let vol = c.result("CreateVolume", params).await;
    let volume = vol["volumeID"].as_u64().expect("volumeID");
    let clone = c
        .result("CloneVolume", json!({"volumeID": volume, "name": "c"}))
        .await;
    let script = json!({"steps": [{"ms": 1000}], "outcome": "failure", "result_type": "BulkVolume",
                        "error": {"name": "xBulkVolumeScriptFailure", "message": "Bulk volume job failed"}});
    let url = format!("http://{}/_jobconform/element/jobs", c.m.addr);
    let failed = c.send(c.http.post(url).body(script.to_string())).await;
    // Target time runs 100 times faster: the clone (3 s) and the job (1 s) end within 30 ms.
    tokio::time::sleep(Duration::from_millis(200)).await;
    World {
        account,
        volume,
        clone_handle: clone["asyncHandle"].as_u64().expect("asyncHandle"),
        failed_handle: failed["asyncHandle"].as_u64().expect("asyncHandle"),
    }
}

/// The mock's answer to the request each fixture answers (`None`: not sent, see EXCEPTIONS).
async fn mock_answer(c: &Client, w: &World, name: &str) -> Option<Value> {
    let gar = |h: u64| json!({"asyncHandle": h, "keepResult": true});
    Some(match name {
        "element/get-async-result-method-error.json" => {
            c.rpc(
                "12.0",
                "GetAsyncResult",
                json!({"asyncHandle": 389_000}),
                Some(1),
            )
            .await
        }
        "element/get-async-result-task-error.json" => {
            c.rpc("12.0", "GetAsyncResult", gar(w.failed_handle), Some(1))
                .await
        }
        "element/get-async-result-task-success.json" => {
            c.rpc("12.0", "GetAsyncResult", gar(w.clone_handle), Some(1))
                .await
        }
        "element/list-async-results.json" => {
            let p = json!({"asyncResultTypes": ["Clone"]});
            c.rpc("12.0", "ListAsyncResults", p, Some(1)).await
        }
        "element/get-api.json" => c.rpc("12.0", "GetAPI", json!({}), Some(1)).await,
        "element/get-api-7.3-recorded.json" => c.rpc("7.0", "GetAPI", json!({}), None).await,
        "element/get-cluster-version-info.json" => {
            c.rpc("12.0", "GetClusterVersionInfo", json!({}), Some(1))
                .await
        }
        "element/get-cluster-info.json" => {
            c.rpc("12.0", "GetClusterInfo", json!({}), Some(1)).await
        }
        "element/get-limits.json" => c.rpc("12.0", "GetLimits", json!({}), Some(1)).await,
        "element/clone-volume.json" => {
            let p =
                json!({"volumeID": w.volume, "name": "mysqldata-snapshot1", "access": "readOnly"});
            c.rpc("12.0", "CloneVolume", p, Some(1)).await
        }
        "element/delete-volume.json" => {
            let p = json!({"name": "1459181777648", "accountID": w.account, "totalSize": 1_000_341_504u64});
            let v = c.result("CreateVolume", p).await;
            let p = json!({"volumeID": v["volumeID"]});
            c.rpc("12.0", "DeleteVolume", p, Some(1)).await
        }
        "element/add-account.json" => {
            let p = json!({"username": "bobsmith", "initiatorSecret": "168[#5A757ru268)",
                           "targetSecret": "tlt&lt;,8TUYa7bC", "attributes": {"billingcode": 2345}});
            c.rpc("12.0", "AddAccount", p, Some(1)).await
        }
        "element/create-volume.json" => {
            let p = json!({"name": "testit", "accountID": w.account, "totalSize": 1_000_000_716_800u64,
                           "enable512e": false});
            c.rpc("12.0", "CreateVolume", p, Some(1)).await
        }
        "element/list-volumes.json" | "element/list-volumes-recorded.json" => {
            let p = json!({"volumeIDs": [w.volume]});
            c.rpc("12.0", "ListVolumes", p, Some(1)).await
        }
        "element/error-async-handle-does-not-exist-recorded.json" => {
            let p = json!({"asyncHandle": "999999999"});
            c.rpc("12.5", "GetAsyncResult", p, None).await
        }
        "aiqum/job-file-share-tail.json" => {
            let body = json!({"name": "fs1", "space": {"size": 1_073_741_824u64}, "svm": {"key": "svm-1"}});
            let url = format!("http://{}/api/storage-provider/file-shares", c.m.addr);
            let accepted = c.send(c.http.post(url).json(&body)).await;
            let key = accepted["job"]["key"]
                .as_str()
                .expect("job.key")
                .to_string();
            tokio::time::sleep(Duration::from_millis(200)).await;
            c.get(&format!("/api/management-server/jobs/{key}")).await
        }
        _ => return None,
    })
}

/// Differences between the fixture's shape and the mock's, as `pointer: what`.
fn differences(fixture: &Shape, mock: &Shape, era: Era) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (p, ty) in &fixture.members {
        match mock.members.get(p) {
            None => out.push((p.clone(), format!("missing on the mock (NetApp: {ty})"))),
            Some(m) if m != ty => out.push((p.clone(), format!("NetApp {ty}, mock {m}"))),
            Some(_) => {}
        }
    }
    if era == Era::Same {
        for (p, ty) in &mock.members {
            if !fixture.members.contains_key(p) {
                out.push((p.clone(), format!("only on the mock ({ty})")));
            }
        }
    }
    out
}

fn excepted(name: &str, pointer: &str) -> Option<usize> {
    EXCEPTIONS.iter().position(|(f, p, _)| {
        *f == name && (pointer == *p || pointer.starts_with(&format!("{p}/")))
    })
}

fn shape(v: &Value) -> Shape {
    let mut s = Shape::default();
    s.add_body(v);
    s
}

/// Runs every fixture's request against a fresh mock in its default dialects.
async fn compare(used: &mut [bool], found: &mut Vec<String>) {
    let config = MockConfig {
        time_scale: 100.0,
        ..MockConfig::default()
    };
    let c = Client::start(config).await;
    let w = world(&c).await;
    for (name, era) in ERAS {
        if let Some(i) = excepted(name, "") {
            used[i] = true;
            continue;
        }
        let answer = mock_answer(&c, &w, name)
            .await
            .unwrap_or_else(|| panic!("no request for {name}"));
        for (p, what) in differences(&shape(&fixture(name)), &shape(&answer), *era) {
            match excepted(name, &p) {
                Some(i) => used[i] = true,
                None => found.push(format!("{name} {p}: {what}\n  mock: {answer}")),
            }
        }
    }
    c.m.stop().await;
}

#[tokio::test]
async fn the_mock_answers_with_netapps_member_names_and_types() {
    let mut used = vec![false; EXCEPTIONS.len()];
    let mut found = Vec::new();
    compare(&mut used, &mut found).await;
    assert!(
        found.is_empty(),
        "the mock's shapes differ from NetApp's:\n{}",
        found.join("\n")
    );
    let stale: Vec<_> = EXCEPTIONS
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(e, _)| e)
        .collect();
    assert!(stale.is_empty(), "exceptions no longer needed: {stale:?}");
}

/// The mock's unknown-handle error for the numeric string the live cluster was asked about is
/// the live cluster's, value for value (register E7: looked up, not refused).
#[tokio::test]
async fn the_mock_answers_a_numeric_string_handle_as_the_live_cluster_did() {
    let c = Client::start(MockConfig::default()).await;
    let answer = c
        .rpc(
            "12.5",
            "GetAsyncResult",
            json!({"asyncHandle": "999999999"}),
            Some(1),
        )
        .await;
    let recorded = fixture("element/error-async-handle-does-not-exist-recorded.json");
    assert_eq!(answer["error"], recorded["error"], "{answer}");
    c.m.stop().await;
}

/// The values NetApp's examples derive, derived the same way by the mock: `purgeTime` is
/// `deleteTime` + 8 hours, and the SCSI device IDs are the cluster's `uniqueID` in hex ASCII with
/// the volume ID (checked on the DeleteVolume example itself first, so the rule is NetApp's).
#[tokio::test]
async fn the_mock_derives_purge_time_and_scsi_ids_as_netapps_examples_do() {
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let ids = |unique: &str, id: u64| {
        (
            format!("{}{id:08x}f47acc0100000000", hex(unique)),
            format!("6f47acc100000000{}{id:08x}", hex(unique)),
        )
    };
    let eight_hours = |v: &Value| {
        let t = |k: &str| {
            v[k].as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                .unwrap_or_else(|| panic!("{k} in {v}"))
        };
        t("purgeTime").duration_since(t("deleteTime")) == jiff::SignedDuration::from_hours(8)
    };
    let doc = fixture("element/delete-volume.json")["result"]["volume"].clone();
    assert!(eight_hours(&doc), "{doc}");
    let (eui, naa) = ids("jyay", 5);
    assert_eq!(doc["scsiEUIDeviceID"], json!(eui));
    assert_eq!(doc["scsiNAADeviceID"], json!(naa));

    let c = Client::start(MockConfig::default()).await;
    let unique = c.result("GetClusterInfo", json!({})).await["clusterInfo"]["uniqueID"]
        .as_str()
        .expect("uniqueID")
        .to_string();
    let acct = c
        .result("AddAccount", json!({"username": "jc-derive"}))
        .await;
    let p = json!({"name": "v", "accountID": acct["accountID"], "totalSize": 1_000_341_504u64});
    let id = c.result("CreateVolume", p).await["volumeID"]
        .as_u64()
        .expect("volumeID");
    let vol = c.result("DeleteVolume", json!({"volumeID": id})).await["volume"].clone();
    assert!(eight_hours(&vol), "{vol}");
    let (eui, naa) = ids(&unique, id);
    assert_eq!(vol["scsiEUIDeviceID"], json!(eui));
    assert_eq!(vol["scsiNAADeviceID"], json!(naa));
    c.m.stop().await;
}
