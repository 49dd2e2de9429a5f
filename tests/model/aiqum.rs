//! AIQUM transitions of the model test: start a scripted job through the control API, read jobs
//! by key (started, history, unknown) and read the job list by pages, compared with the model
//! (CONTRACT.md §4, register U1 in either dialect, U2, U4). The history a fresh mock has is
//! learned once by the SUT; the model only adds that it never changes (UM-TERMINAL-ABSORBING) and
//! that every started job is newer than it. Timestamps are checked for shape and order only.

use serde_json::Value;

use jobconform::mock::AiqumDialect;
use jobconform::mock::script::{JobScript, Outcome};

use super::reference::{JobFilter, JobRef, Model, UmView};
use super::sut::{Follow, Sut};

/// Default page size (UM-LIST-DEFAULT).
const DEFAULT_MAX: usize = 20;

/// A record the model expects in the list.
#[derive(Clone, Copy, Debug)]
enum Row {
    Started(usize),
    History(usize),
}

/// `POST /_jobconform/aiqum/jobs` -> `{"key": "..."}`, a fresh key.
pub fn start(sut: &mut Sut, script: &JobScript) {
    let body = serde_json::to_value(script).expect("script serializes");
    let (status, answer) = sut.control("aiqum", body);
    sut.ensure(
        (200..300).contains(&status),
        "control API starts an AIQUM job",
        &answer,
    );
    let key = answer["key"].as_str().unwrap_or_default().to_string();
    sut.ensure(!key.is_empty(), "key is a non-empty string", &answer);
    let reused = sut.keys.contains(&key) || sut.history.iter().any(|r| r["key"] == key.as_str());
    sut.ensure(!reused, "a new job gets a new key", &answer);
    sut.keys.push(key);
}

/// Every record of the list, newest first, that matches `filter` now.
fn rows(sut: &Sut, model: &Model, filter: Option<JobFilter>) -> Vec<Row> {
    let started = model.jobs_newest_first().into_iter().map(Row::Started);
    let all = started.chain((0..sut.history.len()).map(Row::History));
    all.filter(|&row| filter.is_none_or(|f| matches(sut, model, row, f)))
        .collect()
}

