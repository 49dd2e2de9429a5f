//! Tests of the client audit (`jobconform::mock::audit`): hand-built journals of clients that
//! break one rule each (hammering, shrinking while unchanged, polling after release, polling after
//! terminal, past a deadline), one that stops early on WARNING (a note, not a rule), and the
//! journal of jobconform's own poller against a scripted server (clean).

#[path = "poll_props/fake.rs"]
#[allow(
    dead_code,
    reason = "shared with poll_props.rs; this file uses only part of it"
)]
mod fake;

use std::collections::BTreeMap;
use std::time::Duration;

use jobconform::mock::audit::{AuditConfig, AuditReport, audit};
use jobconform::mock::journal::Entry;
use jobconform::poll::{self, Keep, Policy};
use jobconform::transport::{Client, Limits, TlsConfig, aiqum, element};
use serde_json::json;

fn cfg(min: u64) -> AuditConfig {
    AuditConfig {
        min_interval_ms: min,
        ..AuditConfig::default()
    }
}

/// An entry; `observed` "" means none.
fn entry(client: &str, api: &'static str, t_ms: u64, observed: &str, terminal: bool) -> Entry {
    Entry {
        t_ms,
        client: client.into(),
        api,
        op: if api == "element" {
            "GetAsyncResult".into()
        } else {
            "GET job".into()
        },
        job: Some("41".into()),
        keep_result: None,
        observed: (!observed.is_empty()).then(|| observed.to_string()),
        terminal,
        released: false,
        http_status: 200,
    }
}

fn running(client: &str, api: &'static str, times: &[u64]) -> Vec<Entry> {
    times
        .iter()
        .map(|&t| entry(client, api, t, "running", false))
        .collect()
}

fn rules(r: &AuditReport, client: &str) -> Vec<&'static str> {
    r.client(client).expect("client audited").rules_broken()
}

#[test]
fn hammering_client_breaks_no_hammer_with_evidence() {
    let j = running("hammer", "aiqum", &[0, 100, 200, 300]);
    let r = audit(&j, &cfg(500));
    assert_eq!(rules(&r, "hammer"), ["CL-NO-HAMMER"]);
    let v = &r.clients[0].jobs[0].violations;
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].t_ms, [0, 100]);
    assert!(!r.clean());
}

#[test]
fn shrinking_while_unchanged_breaks_no_hammer_but_a_reset_after_a_change_does_not() {
    let mut j = running("shrinker", "element", &[0, 2_000, 3_000]);
    for e in &mut j {
        e.observed = Some("running {\"percentComplete\":25}".into());
    }
    let r = audit(&j, &cfg(500));
    assert_eq!(rules(&r, "shrinker"), ["CL-NO-HAMMER"]);
    assert_eq!(r.clients[0].jobs[0].violations[0].t_ms, [0, 2_000, 3_000]);

    // A bare "running" does not say whether details (Element) or status (AIQUM) changed: the
    // shrink is not judged; the literal dialect's WARNING says everything: judged.
    let j = running("shrinker", "element", &[0, 2_000, 3_000]);
    assert!(audit(&j, &cfg(500)).clean());
    let j = running("shrinker", "aiqum", &[0, 2_000, 3_000]);
    assert!(audit(&j, &cfg(500)).clean());
    let mut j = running("shrinker", "aiqum", &[0, 2_000, 3_000]);
    for e in &mut j {
        e.observed = Some("WARNING".into());
    }
    assert_eq!(rules(&audit(&j, &cfg(500)), "shrinker"), ["CL-NO-HAMMER"]);

    let mut j = running("resetter", "element", &[0, 2_000, 3_000]);
    j[0].observed = Some("running {\"percentComplete\":25}".into());
    j[1].observed = Some("running {\"percentComplete\":50}".into());
    let r = audit(&j, &cfg(500));
    assert!(r.clean(), "{}", r.to_text());

    // A transient fault (5xx) counts as unchanged: shrinking after it is hammering.
    let mut j = running("retrier", "aiqum", &[0, 2_000, 3_000]);
    j[1].http_status = 503;
    j[1].observed = None;
    assert_eq!(rules(&audit(&j, &cfg(500)), "retrier"), ["CL-NO-HAMMER"]);
}

