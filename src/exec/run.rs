//! The state of one case run (variables, transcript, findings, notes, the observations of each
//! handle and job) and the sending helpers every step uses: each answer is recorded, then the
//! automatic per-answer checks of `check::element` / `check::aiqum` run on it. Knows nothing about
//! step kinds (that is `steps`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Capabilities, retry};
use crate::case::template::{self, Vars};
use crate::case::{AuthMode, Case, Expect};
use crate::check::expect::{Subject, evaluate};
use crate::check::{self, Finding, Judgement};
use crate::target::{AiqumCleanup, Target};
use crate::transport::{Exchange, aiqum, element};

/// Why the steps stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The case cannot run here.
    Skip(String),
    /// A precondition failed; the case's rules are neither passed nor failed.
    Inconclusive(String),
    /// The harness could not do its job.
    Harness(String),
    /// A finding already says why nothing more can be done (e.g. a missed deadline).
    Halt,
    /// The work did not show what the case needs (a clone already complete at its first query,
    /// a job already ended): inconclusive, and on a live target tried again with fresh work.
    Unseen(String),
}

/// What a step returns.
pub type StepResult = Result<(), Stop>;

/// One case run on one target.
pub struct Run<'a> {
    /// Where.
    pub target: &'a Target,
    /// What the target offers.
    pub caps: &'a Capabilities,
    /// The case.
    pub case: &'a Case,
    /// Variables in scope.
    pub vars: Vars,
    /// Every exchange, in order.
    pub transcript: Vec<Exchange>,
    /// Findings so far.
    pub findings: Vec<Finding>,
    /// Notes so far.
    pub notes: Vec<String>,
    /// GetAsyncResult observations (nested `result` objects) per handle (as text).
    pub element_obs: BTreeMap<String, Vec<Value>>,
    /// AIQUM job observations per key.
    pub aiqum_obs: BTreeMap<String, Vec<Value>>,
    /// AIQUM jobs whose created object must be removed once job_results name it.
    pub pending_cleanup: BTreeMap<String, AiqumCleanup>,
    /// Source volume for clones in this case.
    pub scratch_volume: Option<i64>,
    /// When each handle or job key was started by this case (its answer arrived).
    pub started: BTreeMap<String, tokio::time::Instant>,
    next_id: i64,
}

