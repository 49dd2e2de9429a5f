//! Redaction of recorded JSON (`redact_value_with`): the password and its Basic token are
//! replaced in every string, keys included, at any depth; everything else is left as it was.

use serde_json::json;

use super::{Body, Credentials, Secret, body_of, redact_str_with, redact_value_with};

fn creds() -> Credentials {
    Credentials {
        user: "admin".into(),
        password: Secret::new("s3cret"),
    }
}

#[test]
fn password_and_token_are_replaced_in_values_and_keys_at_any_depth() {
    let v = json!({
        "s3cret-key": {"a": ["x s3cret y", "Basic YWRtaW46czNjcmV0"], "n": 1, "b": true},
        "plain": "nothing",
        "nested": [[{"deep": "s3crets3cret"}]],
        "null": null
    });
    let want = json!({
        "[redacted]-key": {"a": ["x [redacted] y", "Basic [redacted]"], "n": 1, "b": true},
        "plain": "nothing",
        "nested": [[{"deep": "[redacted][redacted]"}]],
        "null": null
    });
    assert_eq!(redact_value_with(&creds(), v), want);
    assert_eq!(
        redact_str_with(&creds(), "Authorization: Basic YWRtaW46czNjcmV0 / s3cret"),
        "Authorization: Basic [redacted] / [redacted]"
    );
}

#[test]
fn values_without_a_secret_are_unchanged() {
    let v = json!({"id": 1, "result": {"status": "running", "details": {"x": [1, "two"]}}});
    assert_eq!(redact_value_with(&creds(), v.clone()), v);
    let empty = Credentials {
        user: "admin".into(),
        password: Secret::new(""),
    };
    assert_eq!(redact_value_with(&empty, v.clone()), v);
}

#[test]
fn bodies_are_redacted_whether_or_not_the_secret_is_escaped() {
    let c = creds();
    let body = |raw: &str| match body_of(raw.as_bytes(), Some(&c)) {
        Body::Json(v) => v,
        other => panic!("{other:?}"),
    };
    // Escaped: the raw bytes do not hold the password, the parsed string does.
    let escaped = r#"{"m": "s3\u0063ret", "s3\u0063ret": 1}"#;
    assert_eq!(body(escaped), json!({"m": "[redacted]", "[redacted]": 1}));
    let plain = r#"{"m": "x s3cret", "t": "YWRtaW46czNjcmV0"}"#;
    assert_eq!(body(plain), json!({"m": "x [redacted]", "t": "[redacted]"}));
    let clean = r#"{"id": 1, "result": {"status": "running"}}"#;
    assert_eq!(
        body(clean),
        json!({"id": 1, "result": {"status": "running"}})
    );
}