#[test]
fn polling_after_release_breaks_keep_not_stop() {
    let mut j = running("careless", "element", &[0, 1_000]);
    let mut done = entry("careless", "element", 2_000, "complete", true);
    done.released = true;
    j.push(done);
    j.push(entry("careless", "element", 3_000, "unknown", false));
    let r = audit(&j, &cfg(500));
    assert_eq!(rules(&r, "careless"), ["CL-KEEP"]);
    assert_eq!(r.clients[0].jobs[0].violations[0].t_ms, [2_000, 3_000]);
}

#[test]
fn polling_after_terminal_breaks_stop() {
    let mut j = running("lingerer", "aiqum", &[0, 1_000]);
    j.push(entry("lingerer", "aiqum", 2_000, "completed", true));
    j.push(entry("lingerer", "aiqum", 4_000, "completed", true));
    let r = audit(&j, &cfg(500));
    assert_eq!(rules(&r, "lingerer"), ["CL-STOP"]);
    assert_eq!(r.clients[0].jobs[0].violations[0].t_ms, [2_000, 4_000]);
}

#[test]
fn keep_then_release_is_clean_but_a_second_release_breaks_keep() {
    let mut j = running("tidy", "element", &[0, 1_000]);
    for e in &mut j {
        e.keep_result = Some(true);
    }
    let mut done = entry("tidy", "element", 2_000, "complete", true);
    done.keep_result = Some(true);
    j.push(done);
    let mut release = entry("tidy", "element", 2_000, "complete", true);
    release.released = true;
    j.push(release);
    let r = audit(&j, &cfg(500));
    assert!(r.clean(), "{}", r.to_text());

    j.push(entry("tidy", "element", 2_600, "unknown", false));
    assert_eq!(rules(&audit(&j, &cfg(500)), "tidy"), ["CL-KEEP"]);
}

#[test]
fn stopping_on_warning_is_noted_as_abandoned_not_a_stop_violation() {
    // Literal dialect: a job in WARNING is still going (register U2); this client stopped there.
    let mut j = running("nervous", "aiqum", &[0, 1_000]);
    j.push(entry("nervous", "aiqum", 2_000, "WARNING", false));
    let r = audit(&j, &cfg(500));
    assert!(r.clean(), "{}", r.to_text());
    let job = &r.clients[0].jobs[0];
    assert!(!job.saw_terminal);
    assert_eq!(job.notes.len(), 1);
    assert!(job.notes[0].contains("abandoned before terminal"));
    assert!(job.notes[0].contains("WARNING"));
}

#[test]
fn polls_past_the_deadline_break_deadline_only_when_one_is_configured() {
    let j = running("stubborn", "aiqum", &[10_000, 12_000, 15_000, 20_000]);
    assert!(audit(&j, &cfg(500)).clean());
    let with_deadline = AuditConfig {
        deadline_ms: Some(6_000),
        ..cfg(500)
    };
    let r = audit(&j, &with_deadline);
    assert_eq!(rules(&r, "stubborn"), ["CL-DEADLINE"]);
    assert_eq!(r.clients[0].jobs[0].violations[0].t_ms, [10_000, 20_000]);
}

#[test]
fn clients_and_jobs_are_judged_separately() {
    let mut j = Vec::new();
    for t in [0u64, 1_000, 2_000] {
        j.push(entry("a", "aiqum", t, "running", false));
        j.push(entry("b", "aiqum", t + 300, "running", false));
        let mut other = entry("a", "aiqum", t + 600, "running", false);
        other.job = Some("42".into());
        j.push(other);
    }
    let r = audit(&j, &cfg(1_000));
    assert!(r.clean(), "{}", r.to_text());
    assert_eq!(r.clients.len(), 2);
    assert_eq!(r.client("a").expect("a").jobs.len(), 2);
}

