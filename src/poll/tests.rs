//! Unit tests of the poller's answer classification and of the terminal register, and of what a
//! watched poll tells its watcher (against the embedded mock, in virtual time).
use serde_json::json;

use super::*;
use crate::transport::TransportError;
use crate::transport::{AuthMode, Body, RequestRecord, ResponseRecord};

fn ex(status: u16, body: Body) -> Exchange {
    Exchange {
        request: RequestRecord {
            method: "POST".into(),
            url: "http://x".into(),
            auth: AuthMode::Default,
            body: None,
        },
        response: Ok(ResponseRecord {
            status,
            content_type: None,
            body,
            elapsed_ms: 0,
        }),
    }
}

fn broken(e: TransportError) -> Exchange {
    Exchange {
        response: Err(e),
        ..ex(200, Body::Empty)
    }
}

fn is_failed(a: &Answer) -> bool {
    matches!(a, Answer::Failed(_))
}

#[test]
fn element_answers_are_classified() {
    let running = json!({"id": 1, "result": {"status": "running", "details": {}}});
    assert!(matches!(
        classify_element(&ex(200, Body::Json(running))),
        Answer::Job(_)
    ));
    for name in ELEMENT_TRANSIENT {
        let e = json!({"id": 1, "error": {"code": 500, "name": name, "message": "m"}});
        assert_eq!(classify_element(&ex(200, Body::Json(e))), Answer::Transient);
    }
    let unknown = json!({"id": 1, "error": {"code": 500, "name": "xAsyncHandleDoesNotExist",
        "message": "m"}});
    assert!(is_failed(&classify_element(&ex(
        200,
        Body::Json(unknown.clone())
    ))));
    // A method error is read by name even when served with HTTP 500.
    assert!(is_failed(&classify_element(&ex(500, Body::Json(unknown)))));
    assert_eq!(classify_element(&ex(503, Body::Empty)), Answer::Transient);
    assert!(is_failed(&classify_element(&ex(401, Body::Empty))));
    assert!(is_failed(&classify_element(&ex(
        200,
        Body::Json(json!({"id": 1}))
    ))));
    let text = Body::Text {
        text: "<html>".into(),
        error: "not json".into(),
    };
    assert!(is_failed(&classify_element(&ex(200, text))));
    assert_eq!(
        classify_element(&broken(TransportError::Io("reset".into()))),
        Answer::Transient
    );
    assert_eq!(
        classify_element(&broken(TransportError::Timeout(1))),
        Answer::Transient
    );
    assert!(is_failed(&classify_element(&broken(
        TransportError::Connect("refused".into())
    ))));
}

#[test]
fn aiqum_answers_are_classified() {
    let job = json!({"key": "k", "state": "running", "status": "normal"});
    assert!(matches!(
        classify_aiqum(&ex(200, Body::Json(job))),
        Answer::Job(_)
    ));
    assert_eq!(classify_aiqum(&ex(502, Body::Empty)), Answer::Transient);
    let missing = json!({"error": {"message": "no such job"}});
    match classify_aiqum(&ex(404, Body::Json(missing))) {
        Answer::Failed(r) => assert!(r.contains("404 no such job"), "{r}"),
        other => panic!("{other:?}"),
    }
    assert!(is_failed(&classify_aiqum(&ex(401, Body::Empty))));
    assert!(is_failed(&classify_aiqum(&ex(
        200,
        Body::Json(json!({"records": []}))
    ))));
    assert_eq!(
        classify_aiqum(&broken(TransportError::Io("reset".into()))),
        Answer::Transient
    );
}

#[test]
fn values_nothing_can_read_end_polling_at_once() {
    // EL-GAR-STATUS: a status that is neither running nor complete will never be `complete`.
    let odd = json!({"id": 1, "result": {"status": "completed", "result": {}}});
    match classify_element(&ex(200, Body::Json(odd))) {
        Answer::Failed(r) => assert!(r.contains("\"completed\""), "{r}"),
        other => panic!("{other:?}"),
    }
    // Register U11: a state outside the known vocabulary is named, not waited on.
    for (job, known) in [
        (json!({"state": "queued", "status": "normal"}), true),
        (json!({"state": "Aborting", "status": "normal"}), true),
        (json!({"state": "WARNING"}), true),
        (json!({"state": "success", "status": "normal"}), false),
        (json!({"state": "paused", "status": "normal"}), false),
        (json!({"state": "RUNNING"}), true),
        (json!({"state": "done"}), false),
    ] {
        let a = classify_aiqum(&ex(200, Body::Json(job.clone())));
        assert_eq!(matches!(a, Answer::Job(_)), known, "{job}: {a:?}");
        assert_eq!(unknown_state(&job).is_none(), known, "{job}");
    }
}

