//! The state of one case run and the helpers every step uses. A [`Run`] owns the variables in
//! scope, the growing outcome (transcript, findings, notes and the typed facts other modules
//! read), the per-handle [`History`], the AIQUM removals [`Pending`] their jobs' names, and
//! request ids. Sending with retries is [`super::send`]'s; each answer is recorded here, then
//! the automatic per-observation checks of `check::element` / `check::aiqum` run on it. Knows
//! nothing about step kinds (that is `steps`). Fields are private: steps go through methods.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::{Value, json};

use super::history::History;
use super::pending::Pending;
use super::send::{self, ElCall, Sent};
use super::{Capabilities, Watcher};
use crate::case::template::{self, Vars};
use crate::case::{Api, AuthMode, Case, Expect};
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

/// What a run has produced so far (taken by `exec::run_case` at the end).
#[derive(Debug, Default)]
pub struct Produced {
    /// Every exchange, in order.
    pub transcript: Vec<Exchange>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Notes for people.
    pub notes: Vec<String>,
    /// Transcript ranges of `concurrent` groups.
    pub concurrent: Vec<Range<usize>>,
    /// Transcript ranges of target-wide setup this case sent for every case.
    pub shared_setup: Vec<Range<usize>>,
    /// The per-observation rules the observations exercised.
    pub observed: Vec<String>,
    /// The Element dialect an unknown-handle answer showed (the first one).
    pub element_dialect: Option<crate::check::ElementDialect>,
}

/// One case run on one target.
pub struct Run<'a> {
    target: &'a Target,
    caps: &'a Capabilities,
    case: &'a Case,
    watcher: &'a dyn Watcher,
    vars: Vars,
    out: Produced,
    history: History,
    pending: Pending,
    scratch_volume: Option<i64>,
    next_id: i64,
}

