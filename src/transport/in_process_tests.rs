//! The in-process transport against the HTTP one: the same scripted session (jobs started through
//! the control API, polled by the reference poller, plus the requests that probe the transport
//! itself: wrong and missing credentials, a malformed body, an unknown version, HEAD, a 404, a
//! body over the size cap, a long poll that outlasts the request timeout) and the same random
//! faults, each run once against `mock::spawn` over loopback HTTP and once against
//! `mock::service::in_process`, on paused runtimes seeded alike. Exchanges, poll outcomes and the
//! mock's journal must be equal, with only what cannot be equal set aside: the URL's origin, the
//! real-time `elapsed_ms`, wall-clock timestamps in bodies, and the text of an I/O error (its kind
//! must match).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{Value, json};

use crate::mock::{self, MockConfig, Urls};
use crate::poll::{self, Keep, Policy};
use crate::transport::{
    AuthMode, Client, Credentials, Exchange, Limits, Secret, SendBody, TlsConfig, TransportError,
    aiqum, element,
};

/// Where a session's requests go.
#[derive(Debug, Clone, Copy)]
enum Via {
    Http,
    InProcess,
}

/// What a session saw, normalized for comparison (pretty JSON, one string per item).
#[derive(Debug, PartialEq)]
struct Seen {
    exchanges: Vec<String>,
    outcomes: Vec<String>,
    journal: Vec<String>,
}

/// What a session returns: every exchange, and the outcome of every poll.
type Transcript = (Vec<Exchange>, Vec<poll::Outcome>);

/// A session's future, borrowing its clients and URLs.
type Running<'a> = Pin<Box<dyn Future<Output = Transcript> + 'a>>;

/// A session: a default client, a client with [`small_limits`], the mock's URLs.
type Session = for<'a> fn(&'a Client, &'a Client, &'a Urls) -> Running<'a>;

fn creds() -> Credentials {
    Credentials {
        user: mock::DEFAULT_USER.into(),
        password: Secret::new(mock::DEFAULT_PASSWORD),
    }
}

/// A client with small limits: a 64-byte body cap and a 2 s request timeout.
fn small_limits() -> Limits {
    Limits {
        request_timeout: Duration::from_secs(2),
        max_body: 64,
        ..Limits::default()
    }
}

/// Runs `session` against a fresh mock for `config` reached `via`, on a paused runtime with the
/// thread's `fastrand` (the poller's jitter, the mock's AIQUM keys) seeded first.
fn run(via: Via, config: MockConfig, session: Session) -> Seen {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        fastrand::seed(7);
        let (urls, state, running, client, small) = match via {
            Via::Http => {
                let m = mock::spawn(config).await.expect("mock");
                let c = Client::new(Some(creds()), Limits::default(), &TlsConfig::default())
                    .expect("client");
                let s = Client::new(Some(creds()), small_limits(), &TlsConfig::default())
                    .expect("client");
                (m.urls.clone(), m.state.clone(), Some(m), c, s)
            }
            Via::InProcess => {
                let m = mock::service::in_process(config);
                let c = Client::in_process(Some(creds()), Limits::default(), m.service.clone())
                    .expect("client");
                let s = Client::in_process(Some(creds()), small_limits(), m.service.clone())
                    .expect("client");
                assert!(c.is_in_process());
                (m.urls.clone(), m.state.clone(), None, c, s)
            }
        };
        let (exchanges, outcomes) = session(&client, &small, &urls).await;
        let origin = urls.control.trim_end_matches("/_jobconform").to_string();
        let journal = state.journal.snapshot();
        // AIQUM keys carry the wall clock: numbered in order of first appearance instead.
        let mut keys: Vec<String> = Vec::new();
        for e in journal.iter().filter(|e| e.api == "aiqum") {
            if let Some(k) = &e.job
                && !keys.contains(k)
            {
                keys.push(k.clone());
            }
        }
        let text = |v: Value| {
            let mut t = mask_timestamps(&serde_json::to_string_pretty(&v).expect("json"));
            for (i, k) in keys.iter().enumerate() {
                t = t.replace(k.as_str(), &format!("[key-{i}]"));
            }
            t
        };
        let seen = Seen {
            exchanges: exchanges
                .iter()
                .map(|e| text(normalize(e, &origin)))
                .collect(),
            outcomes: outcomes
                .iter()
                .map(|o| text(normalize_outcome(o)))
                .collect(),
            journal: journal
                .iter()
                .map(|e| text(serde_json::to_value(e).expect("entry serializes")))
                .collect(),
        };
        if let Some(m) = running {
            m.stop().await;
        }
        seen
    })
}