#[test]
fn terminal_states_follow_the_register() {
    let t = |v: Value| aiqum_terminal(&v);
    assert_eq!(
        t(json!({"state": "completed", "status": "warning"})),
        Some(true)
    );
    assert_eq!(
        t(json!({"state": "RUNNING", "status": "normal"})),
        Some(false)
    );
    assert_eq!(t(json!({"state": "WARNING"})), Some(false));
    assert_eq!(t(json!({"state": "PARTIAL_FAILURES"})), Some(true));
    assert_eq!(t(json!({"status": "normal"})), None);
}

/// A watched poll's events, each with the virtual time it happened at.
#[derive(Debug)]
enum Seen {
    Observed(tokio::time::Instant, String),
    Next(tokio::time::Instant, Next),
}

fn watched_client() -> crate::transport::Client {
    let creds = crate::transport::Credentials {
        user: crate::mock::DEFAULT_USER.into(),
        password: crate::transport::Secret::new(crate::mock::DEFAULT_PASSWORD),
    };
    let tls = crate::transport::TlsConfig::default();
    crate::transport::Client::new(Some(creds), crate::transport::Limits::default(), &tls)
        .expect("client")
}

async fn scripted(m: &crate::mock::RunningMock, api: &str, ms: u64) -> Value {
    let body = json!({"steps": [{"ms": ms}], "outcome": "success"});
    let ex = watched_client()
        .send(
            reqwest::Method::POST,
            &format!("{}/{api}/jobs", m.urls.control),
            Some(crate::transport::SendBody::Json(body)),
            AuthMode::Default,
            std::time::Duration::ZERO,
        )
        .await;
    ex.json().cloned().expect("control answer")
}

