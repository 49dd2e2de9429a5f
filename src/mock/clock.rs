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
        iso_at(self.wall_origin, ms as i64, millis)
    }
}

/// The wall time `ms` after `wall0` (`wall0` itself where that leaves the representable range),
/// written as [`iso_of`] does.
pub fn iso_at(wall0: jiff::Timestamp, ms: i64, millis: bool) -> String {
    let t = wall0
        .checked_add(jiff::SignedDuration::from_millis(ms))
        .unwrap_or(wall0);
    iso_of(t, millis)
}

/// `t` as `%Y-%m-%dT%H:%M:%SZ` (or `%Y-%m-%dT%H:%M:%S%.3fZ` when `millis` is set), written
/// directly for four-digit years (the answer path formats one or more per request) and through
/// `strftime` otherwise; `tests::iso_of_equals_strftime` holds the two equal.
pub fn iso_of(t: jiff::Timestamp, millis: bool) -> String {
    let d = jiff::tz::Offset::UTC.to_datetime(t);
    if (1000..=9999).contains(&d.year()) {
        let mut out = String::with_capacity(24);
        let mut put = |n: i32, width: u32, sep: char| {
            for place in (0..width).rev() {
                let digit = (n / 10i32.pow(place) % 10) as u8;
                out.push(char::from(b'0' + digit));
            }
            out.push(sep);
        };
        put(d.year().into(), 4, '-');
        put(d.month().into(), 2, '-');
        put(d.day().into(), 2, 'T');
        put(d.hour().into(), 2, ':');
        put(d.minute().into(), 2, ':');
        if millis {
            put(d.second().into(), 2, '.');
            put(d.millisecond().into(), 3, 'Z');
        } else {
            put(d.second().into(), 2, 'Z');
        }
        return out;
    }
    if millis {
        t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
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
    use super::{Clock, iso_at};
    use std::time::Duration;

    #[test]
    fn iso_of_equals_strftime() {
        let slow = |t: jiff::Timestamp, millis: bool| {
            let f = if millis {
                "%Y-%m-%dT%H:%M:%S%.3fZ"
            } else {
                "%Y-%m-%dT%H:%M:%SZ"
            };
            t.strftime(f).to_string()
        };
        let walls = [
            jiff::Timestamp::UNIX_EPOCH,
            jiff::Timestamp::from_millisecond(1_795_910_400_000).unwrap_or_default(),
            jiff::Timestamp::from_millisecond(-30_610_224_000_001).unwrap_or_default(),
            jiff::Timestamp::from_millisecond(253_402_300_799_999).unwrap_or_default(),
            jiff::Timestamp::MAX,
            jiff::Timestamp::MIN,
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        for w in walls {
            let check = |ms: i64| {
                let t = w
                    .checked_add(jiff::SignedDuration::from_millis(ms))
                    .unwrap_or(w);
                for millis in [false, true] {
                    assert_eq!(iso_at(w, ms, millis), slow(t, millis), "{w} {ms} {millis}");
                }
            };
            for ms in [0, 1, -1, 999, 1_000, -1_000, 59_999, 86_400_000, -3_600_000] {
                check(ms);
            }
            for _ in 0..2_000 {
                check(rng.i64(-400_000_000_000_000..400_000_000_000_000));
            }
        }
    }

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