#[test]
fn long_polls_may_be_followed_at_once() {
    let mut j = running("patient", "aiqum", &[0, 30_000, 30_000]);
    for e in &mut j[..2] {
        e.op = "GET job long-poll".into();
    }
    assert!(audit(&j, &cfg(500)).clean());
}

#[test]
fn text_and_json_renderings_carry_rules_and_evidence() {
    let j = running("hammer", "aiqum", &[0, 100]);
    let r = audit(&j, &cfg(500));
    let text = r.to_text();
    assert!(
        text.contains("hammer: 1 job(s), broke CL-NO-HAMMER"),
        "{text}"
    );
    assert!(text.contains("[t_ms 0, 100]"), "{text}");
    // Long runs of one rule are cut short in the text, never in the JSON.
    let j = running(
        "hammer",
        "aiqum",
        &(0..10).map(|i| i * 100).collect::<Vec<_>>(),
    );
    let r = audit(&j, &cfg(500));
    assert_eq!(r.clients[0].jobs[0].violations.len(), 9);
    let text = r.to_text();
    assert_eq!(text.matches("[t_ms").count(), 3, "{text}");
    assert!(
        text.contains("CL-NO-HAMMER: 6 more (see the JSON)"),
        "{text}"
    );
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(
        v["clients"][0]["jobs"][0]["violations"][0]["rule"],
        "CL-NO-HAMMER"
    );
    assert_eq!(v["config"]["min_interval_ms"], 500);
}

/// Runs jobconform's own poller against the scripted server and turns the server's log into a
/// journal, the way the mock journals requests.
fn own_poller_journal(
    api: &'static str,
    script: fake::Script,
    policy: &Policy,
    keep: Keep,
) -> Vec<Entry> {
    // In process nothing does I/O: only the (paused) timer is needed.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = fake::spawn(script);
        let client =
            Client::in_process(None, Limits::default(), server.service.clone()).expect("client");
        let out = if api == "element" {
            let ep =
                element::Endpoint::parse(&format!("{}/json-rpc/12.5", server.base)).expect("ep");
            poll::element(
                &client,
                &ep,
                &json!(fake::HANDLE),
                policy,
                keep,
                &mut |_| {},
            )
            .await
        } else {
            let ep = aiqum::Endpoint::parse(&format!("{}/api", server.base)).expect("ep");
            poll::aiqum(&client, &ep, fake::KEY, policy, &mut |_| {}).await
        };
        assert_eq!(out.end, poll::End::Terminal, "{out:?}");
        server.journal(api)
    })
}

fn script(long_poll: bool) -> fake::Script {
    let step = |ms, show| fake::Step { ms, show };
    fake::Script {
        steps: vec![
            step(3_000, 0),
            step(4_000, 1),
            step(9_000, 1),
            step(2_000, 2),
        ],
        end: fake::End::Success,
        faults: BTreeMap::from([
            (2, fake::Fault::Unavailable),
            (3, fake::Fault::VersionMismatch),
        ]),
        fault_on_terminal: None,
        long_poll,
    }
}

#[test]
fn own_poller_journal_is_clean() {
    let policy = Policy {
        min_interval: Duration::from_millis(300),
        max_interval: Duration::from_secs(4),
        backoff: 1.7,
        jitter: 0.2,
        deadline: Duration::from_secs(60),
        long_poll: None,
        time_scale: 1.0,
    };
    let long = Policy {
        long_poll: Some(Duration::from_secs(5)),
        ..policy.clone()
    };
    let cases = [
        ("element", script(false), &policy, Keep::Keep),
        ("element", script(false), &policy, Keep::KeepThenRelease),
        ("element", script(false), &policy, Keep::Absent),
        ("aiqum", script(false), &policy, Keep::Keep),
        ("aiqum", script(true), &long, Keep::Keep),
        ("aiqum", script(false), &long, Keep::Keep),
    ];
    for (api, script, policy, keep) in cases {
        let journal = own_poller_journal(api, script, policy, keep);
        let config = AuditConfig {
            min_interval_ms: 300,
            deadline_ms: Some(60_000),
            ..AuditConfig::default()
        };
        let r = audit(&journal, &config);
        assert!(
            r.clean(),
            "{api} {keep:?} {:?}:\n{}",
            policy.long_poll,
            r.to_text()
        );
        assert!(r.clients[0].jobs[0].saw_terminal);
        assert!(r.clients[0].jobs[0].notes.is_empty());
    }
}

