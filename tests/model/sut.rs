//! The system under test: one mock (configured by the thread's [`CONFIG`]) on a paused
//! current-thread tokio runtime that the SUT owns, driven over HTTP through `jobconform::transport`
//! (each transition is one `block_on`, with tokio's auto-advance held off so that only `Advance`
//! moves the clock). It owns the plumbing (requests, the handle and key each started job got, the
//! facts learned at start: the AIQUM history, any pre-existing Element handles, a source volume
//! for clones) and dispatches each transition to `element.rs` or `aiqum.rs`, which compare the
//! answers with the model's predictions. It never changes the mock's state except through its
//! HTTP interface, and reads nothing of it but its clock.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

use jobconform::mock::{self, MockConfig, RunningMock};
use jobconform::transport::{
    AuthMode, Client, Credentials, Exchange, Limits, Query, Secret, SendBody, TlsConfig, aiqum,
    element,
};

use super::reference::{JobFilter, Model, Transition};

thread_local! {
    /// The configuration the mocks of this thread's runs get (default: a faithful mock).
    pub static CONFIG: std::cell::RefCell<MockConfig> =
        std::cell::RefCell::new(MockConfig::default());
}

/// A page to follow: the href the mock gave and the page the model expects behind it.
#[derive(Debug, Clone)]
pub struct Follow {
    /// `_links.next.href`, verbatim.
    pub href: String,
    /// Page size in force.
    pub max: usize,
    /// Index of the first record expected.
    pub offset: usize,
    /// The filter of the list being walked.
    pub filter: Option<JobFilter>,
}

/// A running mock and what the SUT learned about it.
pub struct Sut {
    /// The mock's configuration (dialects, time scale, deviations).
    pub config: MockConfig,
    pub rt: Runtime,
    pub mock: Option<RunningMock>,
    pub client: Client,
    pub el: element::Endpoint,
    pub um: aiqum::Endpoint,
    pub control: String,
    /// Handle the i-th started Element job got.
    pub handles: Vec<u64>,
    /// Key the i-th started AIQUM job got.
    pub keys: Vec<String>,
    /// The AIQUM history as first listed (all records, newest first).
    pub history: Vec<Value>,
    /// The volume clones are made of (created when the SUT starts).
    pub source_volume: u64,
    /// `cloneID` the CloneVolume that started handle index i announced.
    pub clone_ids: HashMap<usize, u64>,
    /// Element handles listed before the sequence started (none expected; ignored if any).
    pub el_baseline: BTreeSet<u64>,
    /// The model state before the current transition.
    pub prev: Model,
    /// Payload (`result` or `error`) first seen for each complete handle index.
    pub payloads: HashMap<usize, Value>,
    /// `(createTime, lastUpdateTime)` last seen for each handle index (EL-GAR-STABLE).
    pub times: HashMap<usize, (Value, Value)>,
    /// What `NextPage` follows: `None` when the last list answer was the last page.
    pub follow: Option<Follow>,
    /// The transition being applied (for failure messages).
    pub doing: String,
    rpc_id: u64,
}

impl Sut {
    fn start() -> Sut {
        jobconform::transport::install_crypto();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        let config = CONFIG.with(|c| c.borrow().clone());
        let running = rt
            .block_on(mock::spawn(config.clone()))
            .expect("spawn the mock");
        let creds = Credentials {
            user: mock::DEFAULT_USER.into(),
            password: Secret::new(mock::DEFAULT_PASSWORD),
        };
        let client =
            Client::new(Some(creds), Limits::default(), &TlsConfig::default()).expect("client");
        let el = element::Endpoint::parse(&running.urls.element).expect("element url");
        let um = aiqum::Endpoint::parse(&running.urls.aiqum).expect("aiqum url");
        let control = running.urls.control.clone();
        let mut sut = Sut {
            config,
            rt,
            mock: Some(running),
            client,
            el,
            um,
            control,
            handles: Vec::new(),
            keys: Vec::new(),
            history: Vec::new(),
            el_baseline: BTreeSet::new(),
            source_volume: 0,
            clone_ids: HashMap::new(),
            prev: Model::default(),
            payloads: HashMap::new(),
            times: HashMap::new(),
            follow: None,
            doing: "learn the initial state".into(),
            rpc_id: 0,
        };
        sut.learn();
        sut
    }

