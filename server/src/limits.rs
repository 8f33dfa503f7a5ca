//! Per-key and per-user rate limits (GCRA, via governor): a caller over its
//! rate gets 429 with `Retry-After`, before anything is read or written.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ApiError;

/// Requests per second allowed per API key and per user; `None` is unlimited.
/// A burst of the same size is allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimits {
    pub per_key: Option<NonZeroU32>,
    pub per_user: Option<NonZeroU32>,
}

#[derive(Debug)]
pub(crate) struct Limiters {
    per_key: Option<DefaultKeyedRateLimiter<String>>,
    per_user: Option<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
}

impl Limiters {
    pub(crate) fn new(limits: RateLimits) -> Self {
        let limiter = |rate: NonZeroU32| RateLimiter::keyed(Quota::per_second(rate));
        Limiters {
            per_key: limits.per_key.map(limiter),
            per_user: limits.per_user.map(limiter),
            checks: AtomicU64::new(0),
        }
    }

    pub(crate) fn check_key(&self, key_id: &str) -> Result<(), ApiError> {
        self.check(self.per_key.as_ref(), key_id, "API key")
    }

    pub(crate) fn check_user(&self, campaign: &str, user: &str) -> Result<(), ApiError> {
        self.check(
            self.per_user.as_ref(),
            &format!("{campaign}\n{user}"),
            "user",
        )
    }

    fn check(
        &self,
        limiter: Option<&DefaultKeyedRateLimiter<String>>,
        key: &str,
        scope: &'static str,
    ) -> Result<(), ApiError> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        // Users come and go: forget the ones whose budget is full again, now and then.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                scope,
                // Retry-After counts whole seconds; never tell a caller to retry at once.
                retry_after: Duration::from_secs(wait.as_secs() + 1),
            }
        })
    }
}
