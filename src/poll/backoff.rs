//! The standard-polling schedule (CL-NO-HAMMER, CL-DEADLINE): interval arithmetic and the sleep
//! between polls, on `tokio::time` (a paused runtime gives virtual time). Owns no I/O and never
//! judges an answer; the loops in `element_loop` and `aiqum_loop` tell it whether the job changed.
//!
//! The schedule, stated once:
//! - the first poll is immediate; the first interval is `min_interval`;
//! - after an unchanged observation (or a transient fault) the base interval is multiplied by
//!   `backoff`, capped at `max_interval`; after a changed one it goes back to `min_interval`;
//! - jitter adds `base * jitter * u`, `u` uniform in `[0, 1)`, so an interval is never shorter
//!   than its base; while the job is unchanged an interval is also never shorter than the one
//!   before it (so jitter can never make a client speed up), hence every interval lies in
//!   `[min_interval, max_interval * (1 + jitter)]`;
//! - an interval is never cut to meet the deadline: when the next poll would start after the
//!   deadline, the poller gives up at once (`End::Deadline`) instead of polling early.

use std::time::Duration;

use tokio::time::Instant;

use super::Policy;

/// Shortest `min_interval` honoured (a zero interval would be a busy loop).
pub const FLOOR: Duration = Duration::from_millis(1);

/// A policy with its numbers made sane: `min >= FLOOR`, `max >= min`, `backoff >= 1`,
/// `0 <= jitter <= 10` (NaN and infinities replaced by the neutral value).
pub fn sanitize(p: &Policy) -> Policy {
    let min_interval = p.min_interval.max(FLOOR);
    let max_interval = p.max_interval.max(min_interval);
    let backoff = if p.backoff.is_finite() && p.backoff >= 1.0 {
        p.backoff
    } else {
        1.0
    };
    let jitter = if p.jitter.is_finite() && p.jitter > 0.0 {
        p.jitter.min(10.0)
    } else {
        0.0
    };
    Policy {
        min_interval,
        max_interval,
        backoff,
        jitter,
        deadline: p.deadline,
        long_poll: p.long_poll,
        time_scale: if p.time_scale.is_finite() && p.time_scale > 0.0 {
            p.time_scale
        } else {
            1.0
        },
    }
}

/// The next base interval: `min` after a change (or at the start), else `base * backoff` capped.
pub fn next_base(p: &Policy, base: Option<Duration>, changed: bool) -> Duration {
    match base {
        Some(b) if !changed => Duration::try_from_secs_f64(b.as_secs_f64() * p.backoff)
            .unwrap_or(p.max_interval)
            .clamp(p.min_interval, p.max_interval),
        _ => p.min_interval,
    }
}

/// The interval actually waited: `base` plus jitter (`u` in `[0, 1)`), never less than `floor`
/// (the previous interval while unchanged).
pub fn jittered(p: &Policy, base: Duration, floor: Duration, u: f64) -> Duration {
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let extra = Duration::try_from_secs_f64(base.as_secs_f64() * p.jitter * u).unwrap_or_default();
    base.saturating_add(extra).max(floor)
}

/// The schedule of one job's polls: start, deadline, and the interval state.
#[derive(Debug)]
pub struct Schedule {
    /// The sanitized policy.
    pub policy: Policy,
    /// When the first poll was sent.
    pub start: Instant,
    /// `start + deadline`.
    pub deadline: Instant,
    base: Option<Duration>,
    last: Duration,
}

impl Schedule {
    /// A schedule starting now.
    pub fn start(policy: &Policy) -> Schedule {
        let policy = sanitize(policy);
        let start = Instant::now();
        let deadline = start.checked_add(policy.deadline).unwrap_or(start);
        Schedule {
            policy,
            start,
            deadline,
            base: None,
            last: Duration::ZERO,
        }
    }

    /// Restarts the interval sequence (as after a change), e.g. when long polling falls back.
    pub fn reset(&mut self) {
        self.base = None;
        self.last = Duration::ZERO;
    }

    /// The interval to wait after an observation that `changed` the job (or not).
    pub fn next_interval(&mut self, changed: bool) -> Duration {
        let changed = changed || self.base.is_none();
        let base = next_base(&self.policy, self.base, changed);
        let floor = if changed { Duration::ZERO } else { self.last };
        let d = jittered(&self.policy, base, floor, fastrand::f64());
        self.base = Some(base);
        self.last = d;
        d
    }

    /// Sleeps until the next poll, telling `announce` the interval just before sleeping it;
    /// `false` (without sleeping or announcing) when that poll would start after the deadline,
    /// i.e. the poller must give up now.
    pub async fn wait(&mut self, changed: bool, announce: impl FnOnce(Duration)) -> bool {
        let d = self.next_interval(changed);
        let at = Instant::now() + d;
        if at > self.deadline {
            return false;
        }
        announce(d);
        tokio::time::sleep_until(at).await;
        true
    }

    /// Restarts the interval sequence and sleeps until `min_interval` after `sent` (at once if
    /// that has passed), telling `announce` how long just before sleeping; `false` (without
    /// sleeping or announcing) when that is after the deadline. Used after a long poll answered:
    /// the next poll may follow at once, but never sooner than the minimum after the previous one
    /// was sent (CL-NO-HAMMER holds even if the target's early answer means it does not long-poll
    /// at all).
    pub async fn wait_min_since(&mut self, sent: Instant, announce: impl FnOnce(Duration)) -> bool {
        self.reset();
        let at = sent + self.policy.min_interval;
        if at > self.deadline {
            return false;
        }
        announce(at.saturating_duration_since(Instant::now()));
        tokio::time::sleep_until(at).await;
        true
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Time since the first poll.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(min: u64, max: u64, backoff: f64, jitter: f64) -> Policy {
        sanitize(&Policy {
            min_interval: Duration::from_millis(min),
            max_interval: Duration::from_millis(max),
            backoff,
            jitter,
            ..Policy::default()
        })
    }

    #[test]
    fn base_grows_caps_and_resets() {
        let p = policy(100, 1000, 2.0, 0.0);
        let mut b = next_base(&p, None, false);
        assert_eq!(b, Duration::from_millis(100));
        for want in [200, 400, 800, 1000, 1000] {
            b = next_base(&p, Some(b), false);
            assert_eq!(b, Duration::from_millis(want));
        }
        assert_eq!(next_base(&p, Some(b), true), Duration::from_millis(100));
    }

    #[test]
    fn jitter_never_shortens_and_floor_holds() {
        let p = policy(100, 1000, 1.0, 0.5);
        let base = Duration::from_millis(100);
        assert_eq!(jittered(&p, base, Duration::ZERO, 0.0), base);
        assert_eq!(
            jittered(&p, base, Duration::ZERO, 0.999),
            Duration::from_micros(149_950)
        );
        assert_eq!(
            jittered(&p, base, Duration::from_millis(140), 0.1),
            Duration::from_millis(140)
        );
    }

    #[test]
    fn sanitize_repairs_nonsense() {
        let p = policy(0, 0, f64::NAN, -1.0);
        assert_eq!(p.min_interval, FLOOR);
        assert_eq!(p.max_interval, FLOOR);
        assert_eq!(p.backoff, 1.0);
        assert_eq!(p.jitter, 0.0);
    }
}