    /// Reads the AIQUM history and any Element handles a fresh mock has; creates the account and
    /// volume clones are made of.
    fn learn(&mut self) {
        let (status, body) = self.get("/management-server/jobs", &[("max_records", "1000")]);
        self.ensure(status == 200, "initial job list answers 200", &body);
        let records = body["records"].as_array().cloned().unwrap_or_default();
        self.ensure(
            body["total_records"].as_u64() == Some(records.len() as u64),
            "initial job list fits one page of 1000",
            &body,
        );
        self.history = records;
        let account = self.rpc("AddAccount", json!({"username": "model"}));
        let account = account["result"]["accountID"].as_u64();
        self.ensure(
            account.is_some(),
            "AddAccount gives an accountID",
            &Value::Null,
        );
        let params = json!({"name": "model-source", "accountID": account,
            "totalSize": 1_000_000_000u64, "enable512e": true});
        let volume = self.rpc("CreateVolume", params);
        let id = volume["result"]["volumeID"].as_u64();
        self.ensure(id.is_some(), "CreateVolume gives a volumeID", &volume);
        self.source_volume = id.unwrap_or_default();
        let list = self.rpc("ListAsyncResults", json!({}));
        let entries = list["result"]["asyncHandles"].as_array().cloned();
        self.ensure(entries.is_some(), "ListAsyncResults answers a list", &list);
        self.el_baseline = entries
            .unwrap_or_default()
            .iter()
            .filter_map(|e| e["asyncResultID"].as_u64())
            .collect();
    }

    /// Fails the test with the transition and the answer when `ok` is false.
    #[track_caller]
    pub fn ensure(&self, ok: bool, what: &str, answer: &Value) {
        if !ok {
            panic!(
                "model and mock disagree: {what}\n  while: {}\n  model now: {} ms\n  answer: {}",
                self.doing,
                self.prev.now,
                serde_json::to_string_pretty(answer).unwrap_or_default()
            );
        }
    }

    /// `assert_eq` with the context of [`Sut::ensure`].
    #[track_caller]
    pub fn same<T: PartialEq + std::fmt::Debug>(
        &self,
        actual: T,
        expected: T,
        what: &str,
        a: &Value,
    ) {
        if actual != expected {
            self.ensure(
                false,
                &format!("{what}: mock {actual:?}, model {expected:?}"),
                a,
            );
        }
    }

    fn exchange_json(&self, ex: &Exchange) -> (u16, Value) {
        match &ex.response {
            Ok(r) => (
                r.status,
                r.body
                    .json()
                    .cloned()
                    .unwrap_or_else(|| json!({"non-json body": format!("{:?}", r.body)})),
            ),
            Err(e) => panic!("no answer from the mock ({e}) while {}", self.doing),
        }
    }

