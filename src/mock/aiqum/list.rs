//! `GET /management-server/jobs`: the job list. Filters (`key`, `name`, `state`, `status`,
//! `submit_time`, `complete_time`: exact on the served value, case-insensitive, `|` for OR and `*`
//! as wildcard), ordering (`order_by=<field>[ asc|desc]` on `key`, `name`, `state`, `status`,
//! `submit_time`, `complete_time`, or a bare `order_by=asc|desc` on `submit_time` as NetApp's
//! AIQUM PowerShell module sends it, register U7; default newest-submitted first, ties by creation
//! sequence), pagination (`max_records` 1..; capped at 1000, default 20; `offset` >= 0;
//! `_links.next.href` is a full `/api...` path carrying every parameter). Any other query
//! parameter (a filter the mock does not serve, such as `type`, or `fields`) is refused with a 400
//! naming it, never ignored. In the literal dialect (no `status` member) the `status` filter
//! matches `state`. Deviations served here: `list-num-records-wrong`, `list-oldest-first`,
//! `list-default-all`, `pages-overlap`, `list-ignores-filters`. The route serves
//! [`answer_bytes`], the answer as compact JSON bytes, which also fills the state's list memo
//! (the test-only oracle `list_equiv.rs` checks those bytes against the original algorithm). The
//! caller locks and passes `now`.

use super::super::MockConfig;
use super::Job;
use super::jobs::{self, Segment};
use super::reply::encode;
use crate::mock::Deviation;

/// Default page size.
pub const DEFAULT_MAX: usize = 20;
/// Largest page.
pub const CAP: usize = 1000;
/// Fields `order_by` accepts.
pub const ORDER_FIELDS: &[&str] = &[
    "key",
    "name",
    "state",
    "status",
    "submit_time",
    "complete_time",
];
/// Fields the list filters on: the same as it orders by.
pub const FILTERS: &[&str] = ORDER_FIELDS;

/// A rejected list request (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuery(pub String);

#[derive(Debug, Default)]
struct Query {
    max: Option<usize>,
    offset: usize,
    order: Option<(String, bool)>,
    filters: Vec<(String, String)>,
}

fn parse(pairs: &[(String, String)]) -> Result<Query, BadQuery> {
    let mut q = Query::default();
    for (k, v) in pairs {
        match k.as_str() {
            "max_records" => {
                let n: usize = v.trim().parse().map_err(|_| {
                    BadQuery(format!("max_records must be a positive integer, got {v:?}"))
                })?;
                if n == 0 {
                    return Err(BadQuery("max_records must be at least 1".into()));
                }
                q.max = Some(n.min(CAP));
            }
            "offset" => {
                q.offset = v.trim().parse().map_err(|_| {
                    BadQuery(format!("offset must be a non-negative integer, got {v:?}"))
                })?;
            }
            "order_by" => {
                let mut words = v.split_whitespace().peekable();
                // Register U7: a bare direction orders by submission time.
                let bare = words.peek().is_some_and(|w| {
                    w.eq_ignore_ascii_case("asc") || w.eq_ignore_ascii_case("desc")
                });
                let field = if bare {
                    "submit_time".to_string()
                } else {
                    words.next().unwrap_or("").to_ascii_lowercase()
                };
                let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(other) => {
                        return Err(BadQuery(format!(
                            "order_by direction {other:?} is not asc or desc"
                        )));
                    }
                };
                if !ORDER_FIELDS.contains(&field.as_str()) || words.next().is_some() {
                    return Err(BadQuery(format!("order_by {v:?} is not supported")));
                }
                q.order = Some((field, desc));
            }
            f if FILTERS.contains(&f) => {
                q.filters.retain(|(name, _)| name != f);
                q.filters.push((f.to_string(), v.clone()));
            }
            other => {
                return Err(BadQuery(format!(
                    "query parameter {other:?} is not supported on this list (supported: \
                     max_records, offset, order_by, {})",
                    FILTERS.join(", ")
                )));
            }
        }
    }
    Ok(q)
}

/// Whether `value` matches a filter: alternatives split on `|`, `*` matches any run, no case.
pub fn matches(pattern: &str, value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    pattern
        .split('|')
        .any(|alt| glob(&alt.to_ascii_lowercase(), &value))
}

