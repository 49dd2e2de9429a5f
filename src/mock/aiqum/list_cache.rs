//! Per-job memo for the job list: whether a job's timeline is a clean partition of time (so the
//! segment that contains an instant is the one [`jobs::segment_at`] finds, and there always is
//! one), and the job's list entry, its compact JSON bytes, for the segment and prefix it was last
//! rendered at. A job's entry depends only on the job, the segment, the prefix and what is fixed
//! for the state's life (configuration, `wall0`; list entries never flap), so a hit is
//! byte-identical to rendering. [`super::AiqumState`] keeps one [`Slot`] per job beside its table
//! and empties a job's slot whenever the job is handed out mutably. Owns no decision about what
//! the list answers (that is [`super::list`]).

use super::super::MockConfig;
use super::Job;
use super::jobs::{self, Render, Segment};

/// The job table as the list reads it, with the memo of each job beside it (same indexes).
pub struct View<'a> {
    /// The state's configuration (the memo is only valid for it).
    pub config: &'a MockConfig,
    /// Wall time of target ms 0.
    pub wall0: jiff::Timestamp,
    /// Every job, in creation order.
    pub jobs: &'a [Job],
    /// One slot per job.
    pub memo: &'a mut [Slot],
    /// Whether `jobs` is in (submit time, sequence) order, oldest first.
    pub submit_ordered: bool,
}

/// The memo of a job table: one [`Slot`] per job (same indexes) and whether the table is in
/// strictly increasing (submit time, sequence) order, so the list can walk it in place of
/// sorting. A job handed out mutably may have changed anything: its slot is emptied and its
/// place in the order checked again before the next view.
#[derive(Debug, Default)]
pub struct Memo {
    slots: Vec<Slot>,
    submit_ordered: bool,
    /// Jobs handed out mutably since the last view.
    touched: Vec<usize>,
    /// Check the whole order before the next view.
    recheck: bool,
}

/// How many handed-out jobs are checked one by one before the whole order is checked instead.
const TOUCHED_MAX: usize = 64;

/// Whether `a` comes strictly before `b` in (submit time, sequence) order.
fn before(a: &Job, b: &Job) -> bool {
    (a.submit_ms, a.seq) < (b.submit_ms, b.seq)
}

impl Memo {
    /// `job` is appended to a table whose last job is `last`.
    pub fn pushed(&mut self, last: Option<&Job>, job: &Job) {
        if last.is_none() {
            self.submit_ordered = true;
        } else if last.is_some_and(|l| !before(l, job)) {
            self.submit_ordered = false;
        }
        self.slots.push(Slot::default());
    }

    /// Job `i` is handed out mutably.
    pub fn touched(&mut self, i: usize) {
        if let Some(slot) = self.slots.get_mut(i) {
            *slot = Slot::default();
        }
        if self.touched.len() < TOUCHED_MAX {
            self.touched.push(i);
        } else {
            self.recheck = true;
        }
    }

    /// A job was removed; `len` are left.
    pub fn removed(&mut self, len: usize) {
        self.slots = vec![Slot::default(); len];
        self.recheck = true;
    }

    /// The view of `jobs` (the table this memo was told about) for one list answer.
    pub fn view<'a>(
        &'a mut self,
        config: &'a MockConfig,
        wall0: jiff::Timestamp,
        jobs: &'a [Job],
    ) -> View<'a> {
        let in_order = |i: usize| i == 0 || i >= jobs.len() || before(&jobs[i - 1], &jobs[i]);
        if self.recheck {
            self.submit_ordered = (1..jobs.len()).all(in_order);
        } else if self.submit_ordered {
            self.submit_ordered = self.touched.iter().all(|&i| in_order(i) && in_order(i + 1));
        }
        self.touched.clear();
        self.recheck = false;
        View {
            config,
            wall0,
            jobs,
            memo: &mut self.slots,
            submit_ordered: self.submit_ordered,
        }
    }
}

/// What the list remembers about one job (empty until the list first looks at the job).
#[derive(Debug, Clone, Default)]
pub struct Slot {
    /// Whether the timeline partitions `[0, inf)` (memoized).
    partition: Option<bool>,
    /// At most one entry per prefix.
    rendered: Vec<Rendered>,
}

#[derive(Debug, Clone)]
struct Rendered {
    prefix: Box<str>,
    seg: Segment,
    bytes: Box<[u8]>,
}

/// Whether `segs` start at 0, follow one another with no gap or overlap, each starting after
/// the one before, and the last never ends: then exactly one contains any elapsed time.
fn is_partition(segs: &[Segment]) -> bool {
    let first = segs.first().is_some_and(|s| s.from == 0);
    let last = segs.last().is_some_and(|s| s.to.is_none());
    let joined = segs
        .windows(2)
        .all(|w| w[0].to == Some(w[1].from) && w[0].from < w[1].from);
    first && last && joined
}

impl Slot {
    /// Whether the job's timeline partitions time (computed once per slot).
    pub fn partition(&mut self, job: &Job, config: &MockConfig) -> bool {
        *self
            .partition
            .get_or_insert_with(|| is_partition(&jobs::segments(job, config)))
    }

    /// The remembered entry for `prefix` whose segment contains `elapsed` (ms since submit), if
    /// any; only meaningful once [`Slot::partition`] said true.
    pub fn at(&self, prefix: &str, elapsed: u64) -> Option<&[u8]> {
        self.rendered
            .iter()
            .find(|r| &*r.prefix == prefix && r.seg.contains(elapsed))
            .map(|r| &*r.bytes)
    }

    /// The entry of `job` in segment `seg` (`r.flap` must be false), rendered unless remembered.
    pub fn entry(&mut self, job: &Job, seg: &Segment, r: &Render<'_>) -> &[u8] {
        let pos = self.rendered.iter().position(|e| &*e.prefix == r.prefix);
        let i = match pos.filter(|&i| self.rendered[i].seg == *seg) {
            Some(i) => i,
            None => {
                let mut bytes = Vec::with_capacity(512);
                // Writing a Value into a Vec cannot fail (string keys, no I/O).
                let _ = serde_json::to_writer(&mut bytes, &jobs::render(job, seg, r));
                let e = Rendered {
                    prefix: r.prefix.into(),
                    seg: seg.clone(),
                    bytes: bytes.into_boxed_slice(),
                };
                match pos {
                    Some(i) => {
                        self.rendered[i] = e;
                        i
                    }
                    None => {
                        self.rendered.push(e);
                        self.rendered.len() - 1
                    }
                }
            }
        };
        &self.rendered[i].bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(from: u64, to: Option<u64>) -> Segment {
        Segment {
            from,
            to,
            state: "running".into(),
            status: "normal".into(),
            terminal: to.is_none(),
            frozen_warning: false,
        }
    }

    #[test]
    fn only_gapless_increasing_timelines_are_partitions() {
        assert!(is_partition(&[s(0, None)]));
        assert!(is_partition(&[s(0, Some(5)), s(5, Some(9)), s(9, None)]));
        assert!(!is_partition(&[]));
        assert!(!is_partition(&[s(1, None)]));
        assert!(!is_partition(&[s(0, Some(5))]));
        assert!(!is_partition(&[s(0, Some(5)), s(6, None)]));
        assert!(!is_partition(&[s(0, Some(5)), s(5, Some(5)), s(5, None)]));
        assert!(!is_partition(&[s(0, Some(10)), s(10, Some(3)), s(3, None)]));
    }
}
