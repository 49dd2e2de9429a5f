//! Per-job memo for the job list: whether a job's timeline is a clean partition of time (so the
//! segment that contains an instant is the one [`jobs::segment_at`] finds, and there always is
//! one), and the job's list entry, its compact JSON bytes, for the segment and prefix it was last
//! rendered at. A job's entry depends only on the job, the segment, the prefix and what is fixed
//! for the state's life (configuration, `wall0`; list entries never flap), so a hit is
//! byte-identical to rendering. Also the jobs' indexes in the list's default order (submit
//! time, then sequence), so the list does not sort the table per request. [`super::AiqumState`]
//! keeps one [`Slot`] per job beside its table and empties a job's slot whenever the job is
//! handed out mutably. Owns no decision about what the list answers (that is [`super::list`]).

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
    /// Every job's index in strictly increasing (submit time, sequence) order; `None` when two
    /// jobs tie (only a job changed in place can make them).
    pub by_submit: Option<&'a [usize]>,
}

/// The memo of a job table: one [`Slot`] per job (same indexes) and the jobs' indexes in
/// (submit time, sequence) order, kept as jobs are added, so the list walks it in place of
/// sorting. A job handed out mutably may have changed anything: its slot is emptied, and the
/// order is rebuilt before the next view if its submit time or sequence moved.
#[derive(Debug, Default)]
pub struct Memo {
    slots: Vec<Slot>,
    /// Job indexes by the keys the slots hold.
    order: Vec<usize>,
    /// Whether two of those keys are equal.
    ties: bool,
    /// Jobs handed out mutably since the last view (each once).
    touched: Vec<usize>,
    /// Rebuild the keys and the order before the next view.
    rebuild: bool,
}

/// A job's place in the list's default order.
fn key(j: &Job) -> (i64, u64) {
    (j.submit_ms, j.seq)
}

impl Memo {
    /// `job` is appended to the table.
    pub fn pushed(&mut self, job: &Job) {
        let k = key(job);
        if self.rebuild {
            // The keys and the order are rebuilt before the next view anyway.
            self.slots.push(Slot::default());
            return;
        }
        let slots = &self.slots;
        let at = self.order.partition_point(|&j| slots[j].key < k);
        self.ties |= self.order.get(at).is_some_and(|&j| slots[j].key == k);
        self.order.insert(at, self.slots.len());
        self.slots.push(Slot {
            key: k,
            ..Slot::default()
        });
    }

    /// Job `i` is handed out mutably.
    pub fn touched(&mut self, i: usize) {
        if let Some(slot) = self.slots.get_mut(i) {
            slot.partition = None;
            slot.rendered.clear();
            if !slot.touched {
                slot.touched = true;
                self.touched.push(i);
            }
        }
    }

    /// A job was removed; `len` are left.
    pub fn removed(&mut self, len: usize) {
        self.slots = vec![Slot::default(); len];
        self.order.clear();
        self.touched.clear();
        self.rebuild = true;
    }

    /// The view of `jobs` (the table this memo was told about) for one list answer.
    pub fn view<'a>(
        &'a mut self,
        config: &'a MockConfig,
        wall0: jiff::Timestamp,
        jobs: &'a [Job],
    ) -> View<'a> {
        if self.slots.len() != jobs.len() {
            self.removed(jobs.len());
        }
        let slots = &self.slots;
        let moved = |i: &usize| jobs.get(*i).map(key) != slots.get(*i).map(|s| s.key);
        if self.rebuild || self.touched.iter().any(moved) {
            for (slot, job) in self.slots.iter_mut().zip(jobs) {
                slot.key = key(job);
            }
            let slots = &self.slots;
            self.order = (0..jobs.len()).collect();
            self.order.sort_by_key(|&i| slots[i].key);
            self.ties = self
                .order
                .windows(2)
                .any(|w| slots[w[0]].key == slots[w[1]].key);
        }
        for i in self.touched.drain(..) {
            if let Some(slot) = self.slots.get_mut(i) {
                slot.touched = false;
            }
        }
        self.rebuild = false;
        View {
            config,
            wall0,
            jobs,
            memo: &mut self.slots,
            by_submit: (!self.ties).then_some(&self.order[..]),
        }
    }
}

/// What the list remembers about one job (empty until the list first looks at the job).
#[derive(Debug, Clone, Default)]
pub struct Slot {
    /// The job's (submit time, sequence) when the order was last brought up to date.
    key: (i64, u64),
    /// Whether the job was handed out mutably since the last view.
    touched: bool,
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
