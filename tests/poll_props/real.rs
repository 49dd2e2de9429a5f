//! Runs a scenario against the real mock (`jobconform::mock::service::in_process`, same paused
//! runtime, requests handed to its router by `Client::in_process`): the job
//! is started through the control API (`POST /_jobconform/element/jobs` with a `JobScript`), the
//! reference poller polls it, and the server-side log is rebuilt from the mock's journal (times)
//! paired with what the client saw (content; the journal's `observed` does not carry `details`).
//! The mock injects no transient faults, so scenarios run here have none. AIQUM jobs start with
//! `POST /_jobconform/aiqum/jobs` (201 `{"key"}`); answer times come from the client side (the
//! journal holds arrival times).

use std::time::Duration;

use jobconform::mock::script::{JobScript, Outcome as MockOutcome, ScriptStep};
use jobconform::mock::{self, MockConfig};
use jobconform::poll;
use jobconform::transport::{
    AuthMode, Client, Credentials, Exchange, Limits, Secret, SendBody, aiqum, element,
};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::check::{Api, Run, Scenario};
use super::fake::{End, Req, expected_result};

/// The mock's job script for a scenario's script.
pub fn job_script(sc: &Scenario) -> JobScript {
    let s = &sc.script;
    let outcome = match s.end {
        End::Success => MockOutcome::Success,
        End::Failure => MockOutcome::Failure,
        End::Warning => MockOutcome::Warning,
        End::PartialFailures => MockOutcome::PartialFailures,
        End::Aborted => MockOutcome::Aborted,
    };
    JobScript {
        steps: s
            .steps
            .iter()
            .map(|st| ScriptStep {
                ms: st.ms,
                state: None,
                status: (sc.api == Api::Aiqum).then(|| {
                    if st.show % 2 == 1 {
                        "warning"
                    } else {
                        "normal"
                    }
                    .into()
                }),
                details: (sc.api == Api::Element)
                    .then(|| json!({"percentComplete": u64::from(st.show) * 25})),
            })
            .collect(),
        outcome,
        result_type: None,
        result: Some(expected_result()),
        error: Some(json!({"name": "xAsyncJobFailed", "message": "scripted failure"})),
        name: None,
        faults: Vec::new(),
    }
}

/// What the client saw in one exchange: (state-relevant content, terminal), and when.
struct Seen {
    at: Duration,
    job: Option<(String, bool)>,
    long_poll: Option<u64>,
}

fn seen_of(api: Api, ex: &Exchange) -> Option<(String, bool)> {
    let body = ex.json()?;
    match api {
        Api::Element => {
            let r = body.get("result")?;
            let status = r.get("status")?;
            let details = r.get("details").cloned().unwrap_or(Value::Null);
            Some((format!("{status}/{details}"), status == "complete"))
        }
        Api::Aiqum => {
            let t = poll::aiqum_terminal(body)?;
            Some((format!("{}/{}", body["state"], body["status"]), t))
        }
    }
}

fn long_poll_of(ex: &Exchange) -> Option<u64> {
    let url = reqwest::Url::parse(&ex.request.url).ok()?;
    let secs = url.query_pairs().find(|(k, _)| k == "poll_timeout")?.1;
    secs.parse().ok()
}

/// Starts the scenario's job through the control API; returns the handle or key.
async fn start_job(client: &Client, m: &mock::service::InProcess, sc: &Scenario) -> Value {
    let (path, field) = match sc.api {
        Api::Element => ("element/jobs", "asyncHandle"),
        Api::Aiqum => ("aiqum/jobs", "key"),
    };
    let script = serde_json::to_value(job_script(sc)).expect("script");
    let ex = client
        .send(
            reqwest::Method::POST,
            &format!("{}/{path}", m.urls.control),
            Some(SendBody::Json(script)),
            AuthMode::Default,
            Duration::ZERO,
        )
        .await;
    ex.json().expect("control answer")[field].clone()
}

/// Runs one scenario (its faults ignored: the mock injects none) against the real mock.
pub fn run(sc: &Scenario) -> Run {
    // In process nothing does I/O: only the (paused) timer is needed.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        sc.seed_jitter();
        let config = MockConfig {
            long_poll: sc.script.long_poll,
            ..MockConfig::default()
        };
        let m = mock::service::in_process(config);
        let creds = Credentials {
            user: mock::DEFAULT_USER.into(),
            password: Secret::new(mock::DEFAULT_PASSWORD),
        };
        let client =
            Client::in_process(Some(creds), Limits::default(), m.service.clone()).expect("client");
        let job = start_job(&client, &m, sc).await;
        let created = m.state.clock.now_ms();
        let t0 = Instant::now();
        let mut seen: Vec<Seen> = Vec::new();
        let mut observe = |ex: &Exchange| {
            seen.push(Seen {
                at: t0.elapsed(),
                job: seen_of(sc.api, ex),
                long_poll: long_poll_of(ex),
            })
        };
        let out = match sc.api {
            Api::Element => {
                let ep = element::Endpoint::parse(&m.urls.element).expect("endpoint");
                poll::element(&client, &ep, &job, &sc.policy, sc.keep, &mut observe).await
            }
            Api::Aiqum => {
                let ep = aiqum::Endpoint::parse(&m.urls.aiqum).expect("endpoint");
                let key = job.as_str().expect("key");
                poll::aiqum(&client, &ep, key, &sc.policy, &mut observe).await
            }
        };
        let returned = Duration::from_millis(m.state.clock.now_ms() - created);
        let journal = m.state.journal.snapshot();
        let polls: Vec<_> = journal
            .iter()
            .filter(|e| e.op == "GetAsyncResult" || e.op.starts_with("GET job"))
            .filter(|e| e.op != "GET jobs")
            .collect();
        assert_eq!(polls.len(), seen.len(), "journal and client disagree");
        let log = polls
            .iter()
            .zip(&seen)
            .map(|(e, s)| Req {
                at: Duration::from_millis(e.t_ms - created),
                answered: s.at.max(Duration::from_millis(e.t_ms - created)),
                long_poll: s.long_poll,
                keep_result: e.keep_result,
                fault: None,
                seen: s.job.as_ref().map(|(k, _)| k.clone()),
                terminal: s.job.as_ref().is_some_and(|(_, t)| *t),
                unknown: e.observed.as_deref() == Some("unknown"),
            })
            .collect();
        let observed = seen.len() as u32;
        Run {
            sc: sc.clone(),
            out,
            log,
            returned,
            observed,
            journal,
            clock_error: Duration::from_millis(1),
        }
    })
}
