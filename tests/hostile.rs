//! Hostile servers: a raw TCP server of ours on loopback answers with garbage (non-JSON, truncated
//! JSON, a huge body, HTML, wrong content type, a connection closed mid-body, headers that trickle
//! in, no answer at all). The transport must turn each into a recorded body or a precise
//! `TransportError` within its timeouts, with a bounded body, never a panic or a hang.

use std::time::Duration;

use jobconform::transport::{
    AuthMode, Body, Client, Credentials, Limits, Secret, TlsConfig, TransportError,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the hostile server does with each connection.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    NotJson,
    Truncated,
    Huge,
    Html,
    WrongContentType,
    CloseMidBody,
    Trickle,
    Silent,
    DeepNesting,
    DuplicateKeys,
    EchoCredentials,
}

async fn read_request(sock: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = Vec::new();
    // Read until the end of headers plus whatever body is announced (bounded by the buffer).
    loop {
        let n = match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        got.extend_from_slice(&buf[..n]);
        if let Some(pos) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..pos]).to_lowercase();
            let len = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if got.len() >= pos + 4 + len {
                break;
            }
        }
    }
    got
}

fn response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

async fn handle(mut sock: TcpStream, b: Behaviour) {
    let req = read_request(&mut sock).await;
    let out = match b {
        Behaviour::NotJson => response("200 OK", "application/json", "this is not json"),
        Behaviour::Truncated => response(
            "200 OK",
            "application/json",
            r#"{"id": 1, "result": {"status": "runn"#,
        ),
        Behaviour::Huge => {
            let body = format!("{{\"pad\": \"{}\"}}", "x".repeat(4 * 1024 * 1024));
            response("200 OK", "application/json", &body)
        }
        Behaviour::Html => response(
            "500 Internal Server Error",
            "text/html",
            "<html><body><h1>500 Internal Server Error</h1></body></html>",
        ),
        Behaviour::WrongContentType => {
            response("200 OK", "text/plain", r#"{"id": 1, "result": {}}"#)
        }
        Behaviour::CloseMidBody => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"id\": 1, \"res";
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.flush().await;
            return; // dropped: the client sees a short body
        }
        Behaviour::Trickle => {
            for byte in "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n".bytes() {
                if sock.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return;
        }
        Behaviour::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        Behaviour::DeepNesting => {
            let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
            response("200 OK", "application/json", &body)
        }
        Behaviour::DuplicateKeys => response(
            "200 OK",
            "application/json",
            r#"{"id": 1, "id": 2, "result": {}}"#,
        ),
        Behaviour::EchoCredentials => {
            // Echo the whole request (including the Authorization header) back in a JSON string.
            let text = String::from_utf8_lossy(&req)
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace("\r\n", " ");
            response(
                "200 OK",
                "application/json",
                &format!("{{\"echo\": \"{text}\"}}"),
            )
        }
    };
    let _ = sock.write_all(out.as_bytes()).await;
    let _ = sock.shutdown().await;
}

async fn hostile(b: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(handle(sock, b));
        }
    });
    format!("http://{addr}/json-rpc/12.5")
}

const PASSWORD: &str = "hostile-s3cret-P4ss";

fn client(timeout_ms: u64) -> Client {
    let creds = Credentials {
        user: "admin".into(),
        password: Secret::new(PASSWORD),
    };
    let limits = Limits {
        connect_timeout: Duration::from_millis(timeout_ms),
        request_timeout: Duration::from_millis(timeout_ms),
        max_body: 1024 * 1024,
    };
    Client::new(Some(creds), limits, &TlsConfig::default()).expect("client")
}

async fn send(b: Behaviour, timeout_ms: u64) -> jobconform::transport::Exchange {
    let url = hostile(b).await;
    let body =
        jobconform::transport::SendBody::Json(json!({"method": "GetAPI", "params": {}, "id": 1}));
    client(timeout_ms)
        .send(
            reqwest::Method::POST,
            &url,
            Some(body),
            AuthMode::Default,
            Duration::ZERO,
        )
        .await
}

#[tokio::test]
async fn non_json_body_is_recorded_as_text() {
    let ex = send(Behaviour::NotJson, 2000).await;
    let r = ex.response.expect("a response");
    assert_eq!(r.status, 200);
    assert!(
        matches!(r.body, Body::Text { ref text, .. } if text == "this is not json"),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn truncated_json_is_text_with_parse_error() {
    let ex = send(Behaviour::Truncated, 2000).await;
    match ex.response.expect("a response").body {
        Body::Text { error, .. } => assert!(error.contains("EOF"), "{error}"),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn huge_body_stops_at_the_cap() {
    let ex = send(Behaviour::Huge, 5000).await;
    assert_eq!(
        ex.response.expect("a response").body,
        Body::TooLarge { limit: 1024 * 1024 }
    );
}

#[tokio::test]
async fn html_error_page_keeps_status_and_text() {
    let ex = send(Behaviour::Html, 2000).await;
    let r = ex.response.expect("a response");
    assert_eq!(r.status, 500);
    assert_eq!(r.content_type.as_deref(), Some("text/html"));
    assert!(matches!(r.body, Body::Text { ref text, .. } if text.contains("<h1>")));
}

#[tokio::test]
async fn wrong_content_type_is_recorded() {
    let ex = send(Behaviour::WrongContentType, 2000).await;
    let r = ex.response.expect("a response");
    assert_eq!(r.content_type.as_deref(), Some("text/plain"));
    assert_eq!(r.body, Body::Json(json!({"id": 1, "result": {}})));
}

#[tokio::test]
async fn connection_closed_mid_body_is_an_io_error() {
    let ex = send(Behaviour::CloseMidBody, 2000).await;
    assert!(
        matches!(ex.response, Err(TransportError::Io(_))),
        "{:?}",
        ex.response
    );
}

#[tokio::test]
async fn trickling_headers_hit_the_request_timeout() {
    let started = std::time::Instant::now();
    let ex = send(Behaviour::Trickle, 300).await;
    assert_eq!(ex.response, Err(TransportError::Timeout(300)));
    // Bounded: the wait ends near the configured timeout, not when the server is done.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let ex = send(Behaviour::Silent, 300).await;
    assert_eq!(ex.response, Err(TransportError::Timeout(300)));
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_overflow() {
    let ex = send(Behaviour::DeepNesting, 5000).await;
    match ex.response.expect("a response").body {
        Body::Text { error, .. } => assert!(error.contains("recursion"), "{error}"),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn duplicate_keys_parse_deterministically() {
    let ex = send(Behaviour::DuplicateKeys, 2000).await;
    // serde_json keeps the last duplicate; the envelope check then sees id 2 != 1.
    assert_eq!(ex.json(), Some(&json!({"id": 2, "result": {}})));
}

#[tokio::test]
async fn unreachable_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let ex = client(2000)
        .send(
            reqwest::Method::POST,
            &format!("http://{addr}/json-rpc/12.5"),
            None,
            AuthMode::Default,
            Duration::ZERO,
        )
        .await;
    let err = ex.response.expect_err("nothing listens");
    assert!(err.is_unreachable(), "{err:?}");
}

#[tokio::test]
async fn echoed_credentials_are_redacted_from_the_record() {
    let ex = send(Behaviour::EchoCredentials, 2000).await;
    let recorded = serde_json::to_string(&ex).expect("serialize");
    assert!(
        recorded.contains("[redacted]"),
        "the echo should be there, redacted: {recorded}"
    );
    assert!(!recorded.contains(PASSWORD), "password leaked: {recorded}");
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
    assert!(!recorded.contains(&token), "basic token leaked");
}
