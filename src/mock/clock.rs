//! The mock's clock: target time in milliseconds since the mock started, derived from
//! `tokio::time::Instant` (so a paused tokio runtime gives virtual time) and scaled by
//! `--time-scale` (100 = mock time runs 100x faster than real time). Jobs are timelines on this
//! clock, never threads or timers of their own.

use std::time::Duration;

use tokio::time::Instant;

/// A scaled clock.
#[derive(Debug, Clone)]
pub struct Clock {
    origin: Instant,
    wall_origin: jiff::Timestamp,
    scale: f64,
}

impl Clock {
    /// A clock starting now; `scale` > 0 (1.0 = real time).
    pub fn new(scale: f64) -> Clock {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Clock {
            origin: Instant::now(),
            wall_origin: jiff::Timestamp::now(),
            scale,
        }
    }

    /// The time scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Target milliseconds since start.
    pub fn now_ms(&self) -> u64 {
        // From nanoseconds, so that an advance of N whole ms reads N, never N - 1 (f64 seconds
        // times 1000 truncates 1.001 s to 1000 ms).
        (self.origin.elapsed().as_nanos() as f64 * self.scale / 1_000_000.0) as u64
    }

    /// Real duration corresponding to `ms` of target time.
    pub fn real(&self, ms: u64) -> Duration {
        Duration::from_secs_f64(ms as f64 / 1000.0 / self.scale)
    }

    /// Sleeps until target time `ms` (returns at once if it has passed).
    pub async fn sleep_until_ms(&self, ms: u64) {
        let now = self.now_ms();
        if ms > now {
            tokio::time::sleep(self.real(ms - now)).await;
        }
    }

    /// ISO 8601 UTC timestamp (`2026-01-01T22:29:18Z`, whole seconds) for target time `ms`.
    pub fn iso(&self, ms: u64) -> String {
        self.iso_ms(ms, false)
    }

    /// ISO 8601 UTC timestamp for target time `ms`, with milliseconds when `millis` is set.
    pub fn iso_ms(&self, ms: u64, millis: bool) -> String {
        let t = self
            .wall_origin
            .checked_add(jiff::SignedDuration::from_millis(ms as i64))
            .unwrap_or(self.wall_origin);
        if millis {
            t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        } else {
            t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        }
    }
}

/// A time scale that is not a positive number, and the flag that gave it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("use {flag} {scale}: it must be a positive number")]
pub struct BadScale {
    /// The flag (`--time-scale`, `--mock-time-scale`).
    pub flag: &'static str,
    /// The value given.
    pub scale: f64,
}

/// A time scale given as `flag`, if usable (finite and positive).
pub fn checked_scale(flag: &'static str, scale: f64) -> Result<f64, BadScale> {
    if scale.is_finite() && scale > 0.0 {
        Ok(scale)
    } else {
        Err(BadScale { flag, scale })
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn whole_milliseconds_read_exactly_at_every_scale() {
        for scale in [1.0, 8.0, 10.0, 100.0] {
            let c = Clock::new(scale);
            let mut real_ms = 0u64;
            for step in [1u64, 1000, 1001, 7, 125, 999] {
                tokio::time::advance(Duration::from_millis(step)).await;
                real_ms += step;
                assert_eq!(
                    c.now_ms(),
                    (real_ms as f64 * scale) as u64,
                    "scale {scale} at {real_ms} ms"
                );
            }
        }
    }
}