fn glob(p: &str, v: &str) -> bool {
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == v;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !v.starts_with(first) || v.len() < first.len() + last.len() || !v.ends_with(last) {
        return false;
    }
    let mut rest = &v[first.len()..v.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// A listed job with what the list filters and sorts on, the values its object would serve
/// (rendering is left to the rows of the page).
struct Row<'a> {
    /// Index in the job table.
    idx: usize,
    job: &'a Job,
    seg: Segment,
    state: String,
    status: Option<String>,
    /// The served `submit_time`; only filled when a filter reads it.
    submit: String,
    /// The served `complete_time` (empty when unfinished); only filled when an ordering or a
    /// filter reads it.
    complete: String,
}

/// The value the rendered object serves for `name` (`status` falls back to `state` in the
/// literal dialect; a member that is absent reads as empty).
fn field<'r>(row: &'r Row<'_>, name: &str) -> &'r str {
    match name {
        "key" => &row.job.key,
        "name" => &row.job.name,
        "state" => &row.state,
        "status" => row.status.as_deref().unwrap_or(&row.state),
        "submit_time" => &row.submit,
        "complete_time" => &row.complete,
        _ => "",
    }
}

/// Every listed job that passes the filters, in the order served.
fn ordered_rows<'a>(
    all: &'a [Job],
    config: &MockConfig,
    q: &Query,
    wall0: jiff::Timestamp,
    now: i64,
) -> Vec<Row<'a>> {
    let ignore = config.deviates(Deviation::ListIgnoresFilters);
    let filters_on = |name: &str| q.filters.iter().any(|(f, _)| f == name);
    let by_complete =
        matches!(&q.order, Some((f, _)) if f == "complete_time") || filters_on("complete_time");
    let by_submit_text = filters_on("submit_time");
    let mut rows: Vec<Row<'a>> = all
        .iter()
        .enumerate()
        .filter(|(_, j)| jobs::listed(j, config, now))
        .filter_map(|(idx, job)| {
            let seg = jobs::segment_at(job, config, now)?;
            let (state, status) = jobs::served(&seg, config, false);
            let complete = if by_complete && seg.terminal {
                jobs::iso(wall0, jobs::completed_ms(job, &seg, config))
            } else {
                String::new()
            };
            let submit = if by_submit_text {
                jobs::iso(wall0, job.submit_ms)
            } else {
                String::new()
            };
            Some(Row {
                idx,
                job,
                seg,
                state,
                status,
                submit,
                complete,
            })
        })
        .filter(|r| {
            q.filters
                .iter()
                .all(|(f, pat)| (ignore && f != "name") || matches(pat, field(r, f)))
        })
        .collect();
    let by_submit =
        |a: &Row<'_>, b: &Row<'_>| (a.job.submit_ms, a.job.seq).cmp(&(b.job.submit_ms, b.job.seq));
    match &q.order {
        None if config.deviates(Deviation::ListOldestFirst) => rows.sort_by(by_submit),
        None => rows.sort_by(|a, b| by_submit(b, a)),
        Some((f, desc)) => rows.sort_by(|a, b| {
            let o = if f == "submit_time" {
                by_submit(a, b)
            } else {
                field(a, f).cmp(field(b, f)).then(a.job.seq.cmp(&b.job.seq))
            };
            if *desc { o.reverse() } else { o }
        }),
    }
    rows
}

/// The page's first index and largest length for `total` listed jobs.
fn window(q: &Query, config: &MockConfig, total: usize) -> (usize, usize) {
    let limit = match q.max {
        Some(n) => n,
        None if config.deviates(Deviation::ListDefaultAll) => total.max(1),
        None => DEFAULT_MAX,
    };
    (q.offset.min(total), limit)
}

/// `_links.next.href` when jobs follow a page of `n` from `start`.
fn next_href(
    config: &MockConfig,
    prefix: &str,
    q: &Query,
    (start, limit): (usize, usize),
    n: usize,
    total: usize,
) -> Option<String> {
    if start + n >= total {
        return None;
    }
    let next = if config.deviates(Deviation::PagesOverlap) && n >= 2 {
        start + n - 1
    } else {
        start + n
    };
    let mut href = format!("{prefix}/management-server/jobs?max_records={limit}&offset={next}");
    if let Some((f, desc)) = &q.order {
        let dir = if *desc { "desc" } else { "asc" };
        href.push_str(&format!("&order_by={}", encode(&format!("{f} {dir}"))));
    }
    for (f, v) in &q.filters {
        href.push_str(&format!("&{f}={}", encode(v)));
    }
    Some(href)
}

/// `num_records` for a page of `n`.
fn num_records(config: &MockConfig, n: usize) -> usize {
    if config.deviates(Deviation::ListNumRecordsWrong) {
        n + 1
    } else {
        n
    }
}

#[path = "list_bytes.rs"]
mod bytes;
pub use bytes::answer_bytes;

#[cfg(test)]
#[path = "list_equiv.rs"]
mod equiv;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_without_case_with_or_and_wildcards() {
        assert!(matches("ERROR", "error"));
        assert!(!matches("error", "errors"));
        assert!(matches("normal|error", "error"));
        assert!(matches("re*", "Rediscover cluster"));
        assert!(matches("*cluster", "Acquire cluster"));
        assert!(matches("a*q*r", "aiqum-jobs-r"));
        assert!(!matches("a*z", "abc"));
        assert!(matches("*", ""));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let q = |k: &str, v: &str| parse(&[(k.to_string(), v.to_string())]);
        assert!(q("max_records", "0").is_err());
        assert!(q("max_records", "x").is_err());
        assert!(q("offset", "-1").is_err());
        assert!(q("order_by", "nope").is_err());
        assert!(q("order_by", "name up").is_err());
        assert!(q("order_by", "asc desc").is_err());
        let unknown = q("type", "monitor_discover").map(|_| ());
        assert!(
            matches!(&unknown, Err(BadQuery(m)) if m.contains("\"type\"")),
            "{unknown:?}"
        );
        assert!(q("fields", "*").is_err());
        assert_eq!(
            q("order_by", "desc").map(|q| q.order),
            Ok(Some(("submit_time".to_string(), true)))
        );
        assert_eq!(
            q("order_by", "ASC").map(|q| q.order),
            Ok(Some(("submit_time".to_string(), false)))
        );
        assert_eq!(q("max_records", "5000").map(|q| q.max), Ok(Some(CAP)));
        assert_eq!(
            q("order_by", "Submit_Time DESC").map(|q| q.order),
            Ok(Some(("submit_time".to_string(), true)))
        );
    }
}
