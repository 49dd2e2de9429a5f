//! Scripted transient faults (`JobScript::faults`): the first reads of a job answer the scripted
//! faults in order (Element method errors, AIQUM HTTP 503/500 with an error body), then the job
//! answers normally; jobconform's poller retries them within its deadline (CL-TRANSIENT), counts
//! them as transient, and still obtains the result.

use std::time::Duration;

use jobconform::mock::{self, MockConfig};
use jobconform::poll::{self, End, Keep, Policy};
use jobconform::transport::{Client, Credentials, Limits, Secret, TlsConfig, aiqum, element};
use serde_json::{Value, json};

fn client() -> Client {
    let creds = Credentials {
        user: mock::DEFAULT_USER.into(),
        password: Secret::new(mock::DEFAULT_PASSWORD),
    };
    Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client")
}

fn policy() -> Policy {
    Policy {
        min_interval: Duration::from_millis(100),
        max_interval: Duration::from_millis(400),
        deadline: Duration::from_secs(30),
        ..Policy::default()
    }
}

async fn script(m: &mock::RunningMock, api: &str, body: Value) -> Value {
    let c = client();
    let ex = c
        .send(
            reqwest::Method::POST,
            &format!("{}/{api}/jobs", m.urls.control),
            Some(jobconform::transport::SendBody::Json(body)),
            jobconform::transport::AuthMode::Default,
            Duration::ZERO,
        )
        .await;
    ex.json().cloned().expect("control answer")
}

#[tokio::test(start_paused = true)]
async fn element_faults_are_served_in_order_then_retried_by_the_poller() {
    let m = mock::spawn(MockConfig::default()).await.expect("mock");
    let started = script(
        &m,
        "element",
        json!({"steps": [{"ms": 500}], "outcome": "success", "faults": ["xDBVersionMismatch", "xNotPrimary"]}),
    )
    .await;
    let h = started["asyncHandle"].clone();
    let ep = element::Endpoint::parse(&m.urls.element).expect("endpoint");
    let mut names = Vec::new();
    let out = poll::element(&client(), &ep, &h, &policy(), Keep::Keep, &mut |ex| {
        names.push(
            ex.json()
                .and_then(|b| b.pointer("/error/name"))
                .and_then(Value::as_str)
                .map(String::from),
        );
    })
    .await;
    assert_eq!(out.end, End::Terminal);
    assert_eq!(out.transient, 2);
    assert_eq!(names[0].as_deref(), Some("xDBVersionMismatch"));
    assert_eq!(names[1].as_deref(), Some("xNotPrimary"));
    assert!(names[2..].iter().all(Option::is_none), "{names:?}");
    assert_eq!(
        out.last.as_ref().and_then(|l| l.get("status")),
        Some(&json!("complete"))
    );
    m.stop().await;
}

#[tokio::test(start_paused = true)]
async fn aiqum_faults_are_http_errors_with_error_bodies_then_retried() {
    let m = mock::spawn(MockConfig::default()).await.expect("mock");
    let started = script(
        &m,
        "aiqum",
        json!({"steps": [{"ms": 500}], "outcome": "success", "faults": ["http-503", "http-500"]}),
    )
    .await;
    let key = started["key"].as_str().expect("key").to_string();
    let ep = aiqum::Endpoint::parse(&m.urls.aiqum).expect("endpoint");
    let mut seen = Vec::new();
    let out = poll::aiqum(&client(), &ep, &key, &policy(), &mut |ex| {
        let msg = ex
            .json()
            .and_then(|b| b.pointer("/error/message"))
            .is_some();
        seen.push((ex.status(), msg));
    })
    .await;
    assert_eq!(out.end, End::Terminal);
    assert_eq!(out.transient, 2);
    assert_eq!(seen[0], (Some(503), true));
    assert_eq!(seen[1], (Some(500), true));
    assert!(seen[2..].iter().all(|(s, _)| *s == Some(200)), "{seen:?}");
    m.stop().await;
}

/// `--faults P`: with P = 0.5 a stream of requests sees every kind of fault (a transient method
/// error echoing the id, a 503 with an error body, a broken connection, a slow answer) and
/// normal answers; the control API is never faulted.
#[tokio::test(start_paused = true)]
async fn random_faults_cover_every_kind_and_spare_the_control_api() {
    let cfg = MockConfig {
        faults: 0.5,
        faults_seed: 7,
        ..MockConfig::default()
    };
    let m = mock::spawn(cfg).await.expect("mock");
    let c = client();
    let ep = element::Endpoint::parse(&m.urls.element).expect("endpoint");
    let (mut ok, mut transient, mut unavailable, mut broken) = (0, 0, 0, 0);
    for i in 0..80 {
        let ex = element::call(
            &c,
            &ep,
            element::Call {
                method: "GetAPI",
                params: json!({}),
                id: json!(i),
                auth: jobconform::transport::AuthMode::Default,
                version: None,
            },
        )
        .await;
        match (&ex.response, ex.json()) {
            (Err(_), _) => broken += 1,
            (Ok(r), _) if r.status == 503 => unavailable += 1,
            (Ok(_), Some(b)) if b.pointer("/error/name") == Some(&json!("xDBVersionMismatch")) => {
                assert_eq!(b["id"], json!(i), "a transient error echoes the id");
                transient += 1;
            }
            (Ok(_), Some(b)) if b.get("result").is_some() => ok += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(
        ok > 0 && transient > 0 && unavailable > 0 && broken > 0,
        "{ok} {transient} {unavailable} {broken}"
    );
    for _ in 0..20 {
        let started = script(&m, "element", json!({"steps": [], "outcome": "success"})).await;
        assert!(
            started["asyncHandle"].is_u64(),
            "control API faulted: {started}"
        );
    }
    m.stop().await;
}