/// Whether a row's current state or status is the filter's value (compared without case, U4).
fn matches(sut: &Sut, model: &Model, row: Row, f: JobFilter) -> bool {
    let value = match row {
        Row::Started(i) => {
            let view = model.jobs[i].view(model.now);
            if f.field == "state" {
                view.state
            } else {
                view.status
            }
        }
        Row::History(j) => sut.history[j][f.field]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    value.eq_ignore_ascii_case(f.value)
}

fn iso(v: &Value) -> Option<jiff::Timestamp> {
    v.as_str()?.parse().ok()
}

const FOUR: [&str; 4] = ["NORMAL", "WARNING", "PARTIAL_FAILURES", "ERROR"];

/// Whether a served job is terminal, by the dialect's rule (register U1).
fn terminal(literal: bool, job: &Value) -> bool {
    let state = job["state"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match literal {
        true => matches!(state.as_str(), "NORMAL" | "ERROR" | "PARTIAL_FAILURES"),
        false => matches!(state.as_str(), "COMPLETED" | "ABORTED"),
    }
}

/// The literal-dialect `state` the model expects (register U1, U2): `None` for "any value that
/// is not terminal" (a running step without a warning) and for "any terminal value" (a job that
/// finished with a warning, which the literal dialect cannot say).
fn literal_state(view: &UmView, outcome: Outcome) -> Option<&'static str> {
    match (view.terminal, outcome) {
        (false, _) => (view.status == "warning").then_some("WARNING"),
        (true, Outcome::Success) => Some("NORMAL"),
        (true, Outcome::Failure | Outcome::Aborted) => Some("ERROR"),
        (true, Outcome::PartialFailures) => Some("PARTIAL_FAILURES"),
        (true, Outcome::Warning) => None,
    }
}

/// UM-JOB-SHAPE, UM-JOB-STATUS, UM-JOB-TIMES, then the model's facts for this row.
fn check_job(sut: &Sut, model: &Model, row: Row, job: &Value) {
    let literal = sut.config.aiqum_dialect == AiqumDialect::Literal;
    let key = job["key"].as_str();
    sut.ensure(key.is_some(), "key is a string (UM-JOB-SHAPE)", job);
    let key = key.unwrap_or_default();
    let href = job["_links"]["self"]["href"].as_str().unwrap_or_default();
    let tail = format!("/management-server/jobs/{key}");
    let linked = href.starts_with("/api/") && href.ends_with(&tail);
    sut.ensure(linked, "_links.self.href names the job (UM-JOB-SHAPE)", job);
    let (state, status) = (job["state"].as_str(), job["status"].as_str());
    sut.ensure(state.is_some(), "state is a string (UM-JOB-SHAPE)", job);
    if literal {
        let none = job.get("status").is_none();
        sut.ensure(none, "literal dialect: no status member (register U1)", job);
    } else {
        let upper = status.map(str::to_ascii_uppercase);
        let valid = upper.as_deref().is_some_and(|s| FOUR.contains(&s));
        sut.ensure(valid, "status is one of the four (UM-JOB-STATUS)", job);
    }
    let submitted = iso(&job["submit_time"]);
    sut.ensure(
        submitted.is_some(),
        "submit_time is ISO 8601 (UM-JOB-TIMES)",
        job,
    );
    match row {
        Row::History(j) => {
            let h = &sut.history[j];
            let hkey = h["key"].as_str().unwrap_or_default();
            sut.same(key, hkey, "history key", job);
            if terminal(literal, h) {
                let same = (state, status) == (h["state"].as_str(), h["status"].as_str());
                let what = "a finished history job never changes (UM-TERMINAL-ABSORBING)";
                sut.ensure(same, what, job);
            }
        }
        Row::Started(i) => {
            let script = &model.jobs[i].script;
            let view = model.jobs[i].view(model.now);
            sut.same(key, sut.keys[i].as_str(), "key", job);
            if literal {
                let what = "terminal by the literal rule (register U1, U2)";
                sut.same(terminal(true, job), view.terminal, what, job);
                if let Some(want) = literal_state(&view, script.outcome) {
                    let got = state.map(str::to_ascii_uppercase);
                    sut.same(
                        got.as_deref(),
                        Some(want),
                        "literal state (U1, U2, U4)",
                        job,
                    );
                }
            } else {
                let what = "state (register U1 split dialect)";
                sut.same(state, Some(view.state.as_str()), what, job);
                let what = "status (register U1, U2)";
                sut.same(status, Some(view.status.as_str()), what, job);
            }
            let name = script.name.as_deref().unwrap_or("Scripted job");
            sut.same(job["name"].as_str(), Some(name), "name", job);
            let done = iso(&job["complete_time"]);
            sut.same(
                done.is_some(),
                view.terminal,
                "complete_time once finished",
                job,
            );
            let ordered = done.is_none() || done >= submitted;
            sut.ensure(ordered, "complete_time >= submit_time (UM-JOB-TIMES)", job);
            let normal = view.terminal && view.status == "normal";
            if let (Some(r), true) = (&script.result, normal) {
                let what = "job_results of a NORMAL job (UM-RESULTS)";
                sut.same(&job["job_results"], r, what, job);
            }
        }
    }
}

/// The jobs collection under `/api` (as a path relative to the endpoint) or `/api/v2`.
fn jobs_path(v2: bool) -> &'static str {
    match v2 {
        true => "/api/v2/management-server/jobs",
        false => "/management-server/jobs",
    }
}

