//! Runs a scenario against the real mock (`jobconform::mock::spawn`, same paused runtime): the job
//! is started through the control API (`POST /_jobconform/element/jobs` with a `JobScript`), the
//! reference poller polls it, and the server-side log is rebuilt from the mock's journal (times)
//! paired with what the client saw (content; the journal's `observed` does not carry `details`).
//! The mock injects no transient faults, so scenarios run here have none. Element only until the
//! AIQUM mock's control route lands.

use std::time::Duration;

use jobconform::mock::script::{JobScript, Outcome as MockOutcome, ScriptStep};
use jobconform::mock::{self, MockConfig};
use jobconform::poll;
use jobconform::transport::{Client, Credentials, Limits, Secret, TlsConfig, element};
use serde_json::{Value, json};

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
                status: None,
                details: Some(json!({"percentComplete": u64::from(st.show) * 25})),
            })
            .collect(),
        outcome,
        result_type: None,
        result: Some(expected_result()),
        error: Some(json!({"name": "xAsyncJobFailed", "message": "scripted failure"})),
        name: None,
    }
}

fn seen_of(ex: &jobconform::transport::Exchange) -> Option<(String, bool)> {
    let r = ex.json()?.get("result")?;
    let status = r.get("status")?;
    let details = r.get("details").cloned().unwrap_or(Value::Null);
    Some((format!("{status}/{details}"), status == "complete"))
}

/// Runs one Element scenario (its faults ignored) against the real mock.
pub fn run(sc: &Scenario) -> Run {
    assert_eq!(
        sc.api,
        Api::Element,
        "the real mock serves Element jobs here"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        sc.seed_jitter();
        let m = mock::spawn(MockConfig::default()).await.expect("mock");
        let creds = Credentials {
            user: mock::DEFAULT_USER.into(),
            password: Secret::new(mock::DEFAULT_PASSWORD),
        };
        let client =
            Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client");
        let started = client
            .send(
                reqwest::Method::POST,
                &format!("{}/element/jobs", m.urls.control),
                Some(jobconform::transport::SendBody::Json(
                    serde_json::to_value(job_script(sc)).expect("script"),
                )),
                jobconform::transport::AuthMode::Default,
                Duration::ZERO,
            )
            .await;
        let handle = started.json().expect("control answer")["asyncHandle"].clone();
        let created = m.state.clock.now_ms();
        let ep = element::Endpoint::parse(&m.urls.element).expect("endpoint");
        let mut seen: Vec<Option<(String, bool)>> = Vec::new();
        let mut observe = |ex: &jobconform::transport::Exchange| seen.push(seen_of(ex));
        let out = poll::element(&client, &ep, &handle, &sc.policy, sc.keep, &mut observe).await;
        let returned = Duration::from_millis(m.state.clock.now_ms() - created);
        let journal = m.state.journal.snapshot();
        let polls: Vec<_> = journal
            .iter()
            .filter(|e| e.op == "GetAsyncResult")
            .collect();
        assert_eq!(polls.len(), seen.len(), "journal and client disagree");
        let log = polls
            .iter()
            .zip(&seen)
            .map(|(e, s)| {
                let at = Duration::from_millis(e.t_ms - created);
                Req {
                    at,
                    answered: at,
                    long_poll: None,
                    keep_result: e.keep_result,
                    fault: None,
                    seen: s.as_ref().map(|(k, _)| k.clone()),
                    terminal: s.as_ref().is_some_and(|(_, t)| *t),
                    unknown: e.observed.as_deref() == Some("unknown"),
                }
            })
            .collect();
        let observed = seen.len() as u32;
        m.stop().await;
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
