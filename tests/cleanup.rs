//! `cleanup::clean` against the in-process mock: every recorded Element volume (clone first) and
//! account is removed, objects already gone count as removed, and what cannot be removed comes
//! back as a leftover with its reason (the ledger keeps it).

use serde_json::{Value, json};

use jobconform::cleanup::{Created, clean};
use jobconform::mock::{self, MockConfig};
use jobconform::target::{self, Target};
use jobconform::transport::{AuthMode, Credentials, Secret, element};

fn creds() -> Credentials {
    Credentials {
        user: mock::DEFAULT_USER.into(),
        password: Secret::new(mock::DEFAULT_PASSWORD),
    }
}

async fn rpc(t: &Target, method: &str, params: Value) -> Value {
    let ep = t.element.as_ref().expect("element endpoint");
    let x = element::call(
        &t.client,
        ep,
        element::Call {
            method,
            params,
            id: json!(1),
            auth: AuthMode::Default,
            version: None,
        },
    )
    .await;
    let body = x.json().cloned().expect("JSON answer");
    body.get("result")
        .cloned()
        .unwrap_or_else(|| panic!("{method} failed: {body}"))
}

/// A mock 50 times faster than real time, and a target pointed at it.
async fn mock_and_target() -> (mock::RunningMock, Target) {
    let m = mock::spawn(MockConfig {
        time_scale: 50.0,
        ..MockConfig::default()
    })
    .await
    .expect("mock");
    let t = target::mock("mock", &m.urls, 50.0, creds()).expect("target");
    (m, t)
}