/// `GET /api[/v2]/management-server/jobs/{key}`.
pub fn get_job(sut: &mut Sut, model: &Model, which: JobRef, v2: bool) {
    let (row, key) = match which {
        JobRef::Started(i) => (Some(Row::Started(i)), sut.keys[i].clone()),
        JobRef::History(j) if !sut.history.is_empty() => {
            let j = usize::from(j) % sut.history.len();
            let key = sut.history[j]["key"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (Some(Row::History(j)), key)
        }
        JobRef::History(_) => return,
        JobRef::Unknown(k) => (None, format!("0000000000000000:-1:0:-{k:x}")),
    };
    let (status, answer) = sut.get(&format!("{}/{key}", jobs_path(v2)), &[]);
    match row {
        None => {
            sut.same(
                status,
                404,
                "unknown key answers 404 (UM-KEY-UNKNOWN)",
                &answer,
            );
            let msg = answer["error"]["message"].is_string();
            sut.ensure(
                msg,
                "error body with a string message (UM-ERROR-SHAPE)",
                &answer,
            );
        }
        Some(row) => {
            sut.same(
                status,
                200,
                "a job is read with 200 (UM-FAILED-IS-200, UM-KEY-RETAINED)",
                &answer,
            );
            check_job(sut, model, row, &answer);
        }
    }
}

/// Checks one list answer as the page at `offset` of size `max` of the records matching
/// `filter`; returns the next href, if any.
fn check_page(sut: &Sut, model: &Model, answer: &Value, f: &Follow) -> Option<String> {
    let (max, offset) = (f.max, f.offset);
    let all = rows(sut, model, f.filter);
    let end = all.len().min(offset.saturating_add(max));
    let want = all.get(offset..end).unwrap_or_default();
    let records = answer["records"].as_array().cloned().unwrap_or_default();
    sut.ensure(
        answer["records"].is_array(),
        "records is an array (UM-LIST-SHAPE)",
        answer,
    );
    let num = answer["num_records"].as_u64();
    sut.same(
        num,
        Some(records.len() as u64),
        "num_records == len(records) (UM-LIST-SHAPE)",
        answer,
    );
    let total = answer["total_records"].as_u64();
    sut.same(total, Some(all.len() as u64), "total_records", answer);
    sut.ensure(
        answer["_links"].is_object(),
        "_links (UM-LIST-SHAPE)",
        answer,
    );
    let keys: Vec<&str> = records
        .iter()
        .map(|r| r["key"].as_str().unwrap_or("?"))
        .collect();
    let want_keys: Vec<&str> = want.iter().map(|r| row_key(sut, *r)).collect();
    sut.same(
        keys,
        want_keys,
        "page records, newest first (UM-LIST-ORDER, UM-LIST-PAGES, UM-LIST-FILTER)",
        answer,
    );
    for (row, rec) in want.iter().zip(&records) {
        check_job(sut, model, *row, rec);
    }
    let times: Vec<Option<jiff::Timestamp>> =
        records.iter().map(|r| iso(&r["submit_time"])).collect();
    let newest_first = times.windows(2).all(|w| w[0] >= w[1]);
    sut.ensure(
        newest_first,
        "submit_time never increases down a page (UM-LIST-ORDER)",
        answer,
    );
    let next = answer["_links"]["next"]["href"]
        .as_str()
        .map(str::to_string);
    let more = end < all.len();
    sut.same(
        next.is_some(),
        more,
        "a next link unless this is the last page (UM-LIST-PAGES)",
        answer,
    );
    next
}

fn row_key(sut: &Sut, row: Row) -> &str {
    match row {
        Row::Started(i) => &sut.keys[i],
        Row::History(j) => sut.history[j]["key"].as_str().unwrap_or("?"),
    }
}

/// A list request.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    /// Under `/api/v2`.
    pub v2: bool,
    /// A `state` or `status` filter.
    pub filter: Option<JobFilter>,
    /// `max_records`.
    pub max: Option<usize>,
    /// `offset`.
    pub offset: Option<usize>,
}

/// `GET /api[/v2]/management-server/jobs[?max_records=N][&offset=K][&state|status=V]`. In the
/// literal dialect the filter is left out: what `state`/`status` filters match there is not
/// decided by the register (U1 has no `status` member).
pub fn list_jobs(sut: &mut Sut, model: &Model, page: Page) {
    let literal = sut.config.aiqum_dialect == AiqumDialect::Literal;
    let filter = page.filter.filter(|_| !literal);
    let (m, o) = (
        page.max.map(|n| n.to_string()),
        page.offset.map(|k| k.to_string()),
    );
    let mut query = Vec::new();
    if let Some(m) = &m {
        query.push(("max_records", m.as_str()));
    }
    if let Some(o) = &o {
        query.push(("offset", o.as_str()));
    }
    if let Some(f) = filter {
        query.push((f.field, f.value));
    }
    let (status, answer) = sut.get(jobs_path(page.v2), &query);
    sut.same(status, 200, "the list answers 200 (UM-LIST-SHAPE)", &answer);
    let asked = Follow {
        href: String::new(),
        max: page.max.unwrap_or(DEFAULT_MAX),
        offset: page.offset.unwrap_or(0),
        filter,
    };
    follow_from(sut, model, &answer, asked);
}

/// Checks a page and remembers its next link with the page the model expects behind it.
fn follow_from(sut: &mut Sut, model: &Model, answer: &Value, asked: Follow) {
    let next = check_page(sut, model, answer, &asked);
    let n = answer["num_records"].as_u64().unwrap_or(0) as usize;
    sut.follow = next.map(|href| Follow {
        href,
        offset: asked.offset + n,
        ..asked
    });
}

/// Follows the last list answer's `_links.next.href` verbatim (nothing when it had none).
pub fn next_page(sut: &mut Sut, model: &Model) {
    let Some(f) = sut.follow.take() else { return };
    let (status, answer) = sut.get(&f.href, &[]);
    sut.same(
        status,
        200,
        "a next link answers 200 (UM-LIST-PAGES)",
        &answer,
    );
    follow_from(sut, model, &answer, f);
}

/// Walks every page from the first: every job exactly once, the last page without `next`.
pub fn walk(sut: &mut Sut, model: &Model, max: Option<usize>) {
    let total = rows(sut, model, None).len();
    let page = Page {
        v2: false,
        filter: None,
        max,
        offset: None,
    };
    list_jobs(sut, model, page);
    for _ in 0..total + 2 {
        if sut.follow.is_none() {
            return;
        }
        next_page(sut, model);
    }
    let what = "the walk ends within one page per job (UM-LIST-PAGES)";
    sut.ensure(false, what, &Value::Null);
}