/// End to end on the real mock's journal: jobconform's poller is clean, a client that hammers an
/// Element handle breaks CL-NO-HAMMER, one that polls a finished AIQUM job again breaks CL-STOP,
/// one that asks for a purged handle breaks CL-KEEP.
#[test]
fn real_mock_journal_is_audited_per_client() {
    use jobconform::mock::{self, MockConfig};
    use jobconform::transport::{Credentials, Secret};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let m = mock::spawn(MockConfig::default()).await.expect("mock");
        jobconform::transport::install_crypto();
        let raw = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("raw client");
        let (user, pass) = (mock::DEFAULT_USER, mock::DEFAULT_PASSWORD);
        let post = |url: String, who: &'static str, body: serde_json::Value| {
            raw.post(url)
                .basic_auth(user, Some(pass))
                .header("x-jobconform-client", who)
                .json(&body)
                .send()
        };
        let script = json!({"steps": [{"ms": 2000}, {"ms": 2000}], "outcome": "success"});
        let started = post(
            format!("{}/element/jobs", m.urls.control),
            "setup",
            script.clone(),
        );
        let handle = started
            .await
            .expect("start")
            .json::<serde_json::Value>()
            .await
            .expect("json")["asyncHandle"]
            .clone();
        let key = post(format!("{}/aiqum/jobs", m.urls.control), "setup", script);
        let key = key
            .await
            .expect("start")
            .json::<serde_json::Value>()
            .await
            .expect("json")["key"]
            .as_str()
            .expect("key")
            .to_string();

        // The hammer: GetAsyncResult with keepResult every 100 ms until complete, then once
        // without (the release), then once more (after the release).
        let gar = |keep: Option<bool>| {
            let mut params = json!({"asyncHandle": handle});
            if let Some(k) = keep {
                params["keepResult"] = json!(k);
            }
            post(
                m.urls.element.clone(),
                "hammer",
                json!({"method": "GetAsyncResult", "params": params, "id": 1}),
            )
        };
        loop {
            let b: serde_json::Value = gar(Some(true))
                .await
                .expect("gar")
                .json()
                .await
                .expect("json");
            if b["result"]["status"] == "complete" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        gar(None).await.expect("release");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        gar(None).await.expect("after release");

        // The lingerer: reads the AIQUM job until terminal, then once more.
        let url = format!("{}/management-server/jobs/{key}", m.urls.aiqum);
        loop {
            let r = raw
                .get(&url)
                .basic_auth(user, Some(pass))
                .header("x-jobconform-client", "lingerer");
            let job: serde_json::Value = r.send().await.expect("get").json().await.expect("json");
            if poll::aiqum_terminal(&job) == Some(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1000)).await;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let r = raw
            .get(&url)
            .basic_auth(user, Some(pass))
            .header("x-jobconform-client", "lingerer");
        r.send().await.expect("get");

        // jobconform's own poller (identified by its address) on a fresh job.
        let script = json!({"steps": [{"ms": 3000}], "outcome": "success"});
        let started = post(format!("{}/aiqum/jobs", m.urls.control), "setup", script);
        let own = started
            .await
            .expect("start")
            .json::<serde_json::Value>()
            .await
            .expect("json")["key"]
            .as_str()
            .expect("key")
            .to_string();
        let creds = Credentials {
            user: user.into(),
            password: Secret::new(pass),
        };
        let client =
            Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client");
        let ep = aiqum::Endpoint::parse(&m.urls.aiqum).expect("ep");
        let policy = Policy {
            min_interval: Duration::from_millis(500),
            ..Policy::default()
        };
        let out = poll::aiqum(&client, &ep, &own, &policy, &mut |_| {}).await;
        assert_eq!(out.end, poll::End::Terminal);

        let report = audit(&m.state.journal.snapshot(), &cfg(500));
        let text = report.to_text();
        assert_eq!(
            rules(&report, "hammer"),
            ["CL-KEEP", "CL-NO-HAMMER"],
            "{text}"
        );
        assert_eq!(rules(&report, "lingerer"), ["CL-STOP"], "{text}");
        assert!(rules(&report, "127.0.0.1").is_empty(), "{text}");
        assert!(
            report.client("setup").is_none(),
            "starting jobs is not polling: {text}"
        );
        m.stop().await;
    });
}