/// Volumes and accounts the mock holds, from its control API.
async fn element_objects(m: &mock::RunningMock) -> (usize, usize) {
    let t = target::mock("probe", &m.urls, 50.0, creds()).expect("target");
    let x = t
        .client
        .send(
            reqwest::Method::GET,
            &format!("{}/state", m.urls.control),
            None,
            AuthMode::Default,
            std::time::Duration::ZERO,
        )
        .await;
    let state = x.json().cloned().expect("state is JSON");
    let count = |k: &str| state["element"][k].as_array().map_or(usize::MAX, Vec::len);
    (count("volumes"), count("accounts"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_removes_volumes_clones_and_accounts() {
    let (m, t) = mock_and_target().await;
    let before = element_objects(&m).await;
    let account = rpc(&t, "AddAccount", json!({"username": "jc-cleanup-test"})).await["accountID"]
        .as_i64()
        .expect("accountID");
    t.ledger.record(Created::ElementAccount { id: account });
    let volume = rpc(
        &t,
        "CreateVolume",
        json!({"name": "jc-src", "accountID": account, "totalSize": 1073741824i64, "enable512e": true}),
    )
    .await["volumeID"]
        .as_i64()
        .expect("volumeID");
    t.ledger.record(Created::ElementVolume { id: volume });
    // CloneVolume answers the new volume's ID as volumeID (cloneID names the clone job).
    let started = rpc(
        &t,
        "CloneVolume",
        json!({"volumeID": volume, "name": "jc-clone"}),
    )
    .await;
    let clone = started["volumeID"].as_i64().expect("volumeID");
    assert_ne!(clone, volume);
    t.ledger.record(Created::ElementVolume { id: clone });
    // A clone nobody recorded, in the run's own account: removed with the account.
    let unrecorded = rpc(
        &t,
        "CloneVolume",
        json!({"volumeID": volume, "name": "jc-stray"}),
    )
    .await;
    assert!(unrecorded["volumeID"].as_i64().is_some());
    // Something already removed by the case itself still counts as removed.
    t.ledger.record(Created::ElementVolume { id: 987_654 });
    assert_ne!(element_objects(&m).await, before);

    let leftovers = clean(&t).await;
    assert_eq!(leftovers, vec![], "everything is removable");
    assert!(t.ledger.outstanding().is_empty());
    assert_eq!(
        element_objects(&m).await,
        before,
        "objects left on the mock"
    );
    m.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_removed_is_a_leftover_with_its_reason() {
    let m = mock::spawn(MockConfig::default()).await.expect("mock");
    let t = target::mock("mock", &m.urls, 1.0, creds()).expect("target");
    m.stop().await;
    t.ledger.record(Created::ElementVolume { id: 5 });
    t.ledger.record(Created::ElementAccount { id: 2 });
    let leftovers = clean(&t).await;
    assert_eq!(leftovers.len(), 2);
    assert!(matches!(
        leftovers[0].object,
        Created::ElementVolume { id: 5 }
    ));
    assert!(matches!(
        leftovers[1].object,
        Created::ElementAccount { id: 2 }
    ));
    assert!(
        leftovers.iter().all(|l| l.error.contains("connect")),
        "{leftovers:?}"
    );
    assert_eq!(
        t.ledger.outstanding().len(),
        2,
        "the ledger keeps what is left"
    );
}

async fn aiqum(
    t: &Target,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    use jobconform::transport::{Query, aiqum};
    let ep = t.aiqum.as_ref().expect("aiqum endpoint");
    let x = aiqum::request(
        &t.client,
        ep,
        aiqum::Request {
            method,
            path,
            query: Query::new(),
            body,
            auth: AuthMode::Default,
            extra_wait: std::time::Duration::ZERO,
        },
    )
    .await;
    (
        x.status().expect("an answer"),
        x.json().cloned().unwrap_or(Value::Null),
    )
}

/// Creates a LUN through the mock's provisioning call, waits for its job, and returns the path
/// of the LUN (what the ledger records for its removal).
async fn create_lun(t: &Target, name: &str) -> String {
    let body = json!({"name": name, "space": {"size": 1048576}, "svm": {"key": "svm-1"}});
    let (status, accepted) = aiqum(
        t,
        reqwest::Method::POST,
        "/storage-provider/luns",
        Some(body),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    let key = accepted["job"]["key"]
        .as_str()
        .expect("job key")
        .to_string();
    let ep = t.aiqum.as_ref().expect("ep");
    let done = jobconform::poll::aiqum(&t.client, ep, &key, &t.policy, &mut |_| {}).await;
    assert_eq!(done.end, jobconform::poll::End::Terminal);
    let results = done.last.expect("job")["job_results"].clone();
    let lun = results
        .as_array()
        .and_then(|r| r.iter().find(|x| x["name"] == "lunKey"))
        .and_then(|x| x["value"].as_str())
        .expect("lunKey in job_results")
        .to_string();
    let path = format!("/storage-provider/luns/{lun}");
    assert_eq!(aiqum(t, reqwest::Method::GET, &path, None).await.0, 200);
    path
}

/// Several AIQUM objects (removed a few at once, each through a delete job polled to its end)
/// and Element objects (one at a time) in one ledger: all are gone when `clean` returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_runs_the_recorded_aiqum_calls_and_waits_for_their_jobs() {
    let (m, t) = mock_and_target().await;
    let mut paths = Vec::new();
    for i in 0..6 {
        let path = create_lun(&t, &format!("jc-lun-{i}")).await;
        t.ledger.record(Created::AiqumObject {
            method: "DELETE".into(),
            path: path.clone(),
        });
        paths.push(path);
    }
    let account = rpc(&t, "AddAccount", json!({"username": "jc-cleanup-mixed"})).await;
    let account = account["accountID"].as_i64().expect("accountID");
    t.ledger.record(Created::ElementAccount { id: account });
    let before = element_objects(&m).await;

    let leftovers = clean(&t).await;
    assert_eq!(leftovers, vec![]);
    for path in &paths {
        assert_eq!(
            aiqum(&t, reqwest::Method::GET, path, None).await.0,
            404,
            "{path} is gone once clean returns (its delete job was polled to the end)"
        );
    }
    let after = element_objects(&m).await;
    assert_eq!(after.1 + 1, before.1, "the account was removed too");
    // Cleaning again finds nothing to do: the ledger forgot every object.
    assert!(t.ledger.outstanding().is_empty());
    m.stop().await;
}
