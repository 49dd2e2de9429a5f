//! Unit tests of the poller's answer classification and of the terminal register.
use serde_json::json;

use super::*;
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