/// End to end through the real mock: a careless client (fixed 20 ms polls without keepResult,
/// then one more query after the result was released) and jobconform's poller share one mock;
/// `GET /_jobconform/audit` names the careless client's broken rules and finds the poller clean.
#[tokio::test(start_paused = true)]
async fn audit_route_judges_real_clients_of_the_mock() {
    use jobconform::mock::{self, MockConfig};
    let m = mock::spawn(MockConfig::default()).await.expect("mock");
    jobconform::transport::install_crypto();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest");
    let auth = (mock::DEFAULT_USER, mock::DEFAULT_PASSWORD);
    let start = || async {
        let r: serde_json::Value = http
            .post(format!("{}/element/jobs", m.urls.control))
            .basic_auth(auth.0, Some(auth.1))
            .json(&json!({"steps": [{"ms": 300}], "outcome": "success"}))
            .send()
            .await
            .expect("start")
            .json()
            .await
            .expect("json");
        r["asyncHandle"].clone()
    };
    // The careless client.
    let h = start().await;
    for _ in 0..40 {
        let r: serde_json::Value = http
            .post(&m.urls.element)
            .basic_auth(auth.0, Some(auth.1))
            .header("x-jobconform-client", "careless")
            .json(&json!({"method": "GetAsyncResult", "params": {"asyncHandle": h}, "id": 1}))
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("json");
        if r.get("error").is_some() {
            break; // it polled once after the handle was released
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // jobconform's own poller.
    let h2 = start().await;
    let client = Client::new(
        Some(jobconform::transport::Credentials {
            user: auth.0.into(),
            password: jobconform::transport::Secret::new(auth.1),
        }),
        Limits::default(),
        &TlsConfig::default(),
    )
    .expect("client");
    let policy = Policy {
        min_interval: Duration::from_millis(100),
        max_interval: Duration::from_millis(400),
        deadline: Duration::from_secs(10),
        ..Policy::default()
    };
    let ep = element::Endpoint::parse(&m.urls.element).expect("endpoint");
    let out = poll::element(
        &client,
        &ep,
        &h2,
        &policy,
        Keep::KeepThenRelease,
        &mut |_| {},
    )
    .await;
    assert_eq!(out.end, poll::End::Terminal);

    let report: serde_json::Value = http
        .get(format!("{}/audit?min_interval_ms=100", m.urls.control))
        .basic_auth(auth.0, Some(auth.1))
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let text = serde_json::to_string(&report).expect("text");
    let careless = &report["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["client"] == "careless")
        .expect("careless audited")
        .to_string();
    assert!(careless.contains("CL-NO-HAMMER"), "{careless}");
    assert!(careless.contains("CL-KEEP"), "{careless}");
    let own = report["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["client"] == "127.0.0.1")
        .expect("own poller audited");
    assert!(
        !own.to_string().contains("\"CL-"),
        "own poller broke a rule: {text}"
    );
    m.stop().await;
}