/// An exchange as JSON with the origin, `elapsed_ms` and I/O error texts set aside.
fn normalize(ex: &Exchange, origin: &str) -> Value {
    let mut ex = ex.clone();
    ex.request.url = ex.request.url.replacen(origin, "[origin]", 1);
    match &mut ex.response {
        Ok(r) => r.elapsed_ms = 0,
        Err(TransportError::Io(text)) => *text = "[io]".into(),
        Err(_) => {}
    }
    serde_json::to_value(&ex).expect("exchange serializes")
}

fn normalize_outcome(o: &poll::Outcome) -> Value {
    serde_json::to_value(o).expect("outcome serializes")
}

/// Wall-clock timestamps (`2026-12-05T07:29:07Z`, `...07.526Z`) anywhere in `text`, in bodies
/// and in URLs alike, replaced by a placeholder: the mock's wall origin is read from the real
/// clock when it starts.
fn mask_timestamps(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let b = text.as_bytes();
    let fits = |i: usize| {
        b.len() >= i + SHAPE.len()
            && SHAPE.iter().zip(&b[i..]).all(|(s, c)| match s {
                b'd' => c.is_ascii_digit(),
                s => s == c,
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if !fits(i) {
            i += 1;
            continue;
        }
        let mut end = i + SHAPE.len();
        if b.get(end) == Some(&b'.') {
            end += 1;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        if b.get(end) == Some(&b'Z') {
            end += 1;
        }
        out.push_str(&text[copied..i]);
        out.push_str("[timestamp]");
        copied = end;
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

async fn control(c: &Client, urls: &Urls, path: &str, script: Value) -> Exchange {
    let url = format!("{}/{path}", urls.control);
    c.send(
        reqwest::Method::POST,
        &url,
        Some(SendBody::Json(script)),
        AuthMode::Default,
        Duration::ZERO,
    )
    .await
}

/// Jobs through the control API and the poller, then the transport probes.
fn scripted<'a>(c: &'a Client, small: &'a Client, urls: &'a Urls) -> Running<'a> {
    Box::pin(async move {
        let mut seen: Vec<Exchange> = Vec::new();
        let mut outcomes = Vec::new();
        let el = element::Endpoint::parse(&urls.element).expect("element endpoint");
        let aq = aiqum::Endpoint::parse(&urls.aiqum).expect("aiqum endpoint");
        let policy = Policy {
            deadline: Duration::from_secs(60),
            ..Policy::default()
        };
        // Element: a two-step job kept then released, and a failing one polled without keepResult.
        for (script, keep) in [
            (
                json!({"steps": [{"ms": 3000, "details": {"percentComplete": 40}}, {"ms": 4000}],
                       "outcome": "success", "result": {"cloneID": 7}}),
                Keep::KeepThenRelease,
            ),
            (
                json!({"steps": [{"ms": 1500}], "outcome": "failure"}),
                Keep::Absent,
            ),
        ] {
            let started = control(c, urls, "element/jobs", script).await;
            let handle = started.json().expect("handle")["asyncHandle"].clone();
            seen.push(started);
            let mut observe = |e: &Exchange| seen.push(e.clone());
            outcomes.push(poll::element(c, &el, &handle, &policy, keep, &mut observe).await);
            // Once more: released or purged by now, so an unknown handle.
            let again = element::Call {
                method: "GetAsyncResult",
                params: json!({"asyncHandle": handle}),
                id: json!(99),
                auth: AuthMode::Default,
                version: None,
            };
            seen.push(element::call(c, &el, again).await);
        }
        // AIQUM: a job with a warning step, polled with long polls, then plainly.
        for long_poll in [Some(Duration::from_secs(5)), None] {
            let script = json!({"steps": [{"ms": 4000}, {"ms": 3000, "status": "warning"}],
                                "outcome": "success"});
            let started = control(c, urls, "aiqum/jobs", script).await;
            let key = started.json().expect("key")["key"]
                .as_str()
                .expect("a key")
                .to_string();
            seen.push(started);
            let policy = Policy {
                long_poll,
                ..policy.clone()
            };
            let mut observe = |e: &Exchange| seen.push(e.clone());
            outcomes.push(poll::aiqum(c, &aq, &key, &policy, &mut observe).await);
        }
        // The transport's own cases.
        let running = control(
            c,
            urls,
            "aiqum/jobs",
            json!({"steps": [{"ms": 600_000}], "outcome": "success"}),
        )
        .await;
        let key = running.json().expect("key")["key"]
            .as_str()
            .expect("a key")
            .to_string();
        seen.push(running);
        let job = format!("/management-server/jobs/{key}");
        for auth in [AuthMode::Wrong, AuthMode::None] {
            let call = element::Call {
                method: "GetAsyncResult",
                params: json!({"asyncHandle": 1}),
                id: json!(1),
                auth,
                version: None,
            };
            seen.push(element::call(c, &el, call).await);
        }
        seen.push(
            element::call_raw(
                c,
                &el,
                "{\"method\": \"GetAsync".into(),
                AuthMode::Default,
                None,
            )
            .await,
        );
        let old = element::Call {
            method: "GetAsyncResult",
            params: json!({"asyncHandle": 1}),
            id: json!(2),
            auth: AuthMode::Default,
            version: Some("0.5"),
        };
        seen.push(element::call(c, &el, old).await);
        let head = aiqum::Request {
            method: reqwest::Method::HEAD,
            ..aiqum::Request::get(&job)
        };
        seen.push(aiqum::request(c, &aq, head).await);
        seen.push(
            aiqum::request(c, &aq, aiqum::Request::get("/management-server/jobs/nope")).await,
        );
        // Over the 64-byte cap, and a long poll of 20 s against a 2 s request timeout.
        seen.push(aiqum::request(small, &aq, aiqum::Request::get(&job)).await);
        let mut query = crate::transport::Query::new();
        query.insert("poll_timeout".into(), "20".into());
        let long = aiqum::Request {
            query,
            ..aiqum::Request::get(&job)
        };
        seen.push(aiqum::request(small, &aq, long).await);
        (seen, outcomes)
    })
}

/// Many reads of a running job of each API, for the mock's random faults.
fn reads<'a>(c: &'a Client, _small: &'a Client, urls: &'a Urls) -> Running<'a> {
    Box::pin(async move {
        let el = element::Endpoint::parse(&urls.element).expect("element endpoint");
        let aq = aiqum::Endpoint::parse(&urls.aiqum).expect("aiqum endpoint");
        let script = json!({"steps": [{"ms": 600_000}], "outcome": "success"});
        let handle = control(c, urls, "element/jobs", script.clone())
            .await
            .json()
            .expect("handle")["asyncHandle"]
            .clone();
        let key = control(c, urls, "aiqum/jobs", script)
            .await
            .json()
            .expect("key")["key"]
            .as_str()
            .expect("a key")
            .to_string();
        let job = format!("/management-server/jobs/{key}");
        let mut seen = Vec::new();
        for id in 0..40 {
            let call = element::Call {
                method: "GetAsyncResult",
                params: json!({"asyncHandle": handle, "keepResult": true}),
                id: json!(id),
                auth: AuthMode::Default,
                version: None,
            };
            seen.push(element::call(c, &el, call).await);
            seen.push(aiqum::request(c, &aq, aiqum::Request::get(&job)).await);
        }
        (seen, Vec::new())
    })
}

/// The error kind or the status of a normalized exchange.
fn kind(ex: &str) -> String {
    let v: Value = serde_json::from_str(ex).expect("json");
    v.pointer("/response/Err/kind")
        .or_else(|| v.pointer("/response/Ok/status"))
        .map(Value::to_string)
        .unwrap_or_default()
}

/// Asserts two sessions agree, naming the first item that differs.
fn assert_agree(http: &Seen, local: &Seen) {
    for (what, h, l) in [
        ("exchange", &http.exchanges, &local.exchanges),
        ("outcome", &http.outcomes, &local.outcomes),
        ("journal entry", &http.journal, &local.journal),
    ] {
        if let Some(i) = (0..h.len().min(l.len())).find(|&i| h[i] != l[i]) {
            panic!(
                "{what} {i} differs:\nover HTTP:\n{}\nin process:\n{}",
                h[i], l[i]
            );
        }
        assert_eq!(
            h.len(),
            l.len(),
            "{what}s: {} over HTTP, {} in process",
            h.len(),
            l.len()
        );
    }
}

#[test]
fn in_process_and_http_agree() {
    let http = run(Via::Http, MockConfig::default(), scripted);
    let local = run(Via::InProcess, MockConfig::default(), scripted);
    assert_agree(&http, &local);
    // The session reached what it set out to probe (else agreeing would prove little).
    let kinds: Vec<String> = local.exchanges.iter().map(|e| kind(e)).collect();
    for wanted in ["401", "404", "\"timeout\""] {
        assert!(
            kinds.iter().any(|k| k == wanted),
            "no {wanted} in {kinds:?}"
        );
    }
    let too_large = local.exchanges.iter().any(|e| e.contains("\"too-large\""));
    assert!(too_large, "no body over the cap");
    assert_eq!(local.outcomes.len(), 4);
}

#[test]
fn in_process_and_http_agree_under_random_faults() {
    let config = || MockConfig {
        faults: 0.5,
        faults_seed: 11,
        ..MockConfig::default()
    };
    let http = run(Via::Http, config(), reads);
    let local = run(Via::InProcess, config(), reads);
    assert_agree(&http, &local);
    let broken = local
        .exchanges
        .iter()
        .filter(|e| kind(e) == "\"io\"")
        .count();
    let unavailable = local.exchanges.iter().filter(|e| kind(e) == "503").count();
    assert!(
        broken > 0 && unavailable > 0,
        "{broken} broken, {unavailable} 503"
    );
}
