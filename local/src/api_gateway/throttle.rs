//! The stage's throttling: one token bucket per method, refilled by the injected clock.

use std::sync::Mutex;
use std::time::SystemTime;

use super::Limits;

/// A token bucket: starts full (`burst`), refills at `rate` per second.
#[derive(Debug)]
pub(super) struct Bucket {
    limits: Limits,
    state: Mutex<(f64, SystemTime)>,
}

impl Bucket {
    pub(super) fn new(limits: Limits, now: SystemTime) -> Self {
        Self {
            limits,
            state: Mutex::new((f64::from(limits.burst), now)),
        }
    }

    /// Takes one token if there is one; `false` means API Gateway answers 429.
    pub(super) fn take(&self, now: SystemTime) -> bool {
        // A poisoned lock only means another request panicked mid-update; the
        // numbers in it are still usable.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = &mut *state;
        // A clock that steps back refills nothing rather than going negative.
        let elapsed = now.duration_since(*last).unwrap_or_default().as_secs_f64();
        let burst = f64::from(self.limits.burst);
        *tokens = (*tokens + elapsed * self.limits.rate).min(burst);
        *last = (*last).max(now);
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod unit {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_then_rate() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let bucket = Bucket::new(
            Limits {
                rate: 2.0,
                burst: 3,
            },
            start,
        );
        assert!((0..3).all(|_| bucket.take(start)));
        assert!(!bucket.take(start));
        let later = start + Duration::from_millis(500);
        assert!(bucket.take(later));
        assert!(!bucket.take(later));
        assert!(!bucket.take(start), "a clock stepping back refills nothing");
    }

    #[test]
    fn burst_zero_refuses_everything() {
        let start = SystemTime::UNIX_EPOCH;
        let bucket = Bucket::new(
            Limits {
                rate: 5.0,
                burst: 0,
            },
            start,
        );
        assert!(!bucket.take(start + Duration::from_secs(10)));
    }
}