impl<'a> Run<'a> {
    /// A fresh run.
    pub fn new(target: &'a Target, caps: &'a Capabilities, case: &'a Case) -> Run<'a> {
        let mut vars = Vars::new();
        if let Some(ep) = &target.element {
            vars.insert("version".into(), Value::String(ep.version.clone()));
        }
        Run {
            target,
            caps,
            case,
            vars,
            transcript: Vec::new(),
            findings: Vec::new(),
            notes: Vec::new(),
            element_obs: BTreeMap::new(),
            aiqum_obs: BTreeMap::new(),
            pending_cleanup: BTreeMap::new(),
            scratch_volume: None,
            started: BTreeMap::new(),
            next_id: 1,
        }
    }

    /// Adds a note once.
    pub fn note(&mut self, n: impl Into<String>) {
        let n = n.into();
        if !self.notes.contains(&n) {
            self.notes.push(n);
        }
    }

    /// Takes a judgement's findings and notes; its inconclusive reason becomes a [`Stop`].
    pub fn absorb(&mut self, j: Judgement) -> StepResult {
        self.findings.extend(j.findings);
        for n in j.notes {
            self.note(n);
        }
        match j.inconclusive {
            Some(r) => Err(Stop::Inconclusive(r)),
            None => Ok(()),
        }
    }

    /// Expands templates in a value.
    pub fn expand(&self, v: &Value) -> Result<Value, Stop> {
        template::expand(v, &self.vars).map_err(|e| Stop::Harness(e.to_string()))
    }

    /// Expands the templated parts of expectations.
    pub fn expand_expects(&self, list: &[Expect]) -> Result<Vec<Expect>, Stop> {
        list.iter()
            .map(|e| {
                let mut e = e.clone();
                if let Some(v) = &e.equals {
                    e.equals = Some(self.expand(v)?);
                }
                if let Some(v) = &e.one_of {
                    e.one_of = Some(v.iter().map(|x| self.expand(x)).collect::<Result<_, _>>()?);
                }
                Ok(e)
            })
            .collect()
    }

    /// Records an exchange; an unreachable target stops the case as a harness error.
    pub fn record(&mut self, ex: Exchange) -> Result<usize, Stop> {
        let unreachable = ex
            .response
            .as_ref()
            .err()
            .filter(|e| e.is_unreachable())
            .cloned();
        self.transcript.push(ex);
        match unreachable {
            Some(e) => Err(Stop::Harness(format!("reach the target: failed to {e}"))),
            None => Ok(self.transcript.len() - 1),
        }
    }

    /// The exchange at `i`.
    pub fn ex(&self, i: usize) -> &Exchange {
        &self.transcript[i]
    }

    /// Evaluates expectations (already expanded) on the answer at `i`, or on `body` instead of
    /// the answer's JSON.
    pub fn judge(&mut self, expects: &[Expect], i: usize, body: Option<&Value>) -> StepResult {
        if expects.is_empty() {
            return Ok(());
        }
        let ex = &self.transcript[i];
        let subject = Subject {
            exchange: ex,
            index: i,
            body: body.or(ex.json()),
            time_scale: self.target.time_scale(),
        };
        let mut j = evaluate(expects, &subject);
        if let Some(reason) = j.inconclusive.take() {
            // A precondition about this answer failed: the other expectations about it are moot,
            // and the work did not show what the case needs.
            for n in j.notes {
                self.note(n);
            }
            return Err(Stop::Unseen(reason));
        }
        self.absorb(j)
    }

    /// Captures variables from `body` (name -> pointer); a missing value is a failed
    /// precondition.
    pub fn capture(&mut self, caps: &BTreeMap<String, String>, body: Option<&Value>) -> StepResult {
        for (name, ptr) in caps {
            match body.and_then(|b| b.pointer(ptr)) {
                Some(v) => {
                    self.vars.insert(name.clone(), v.clone());
                }
                None => {
                    return Err(Stop::Inconclusive(format!(
                        "capture {name}: nothing at {ptr} in the answer"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The target's Element endpoint, or a skip when it has none.
    pub(super) fn element_ep(&self) -> Result<&'a element::Endpoint, Stop> {
        self.target
            .element
            .as_ref()
            .ok_or_else(|| Stop::Skip("the target has no Element endpoint".into()))
    }

    /// The target's AIQUM endpoint, or a skip when it has none.
    pub(super) fn aiqum_ep(&self) -> Result<&'a aiqum::Endpoint, Stop> {
        self.target
            .aiqum
            .as_ref()
            .ok_or_else(|| Stop::Skip("the target has no AIQUM endpoint".into()))
    }

    /// A fresh integer request id.
    pub fn fresh_id(&mut self) -> Value {
        self.next_id += 1;
        json!(self.next_id - 1)
    }

    /// Sends one Element call (or raw body), records it and runs the automatic checks.
    pub async fn el_call(&mut self, call: ElCall<'_>) -> Result<usize, Stop> {
        let ep = self.element_ep()?;
        let client = self.target.client.clone();
        // The mock injects its faults before processing, so resending a write is harmless there.
        let idempotent = retry::element_read_only(call.method) || self.target.is_mock();
        let pause = self.target.real(retry::PAUSE_MS);
        let mut retry = retry::Retry::new(retry::ATTEMPTS, pause, 1.0, idempotent);
        loop {
            let ex = match &call.raw {
                Some(raw) => {
                    element::call_raw(&client, ep, raw.clone(), call.auth, call.version).await
                }
                None => {
                    let id = match &call.id {
                        Some(id) => id.clone(),
                        None => self.fresh_id(),
                    };
                    let c = element::Call {
                        method: call.method,
                        params: call.params.clone(),
                        id,
                        auth: call.auth,
                        version: call.version,
                    };
                    element::call(&client, ep, c).await
                }
            };
            let again = retry.after(&ex);
            let i = self.record(ex)?;
            match again {
                Some((why, pause)) => {
                    self.note(format!("CL-TRANSIENT: {} retried after {why}", call.method));
                    tokio::time::sleep(pause).await;
                }
                None => {
                    self.element_checks(i, call.raw.is_some());
                    return Ok(i);
                }
            }
        }
    }

    /// The automatic Element checks on the answer at `i`.
    pub fn element_checks(&mut self, i: usize, raw: bool) {
        let mut found = check::element::automatic(&self.transcript[i], raw, &mut self.element_obs);
        for f in &mut found {
            f.exchange.get_or_insert(i);
        }
        self.findings.extend(found);
    }

    /// Sends one AIQUM request, records it and runs the per-observation checks when it reads a
    /// job by key.
    pub async fn um_request(&mut self, r: aiqum::Request<'_>) -> Result<usize, Stop> {
        let ep = self.aiqum_ep()?;
        let idempotent = r.method == reqwest::Method::GET || self.target.is_mock();
        let pause = self.target.real(retry::PAUSE_MS);
        let mut retry = retry::Retry::new(retry::ATTEMPTS, pause, 1.0, idempotent);
        let i = loop {
            let ex = aiqum::request(&self.target.client, ep, r.clone()).await;
            let again = retry.after(&ex);
            let i = self.record(ex)?;
            match again {
                Some((why, pause)) => {
                    self.note(format!(
                        "CL-TRANSIENT: {} {} retried after {why}",
                        r.method, r.path
                    ));
                    tokio::time::sleep(pause).await;
                }
                None => break i,
            }
        };
        let ex = &self.transcript[i];
        if ex.request.method == "GET"
            && ex.request.auth == AuthMode::Default
            && let Some(key) = job_key_of(&ex.request.url)
        {
            self.aiqum_checks(i, &key);
        }
        Ok(i)
    }

    /// The automatic AIQUM per-observation checks on the answer at `i`, a read of job `key`.
    pub fn aiqum_checks(&mut self, i: usize, key: &str) {
        let (j, job) = check::aiqum::automatic(key, &self.transcript[i], &mut self.aiqum_obs);
        let _ = self.absorb(j.in_exchange(i));
        if let Some(job) = job {
            self.resolve_cleanup(key, &job);
        }
    }

    /// Registers the cleanup of an AIQUM object once its job's `job_results` name it.
    fn resolve_cleanup(&mut self, key: &str, job: &Value) {
        let Some(c) = self.pending_cleanup.get(key) else {
            return;
        };
        let Some(path) = crate::cleanup::resolve_path(&c.path, job) else {
            return;
        };
        let created = crate::cleanup::Created::AiqumObject {
            method: c.method.clone(),
            path,
        };
        self.target.ledger.record(created);
        self.pending_cleanup.remove(key);
    }

    /// Hands the objects of AIQUM jobs that never named them to the ledger (read once more at
    /// cleanup, else listed as left behind), so that nothing is forgotten.
    pub fn hand_over_pending(&mut self) {
        for (job, c) in std::mem::take(&mut self.pending_cleanup) {
            self.notes.push(format!(
                "job {job} never named its object while the case ran: cleanup reads it once more"
            ));
            self.target
                .ledger
                .record(crate::cleanup::Created::AiqumPending {
                    job,
                    method: c.method,
                    path: c.path,
                });
        }
    }
}

/// One Element call to send.
#[derive(Debug, Clone)]
pub struct ElCall<'a> {
    /// Method.
    pub method: &'a str,
    /// Params (expanded).
    pub params: Value,
    /// Request id (`None`: a fresh integer).
    pub id: Option<Value>,
    /// Authentication.
    pub auth: AuthMode,
    /// Version override.
    pub version: Option<&'a str>,
    /// Raw body instead of a request object.
    pub raw: Option<String>,
}

impl<'a> ElCall<'a> {
    /// A plain call with default auth.
    pub fn new(method: &'a str, params: Value) -> ElCall<'a> {
        ElCall {
            method,
            params,
            id: None,
            auth: AuthMode::Default,
            version: None,
            raw: None,
        }
    }
}

/// The job key of a URL that reads one job (`.../management-server/jobs/{key}`), percent-decoded.
pub fn job_key_of(url: &str) -> Option<String> {
    let path = reqwest::Url::parse(url).ok()?.path().to_string();
    let (_, rest) = path.split_once("/management-server/jobs/")?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(crate::snapshot::percent_decode(rest))
}
