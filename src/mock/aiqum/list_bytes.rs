//! The list answer as bytes, for the route: [`answer_bytes`] writes the answer's compact JSON
//! straight into one buffer, taking each job's entry from the memo
//! ([`super::super::list_cache`]) when the job is still in the segment it was rendered at, and
//! walking the memo's submit order in place of sorting when nothing filters and the order is by
//! submit time. Child of `list` (shares its query, window and links); decides nothing of its own.

use super::super::AiqumState;
use super::super::jobs::{self, Render, Segment};
use super::super::list_cache::{Slot, View};
use super::BadQuery;
use super::{Query, next_href, num_records, ordered_rows, parse, window};
use crate::mock::Deviation;

/// With no filter, no `forget-finished` and no two jobs tied in submit order, the order served
/// is the memo's submit order (`Some(true)`: oldest first) or its reverse (`Some(false)`).
fn table_order(q: &Query, v: &View<'_>) -> Option<bool> {
    if !q.filters.is_empty()
        || v.by_submit.is_none()
        || v.config.deviates(Deviation::ForgetFinished)
    {
        return None;
    }
    match &q.order {
        None => Some(v.config.deviates(Deviation::ListOldestFirst)),
        Some((f, desc)) if f == "submit_time" => Some(!desc),
        Some(_) => None,
    }
}

/// A page to write.
struct Page {
    /// Jobs listed in all.
    total: usize,
    /// First index and largest length.
    window: (usize, usize),
    /// Each job of the page by index, with its segment (`None`: the memo holds its entry).
    jobs: Vec<(usize, Option<Segment>)>,
}

/// The page in the memo's submit order, oldest first when `ascending`.
fn table_page(v: &mut View<'_>, q: &Query, ascending: bool, prefix: &str, now: i64) -> Page {
    let (all, config) = (v.jobs, v.config);
    // Without `forget-finished` every job is listed; it is shown if it has a segment now.
    let shown = |i: usize, memo: &mut [Slot]| {
        memo[i].partition(&all[i], config) || jobs::segment_at(&all[i], config, now).is_some()
    };
    let total = (0..all.len()).filter(|&i| shown(i, v.memo)).count();
    let (start, limit) = window(q, config, total);
    let order = v.by_submit.unwrap_or_default();
    let at = |k: usize| order[if ascending { k } else { order.len() - 1 - k }];
    let picked: Vec<usize> = (0..order.len())
        .map(at)
        .filter(|&i| shown(i, v.memo))
        .skip(start)
        .take(limit)
        .collect();
    let mut page = Vec::with_capacity(picked.len());
    for i in picked {
        let (job, slot) = (&all[i], &mut v.memo[i]);
        if slot.partition(job, config) && slot.at(prefix, jobs::elapsed(job, now)).is_some() {
            page.push((i, None));
        } else if let Some(seg) = jobs::segment_at(job, config, now) {
            page.push((i, Some(seg)));
        }
    }
    Page {
        total,
        window: (start, limit),
        jobs: page,
    }
}

/// The list answer for the state's own configuration (or why the query is refused), as compact
/// JSON bytes written straight into one buffer; `self_href` is the request's path and query. Each
/// job's entry is rendered once per segment and prefix (see `list_cache`).
pub fn answer_bytes(
    s: &mut AiqumState,
    prefix: &str,
    self_href: &str,
    pairs: &[(String, String)],
    now: i64,
) -> Result<Vec<u8>, BadQuery> {
    let q = parse(pairs)?;
    let mut v = s.list_memo.view(&s.config, s.wall0, &s.jobs);
    let (all, config) = (v.jobs, v.config);
    let Page {
        total,
        window,
        jobs: page,
    } = match table_order(&q, &v) {
        Some(ascending) => table_page(&mut v, &q, ascending, prefix, now),
        None => {
            let rows = ordered_rows(all, config, &q, v.wall0, now);
            let total = rows.len();
            let (start, limit) = window(&q, config, total);
            let page = rows.into_iter().skip(start).take(limit);
            Page {
                total,
                window: (start, limit),
                jobs: page.map(|r| (r.idx, Some(r.seg))).collect(),
            }
        }
    };
    let n = page.len();
    let mut out = Vec::with_capacity(256 + 2 * self_href.len() + 512 * n);
    out.extend_from_slice(b"{\"_links\":{");
    if let Some(href) = next_href(config, prefix, &q, window, n, total) {
        out.extend_from_slice(b"\"next\":{\"href\":");
        write_str(&mut out, &href);
        out.extend_from_slice(b"},");
    }
    out.extend_from_slice(b"\"self\":{\"href\":");
    write_str(&mut out, self_href);
    let num = num_records(config, n);
    out.extend_from_slice(format!("}}}},\"num_records\":{num},\"records\":[").as_bytes());
    let render = Render {
        config,
        prefix,
        wall0: v.wall0,
        flap: false,
    };
    for (k, (i, seg)) in page.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let (job, slot) = (&all[*i], &mut v.memo[*i]);
        match seg {
            Some(seg) => out.extend_from_slice(slot.entry(job, seg, &render)),
            None => {
                out.extend_from_slice(slot.at(prefix, jobs::elapsed(job, now)).unwrap_or_default())
            }
        }
    }
    out.extend_from_slice(format!("],\"total_records\":{total}}}").as_bytes());
    Ok(out)
}

/// A JSON string, escaped as serde_json escapes it.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}