impl<'a> Run<'a> {
    /// A fresh run.
    pub fn new(
        target: &'a Target,
        caps: &'a Capabilities,
        case: &'a Case,
        watcher: &'a dyn Watcher,
    ) -> Run<'a> {
        let mut vars = Vars::new();
        if let Some(ep) = &target.element {
            vars.insert("version".into(), Value::String(ep.version.clone()));
        }
        Run {
            target,
            caps,
            case,
            watcher,
            vars,
            out: Produced::default(),
            history: History::default(),
            pending: Pending::default(),
            scratch_volume: None,
            next_id: 1,
        }
    }

    /// Where the case runs.
    pub fn target(&self) -> &'a Target {
        self.target
    }

    /// What the target offers.
    pub fn caps(&self) -> &'a Capabilities {
        self.caps
    }

    /// The case.
    pub fn case(&self) -> &'a Case {
        self.case
    }

    /// Who is told about the run's polls.
    pub fn watcher(&self) -> &'a dyn Watcher {
        self.watcher
    }

    /// Binds a variable.
    pub fn set_var(&mut self, name: &str, v: Value) {
        self.vars.insert(name.to_string(), v);
    }

    /// The per-handle history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Work `key` was started now (see [`History::began`]).
    pub fn began(&mut self, key: &str) {
        self.history.began(key);
    }

    /// The scratch volume clones of this case come from, once made.
    pub fn scratch_volume(&self) -> Option<i64> {
        self.scratch_volume
    }

    /// Sets the scratch volume.
    pub fn set_scratch_volume(&mut self, id: i64) {
        self.scratch_volume = Some(id);
    }

    /// Every exchange so far.
    pub fn transcript(&self) -> &[Exchange] {
        &self.out.transcript
    }

    /// How many findings so far (to tell whether a step added one).
    pub fn finding_count(&self) -> usize {
        self.out.findings.len()
    }

    /// Adds a finding.
    pub fn fail(&mut self, f: Finding) {
        self.out.findings.push(f);
    }

    /// Adds a note once.
    pub fn note(&mut self, n: impl Into<String>) {
        let n = n.into();
        if !self.out.notes.contains(&n) {
            self.out.notes.push(n);
        }
    }

    /// Marks transcript `range` as one `concurrent` group.
    pub fn mark_concurrent(&mut self, range: Range<usize>) {
        self.out.concurrent.push(range);
    }

    /// Marks transcript `range` as target-wide setup (left out of snapshots).
    pub fn mark_shared_setup(&mut self, range: Range<usize>) {
        self.out.shared_setup.push(range);
    }

    /// Takes a judgement's findings and notes; its inconclusive reason becomes a [`Stop`].
    pub fn absorb(&mut self, j: Judgement) -> StepResult {
        self.out.findings.extend(j.findings);
        if self.out.element_dialect.is_none() {
            self.out.element_dialect = j.element_dialect;
        }
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
            .map(|e| e.map_values(|v| self.expand(v)))
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
        self.out.transcript.push(ex);
        match unreachable {
            Some(e) => Err(Stop::Harness(format!("reach the target: failed to {e}"))),
            None => Ok(self.out.transcript.len() - 1),
        }
    }

    /// Records every attempt of a request (a note for each one resent); the last one's index.
    fn record_sent(&mut self, sent: Sent, what: &str) -> Result<usize, Stop> {
        for why in sent.retried {
            self.note(format!("CL-TRANSIENT: {what} retried after {why}"));
        }
        let mut last = None;
        for ex in sent.attempts {
            last = Some(self.record(ex)?);
        }
        last.ok_or_else(|| Stop::Harness(format!("send {what}: no attempt was made")))
    }

    /// The exchange at `i`.
    pub fn ex(&self, i: usize) -> &Exchange {
        &self.out.transcript[i]
    }

    /// Evaluates expectations (already expanded) on the answer at `i`, or on `body` instead of
    /// the answer's JSON.
    pub fn judge(&mut self, expects: &[Expect], i: usize, body: Option<&Value>) -> StepResult {
        if expects.is_empty() {
            return Ok(());
        }
        let ex = &self.out.transcript[i];
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
    pub fn element_ep(&self) -> Result<&'a element::Endpoint, Stop> {
        self.target
            .element
            .as_ref()
            .ok_or_else(|| Stop::Skip("the target has no Element endpoint".into()))
    }

    /// The target's AIQUM endpoint, or a skip when it has none.
    pub fn aiqum_ep(&self) -> Result<&'a aiqum::Endpoint, Stop> {
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
        let mut next_id = self.next_id;
        let sent = send::element(self.target, ep, &call, &mut || {
            next_id += 1;
            json!(next_id - 1)
        })
        .await;
        self.next_id = next_id;
        let i = self.record_sent(sent, call.method)?;
        self.element_checks(i, call.raw.is_some());
        Ok(i)
    }

    /// The automatic Element checks on the answer at `i`.
    pub fn element_checks(&mut self, i: usize, raw: bool) {
        let ex = &self.out.transcript[i];
        let mut found = check::element::automatic(ex, raw, self.history.element_mut());
        for f in &mut found {
            f.exchange.get_or_insert(i);
        }
        self.out.findings.extend(found);
    }

    /// Sends one AIQUM request, records it and runs the per-observation checks when it reads a
    /// job by key.
    pub async fn um_request(&mut self, r: aiqum::Request<'_>) -> Result<usize, Stop> {
        let ep = self.aiqum_ep()?;
        let sent = send::aiqum(self.target, ep, &r).await;
        let i = self.record_sent(sent, &format!("{} {}", r.method, r.path))?;
        let ex = &self.out.transcript[i];
        if ex.request.method == "GET"
            && ex.request.auth == AuthMode::Default
            && let Some(key) = job_key_of(&ex.request.url)
        {
            self.aiqum_checks(i, &key);
        }
        Ok(i)
    }

    /// The automatic AIQUM per-observation checks on the answer at `i`, a read of job `key`;
    /// the job may name an object a pending removal waits for.
    pub fn aiqum_checks(&mut self, i: usize, key: &str) {
        let ex = &self.out.transcript[i];
        let (j, job) = check::aiqum::automatic(key, ex, self.history.aiqum_mut());
        let _ = self.absorb(j.in_exchange(i));
        if let Some(job) = job {
            self.pending.resolve(key, &job, &self.target.ledger);
        }
    }

    /// The automatic checks of `api` on the answer at `i` (a poll's observation of `key`).
    pub fn observation_checks(&mut self, api: Api, i: usize, key: &str) {
        match api {
            Api::Element => self.element_checks(i, false),
            Api::Aiqum => self.aiqum_checks(i, key),
        }
    }

    /// Job `key` creates an object that `how` removes once the job names it.
    pub fn expect_removal(&mut self, key: &str, how: AiqumCleanup) {
        self.pending.expect(key, how);
    }

    /// Ends the run: the removals no job named go to the ledger, and what the run produced is
    /// handed over.
    pub fn finish(mut self) -> Produced {
        for n in self.pending.hand_over(&self.target.ledger) {
            self.out.notes.push(n);
        }
        self.out.observed = self.history.observed_rules();
        self.out
    }
}

/// The job key of a URL that reads one job (`.../management-server/jobs/{key}`), percent-decoded.
pub fn job_key_of(url: &str) -> Option<String> {
    let path = reqwest::Url::parse(url).ok()?.path().to_string();
    let (_, rest) = path.split_once("/management-server/jobs/")?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    Some(aiqum::decode(rest))
}
