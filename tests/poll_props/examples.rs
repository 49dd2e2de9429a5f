//! Example-based tests of the poller next to the properties: long-poll fallback and economy, the
//! first-poll rule under a short deadline, and hard failures against the real mock.

use std::collections::BTreeMap;
use std::time::Duration;

use jobconform::mock::Deviation;
use jobconform::poll::{self, Keep, Policy};
use jobconform::transport::{Client, Limits, TlsConfig, aiqum, element};
use serde_json::json;

use super::check::{Api, Scenario};
use super::fake::{End as ScriptEnd, Script, Step};
use super::{Poller, run};

/// A long poll asked of a server without the capability falls back to standard polling and says
/// so (and still finishes).
#[test]
fn long_poll_falls_back_when_not_offered() {
    let sc = Scenario {
        api: Api::Aiqum,
        script: Script {
            steps: vec![Step { ms: 5_000, show: 0 }, Step { ms: 5_000, show: 1 }],
            end: ScriptEnd::Success,
            faults: BTreeMap::new(),
            fault_on_terminal: None,
            long_poll: false,
        },
        policy: Policy {
            long_poll: Some(Duration::from_secs(5)),
            ..Policy::default()
        },
        keep: Keep::Keep,
    };
    let r = run(&sc, Poller::Reference);
    assert_eq!(r.out.end, poll::End::Terminal);
    assert!(r.out.long_polled);
    assert_eq!(r.out.notes.len(), 1, "{:?}", r.out.notes);
    assert!(r.out.notes[0].contains("fell back"));
    let long_polls = r.log.iter().filter(|q| q.long_poll.is_some()).count();
    // The first long poll carries no last_modified, so its early answer is retried once with
    // the job's last_modified (after min_interval); the second early, unchanged answer is the
    // proof.
    assert_eq!(long_polls, 2);
    assert!(r.log[1].at >= r.log[0].answered + sc.policy.min_interval);
}

/// With less than a whole second for a long poll, the poller still polls: plain GETs on the
/// standard schedule until the deadline.
#[test]
fn long_poll_with_a_short_deadline_polls_plainly() {
    let sc = Scenario {
        api: Api::Aiqum,
        script: Script {
            steps: vec![Step { ms: 5_000, show: 0 }],
            end: ScriptEnd::Success,
            faults: BTreeMap::new(),
            fault_on_terminal: None,
            long_poll: true,
        },
        policy: Policy {
            long_poll: Some(Duration::from_secs(5)),
            deadline: Duration::from_millis(800),
            ..Policy::default()
        },
        keep: Keep::Keep,
    };
    let r = run(&sc, Poller::Reference);
    assert_eq!(r.out.end, poll::End::Deadline);
    let min = sc.policy.min_interval;
    let expected = 1 + (sc.policy.deadline.as_millis() / min.as_millis()) as usize;
    assert_eq!(r.log.len(), expected, "{:?}", r.log);
    assert!(r.log.iter().all(|q| q.long_poll.is_none()));
    assert!(r.log.windows(2).all(|w| w[1].at >= w[0].answered + min));
    assert!(r.log.iter().all(|q| q.at <= sc.policy.deadline));
    assert!(r.out.last.is_some());
}

/// Long polling against a capable server needs about one request per state change.
#[test]
fn long_poll_uses_few_requests() {
    let sc = Scenario {
        api: Api::Aiqum,
        script: Script {
            steps: vec![Step {
                ms: 40_000,
                show: 0,
            }],
            end: ScriptEnd::Warning,
            faults: BTreeMap::new(),
            fault_on_terminal: None,
            long_poll: true,
        },
        policy: Policy {
            long_poll: Some(Duration::from_secs(30)),
            ..Policy::default()
        },
        keep: Keep::Keep,
    };
    let r = run(&sc, Poller::Reference);
    assert_eq!(r.out.end, poll::End::Terminal);
    assert_eq!(
        r.out.requests, 2,
        "a 30 s timeout, then the terminal answer"
    );
    assert_eq!(r.out.elapsed, Duration::from_secs(40));
}

/// Non-transient failures end polling at once with `End::Failed` (real mock): an Element handle
/// never issued, an AIQUM key that does not exist, wrong credentials.
#[test]
fn hard_failures_end_polling() {
    use jobconform::mock::{self, MockConfig};
    use jobconform::transport::{Credentials, Secret};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let m = mock::spawn(MockConfig::default()).await.expect("mock");
        let client = |password: &str| {
            let creds = Credentials {
                user: mock::DEFAULT_USER.into(),
                password: Secret::new(password),
            };
            Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client")
        };
        let good = client(mock::DEFAULT_PASSWORD);
        let policy = Policy::default();
        let el = element::Endpoint::parse(&m.urls.element).expect("endpoint");
        let um = aiqum::Endpoint::parse(&m.urls.aiqum).expect("endpoint");
        let mut seen = 0;
        let out = poll::element(&good, &el, &json!(987_654), &policy, Keep::Keep, &mut |_| {
            seen += 1
        })
        .await;
        assert!(
            matches!(&out.end, poll::End::Failed { reason } if reason.contains("xAsyncHandleDoesNotExist")),
            "{out:?}"
        );
        assert_eq!((out.requests, seen), (1, 1));
        let out = poll::aiqum(&good, &um, "no:such-key", &policy, &mut |_| {}).await;
        assert!(
            matches!(&out.end, poll::End::Failed { reason } if reason.contains("404")),
            "{out:?}"
        );
        assert_eq!(out.requests, 1);
        let out = poll::aiqum(&client("wrong"), &um, "no:such-key", &policy, &mut |_| {}).await;
        assert!(
            matches!(&out.end, poll::End::Failed { reason } if reason.contains("401")),
            "{out:?}"
        );
        m.stop().await;
    });
}

/// Against the real mock with the `long-poll-early` deviation (answers after half the timeout
/// with a running job), the poller falls back to standard polling, says so, and still finishes.
#[test]
fn long_poll_early_deviation_makes_the_poller_fall_back() {
    use jobconform::mock::{self, MockConfig};
    use jobconform::transport::{AuthMode, Credentials, Secret, SendBody};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = MockConfig {
            deviations: [Deviation::LongPollEarly].into_iter().collect(),
            ..MockConfig::default()
        };
        let m = mock::spawn(config).await.expect("mock");
        let creds = Credentials {
            user: mock::DEFAULT_USER.into(),
            password: Secret::new(mock::DEFAULT_PASSWORD),
        };
        let client =
            Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client");
        let script = json!({"steps": [{"ms": 30_000}], "outcome": "success"});
        let started = client
            .send(
                reqwest::Method::POST,
                &format!("{}/aiqum/jobs", m.urls.control),
                Some(SendBody::Json(script)),
                AuthMode::Default,
                Duration::ZERO,
            )
            .await;
        let key = started.json().expect("json")["key"]
            .as_str()
            .expect("key")
            .to_string();
        let ep = aiqum::Endpoint::parse(&m.urls.aiqum).expect("endpoint");
        let policy = Policy {
            long_poll: Some(Duration::from_secs(10)),
            ..Policy::default()
        };
        let out = poll::aiqum(&client, &ep, &key, &policy, &mut |_| {}).await;
        assert_eq!(out.end, poll::End::Terminal, "{out:?}");
        assert!(out.long_polled);
        assert!(
            out.notes.iter().any(|n| n.contains("fell back")),
            "{:?}",
            out.notes
        );
        m.stop().await;
    });
}