    /// Runs a future on the paused runtime with auto-advance held off: while a blocking task is
    /// alive tokio does not jump the paused clock to the next timer, so the only way time passes
    /// is an explicit `Advance` (the request travels over real loopback sockets meanwhile).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(async {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            // Bounded: should an answer never come, auto-advance resumes after 30 s and the
            // request's own (virtual) timeout ends it.
            let hold = tokio::task::spawn_blocking(move || {
                let _ = rx.recv_timeout(Duration::from_secs(30));
            });
            let out = f.await;
            drop(tx);
            let _ = hold.await;
            out
        })
    }

    /// One Element call; returns the whole response object (EL-RPC-ENVELOPE checked).
    pub fn rpc(&mut self, method: &str, params: Value) -> Value {
        let mut answers = self.rpc_many(method, vec![params]);
        answers.pop().unwrap_or_default()
    }

    /// The same Element method called with each of `params` at once (one connection each);
    /// returns the response objects in order (EL-RPC-ENVELOPE checked).
    pub fn rpc_many(&mut self, method: &str, params: Vec<Value>) -> Vec<Value> {
        let mut ids = Vec::new();
        let mut calls = Vec::new();
        for p in params {
            self.rpc_id += 1;
            ids.push(json!(self.rpc_id));
            let call = element::Call {
                method,
                params: p,
                id: json!(self.rpc_id),
                auth: AuthMode::Default,
                version: None,
            };
            calls.push(element::call(&self.client, &self.el, call));
        }
        let exchanges = self.block_on(futures_util::future::join_all(calls));
        let mut out = Vec::new();
        for (ex, id) in exchanges.iter().zip(ids) {
            let (status, body) = self.exchange_json(ex);
            self.same(
                status,
                200,
                "Element answers HTTP 200 (EL-RPC-ERROR-HTTP)",
                &body,
            );
            self.same(
                &body["id"],
                &id,
                "id echoes the request (EL-RPC-ENVELOPE)",
                &body,
            );
            let one_of = body.get("result").is_some() != body.get("error").is_some();
            self.ensure(
                one_of,
                "exactly one of result and error (EL-RPC-ENVELOPE)",
                &body,
            );
            out.push(body);
        }
        out
    }

    /// One AIQUM GET of a path relative to `/api` or an `/api/...` href; returns status and body.
    pub fn get(&mut self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let query: Query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let r = aiqum::Request {
            query,
            ..aiqum::Request::get(path)
        };
        let ex = self.block_on(aiqum::request(&self.client, &self.um, r));
        let (status, body) = self.exchange_json(&ex);
        let ct = ex
            .response
            .as_ref()
            .ok()
            .and_then(|r| r.content_type.clone());
        let json = ct
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"));
        self.ensure(
            json,
            &format!("AIQUM answers application/json (UM-JSON), got {ct:?}"),
            &body,
        );
        (status, body)
    }

    /// POST a job script to the control API (`element` or `aiqum`); returns status and body.
    pub fn control(&mut self, api: &str, script: Value) -> (u16, Value) {
        let url = format!("{}/{api}/jobs", self.control);
        let fut = self.client.send(
            reqwest::Method::POST,
            &url,
            Some(SendBody::Json(script)),
            AuthMode::Default,
            Duration::ZERO,
        );
        let ex = self.block_on(fut);
        self.exchange_json(&ex)
    }

    /// The mock's clock must read exactly the model's time (no auto-advance, no rounding).
    fn check_clock(&self, model: &Model) {
        // Inside the runtime's context: outside it tokio's Instant reads the real clock.
        let _ctx = self.rt.enter();
        let now = self.mock.as_ref().map(|m| m.state.clock.now_ms());
        if now != Some(model.now) {
            panic!(
                "mock clock reads {now:?} ms but the model is at {} ms (after {})",
                model.now, self.doing
            );
        }
    }
}

/// Glue between the model and the SUT.
pub struct MockMachine;

impl StateMachineTest for MockMachine {
    type SystemUnderTest = Sut;
    type Reference = Model;

    fn init_test(_ref_state: &<Model as ReferenceStateMachine>::State) -> Sut {
        Sut::start()
    }

    fn apply(mut sut: Sut, model: &Model, t: Transition) -> Sut {
        sut.doing = format!("{t:?}");
        match &t {
            Transition::StartElement(script) => super::element::start(&mut sut, script),
            Transition::StartClone => super::element::start_clone(&mut sut),
            Transition::StartAiqum(script) => super::aiqum::start(&mut sut, script),
            Transition::GetAsync { handle, keep } => {
                super::element::get_async(&mut sut, *handle, *keep)
            }
            Transition::GetAsyncBad { handle, bad } => {
                super::element::get_async_bad(&mut sut, *handle, *bad)
            }
            Transition::GetAsyncRace {
                handle,
                clients,
                keep,
            } => super::element::get_async_race(&mut sut, *handle, *clients, *keep),
            Transition::ListAsync(types) => {
                super::element::list_async(&mut sut, model, types.as_deref())
            }
            Transition::GetJob { job, v2 } => super::aiqum::get_job(&mut sut, model, *job, *v2),
            Transition::ListJobs {
                v2,
                filter,
                max,
                offset,
            } => {
                let page = super::aiqum::Page {
                    v2: *v2,
                    filter: *filter,
                    max: *max,
                    offset: *offset,
                };
                super::aiqum::list_jobs(&mut sut, model, page)
            }
            Transition::NextPage => super::aiqum::next_page(&mut sut, model),
            Transition::WalkJobs(max) => super::aiqum::walk(&mut sut, model, *max),
            Transition::Advance(ms) => {
                // Target ms to real time; exact for the model's grid and a power-of-two scale.
                let d = Duration::from_secs_f64(*ms as f64 / 1000.0 / sut.config.time_scale);
                sut.rt.block_on(tokio::time::advance(d));
            }
        }
        sut.prev = model.clone();
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        sut.check_clock(model);
    }

    fn teardown(mut sut: Sut, _model: Model) {
        if let Some(m) = sut.mock.take() {
            sut.rt.block_on(m.stop());
        }
    }
}