fn record(seen: &mut Vec<Seen>) -> impl FnMut(Event<'_>) + Send + '_ {
    |e| {
        let now = tokio::time::Instant::now();
        seen.push(match e {
            Event::Observed(ex) => Seen::Observed(now, ex.request.url.clone()),
            Event::Next(n) => Seen::Next(now, n),
        });
    }
}

#[tokio::test(start_paused = true)]
async fn a_watched_element_poll_announces_each_interval_it_then_waits() {
    let m = crate::mock::spawn(crate::mock::MockConfig::default())
        .await
        .expect("mock");
    let h = scripted(&m, "element", 20_000).await["asyncHandle"].clone();
    let ep = element::Endpoint::parse(&m.urls.element).expect("endpoint");
    let policy = Policy {
        min_interval: Duration::from_millis(500),
        max_interval: Duration::from_secs(4),
        deadline: Duration::from_secs(120),
        ..Policy::default()
    };
    let mut seen = Vec::new();
    let out = element_watched(
        &watched_client(),
        &ep,
        &h,
        &policy,
        Keep::Keep,
        &mut record(&mut seen),
    )
    .await;
    m.stop().await;
    assert_eq!(out.end, End::Terminal);
    let observed = seen
        .iter()
        .filter(|s| matches!(s, Seen::Observed(..)))
        .count();
    assert_eq!(observed as u32, out.requests);
    assert!(out.requests >= 3, "{seen:?}");
    // Strictly alternating: answer, then when the next poll is due; the terminal answer ends it.
    for (i, s) in seen.iter().enumerate() {
        assert_eq!(matches!(s, Seen::Observed(..)), i % 2 == 0, "{seen:?}");
    }
    for pair in seen.windows(2) {
        if let [Seen::Next(told, Next::In(d)), Seen::Observed(at, _)] = pair {
            assert!(
                *d >= policy.min_interval && *d <= policy.max_interval.mul_f64(1.0 + policy.jitter),
                "{d:?}"
            );
            // Virtual time: the poll follows the announced interval to the timer's millisecond.
            let gap = *at - *told;
            assert!(
                gap >= *d && gap <= *d + Duration::from_millis(5),
                "polled {gap:?} after announcing {d:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_watched_aiqum_long_poll_is_announced_as_it_is_sent() {
    let m = crate::mock::spawn(crate::mock::MockConfig::default())
        .await
        .expect("mock");
    let key = scripted(&m, "aiqum", 20_000).await["key"]
        .as_str()
        .expect("key")
        .to_string();
    let ep = aiqum::Endpoint::parse(&m.urls.aiqum).expect("endpoint");
    let policy = Policy {
        min_interval: Duration::from_millis(500),
        deadline: Duration::from_secs(120),
        long_poll: Some(Duration::from_secs(8)),
        ..Policy::default()
    };
    let mut seen = Vec::new();
    let out = aiqum_watched(
        &watched_client(),
        &ep,
        &key,
        &policy,
        &mut record(&mut seen),
    )
    .await;
    m.stop().await;
    assert_eq!(out.end, End::Terminal);
    assert!(out.long_polled && out.notes.is_empty(), "{:?}", out.notes);
    let mut long_polls = 0;
    for pair in seen.windows(2) {
        match pair {
            [Seen::Next(_, Next::LongPoll { poll_timeout, real }), next] => {
                long_polls += 1;
                assert_eq!(*real, Duration::from_secs(*poll_timeout), "time scale 1");
                let Seen::Observed(_, url) = next else {
                    panic!("a long poll announced but not sent: {seen:?}");
                };
                assert!(
                    url.contains(&format!("poll_timeout={poll_timeout}")),
                    "{url}"
                );
            }
            [_, Seen::Observed(_, url)] if url.contains("poll_timeout=") => {
                panic!("a long poll sent unannounced: {seen:?}");
            }
            _ => {}
        }
    }
    assert!(long_polls >= 2, "{seen:?}");
    assert!(
        matches!(seen.first(), Some(Seen::Next(_, Next::LongPoll { .. }))),
        "{seen:?}"
    );
}

#[test]
fn unreadable_values_end_the_poll_at_once() {
    // Element: a status outside running/complete cannot say whether the job ended.
    let completed = json!({"id": 1, "result": {"status": "completed", "result": {}}});
    match classify_element(&ex(200, Body::Json(completed))) {
        Answer::Failed(r) => assert!(r.contains("\"completed\""), "{r}"),
        other => panic!("{other:?}"),
    }
    // AIQUM, split dialect: an outcome outside the four values.
    for job in [
        json!({"key": "k", "state": "completed", "status": "success"}),
        // Literal dialect: a state that is neither an outcome nor a lifecycle word.
        json!({"key": "k", "state": "SUCCESS"}),
    ] {
        assert!(
            is_failed(&classify_aiqum(&ex(200, Body::Json(job.clone())))),
            "{job}"
        );
        assert!(aiqum_unreadable(&job).is_some(), "{job}");
    }
    // Readable: both dialects' own values, in any case (register U4), and a lifecycle word
    // alone (a running job) in the literal dialect.
    for job in [
        json!({"key": "k", "state": "RUNNING", "status": "Normal"}),
        json!({"key": "k", "state": "queued", "status": "warning"}),
        json!({"key": "k", "state": "PARTIAL_FAILURES"}),
        json!({"key": "k", "state": "running"}),
        // Register U6: an unknown lifecycle word in the split dialect is read as not terminal.
        json!({"key": "k", "state": "paused", "status": "normal"}),
    ] {
        assert_eq!(aiqum_unreadable(&job), None, "{job}");
    }
    // A failed job read with HTTP 500 still says it ended: read as that job, not retried.
    let failed = json!({"key": "k", "state": "completed", "status": "error"});
    assert!(matches!(
        classify_aiqum(&ex(500, Body::Json(failed))),
        Answer::Job(_)
    ));
    let running = json!({"key": "k", "state": "running", "status": "normal"});
    assert_eq!(
        classify_aiqum(&ex(500, Body::Json(running))),
        Answer::Transient
    );
}
