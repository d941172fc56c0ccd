//! Exponential backoff with jitter for calls to a node: many clients that
//! failed together must not retry together (the thundering herd a node that
//! just came back, or just started rate-limiting, would see).

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use super::ChainError;

/// How often and how patiently to retry a retryable error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first retry (before jitter).
    pub first: Duration,
    /// No delay grows past this.
    pub max: Duration,
    /// Tries in all, the first included; 1 means no retry.
    pub attempts: u32,
}

impl Default for Backoff {
    /// 0.25 s, 0.5 s, 1 s, 2 s, 4 s (each jittered): about 8 s of patience.
    fn default() -> Self {
        Backoff { first: Duration::from_millis(250), max: Duration::from_secs(10), attempts: 6 }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (0 for the first), "equal
    /// jitter": uniformly between half and all of `first * 2^retry` (capped),
    /// so delays spread out but still grow.
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rand::rng().random_range(0..=spread))
    }

    /// The un-jittered delay before retry number `retry`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.first.saturating_mul(factor).min(self.max)
    }

    /// Runs `call` until it succeeds, fails for good, or runs out of
    /// attempts; waits `delay(n)` (or what the node asked for, if longer)
    /// between tries. The last error is returned as it came.
    pub async fn retry<T, F, Fut>(&self, mut call: F) -> Result<T, ChainError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ChainError>>,
    {
        let mut retry = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(err) if err.is_retryable() && retry + 1 < self.attempts => {
                    let wait = self.delay(retry).max(err.retry_after().unwrap_or_default());
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn down() -> ChainError {
        ChainError::Unreachable { url: "http://127.0.0.1:1".into(), reason: "connection refused".into() }
    }

    #[test]
    fn delays_double_within_their_jitter_and_stop_at_the_cap() {
        let backoff = Backoff { first: Duration::from_millis(100), max: Duration::from_millis(700), attempts: 10 };
        for retry in 0..40 {
            let ceiling = backoff.ceiling(retry);
            let expected =
                Duration::from_millis(100).saturating_mul(1 << retry.min(20)).min(Duration::from_millis(700));
            assert_eq!(ceiling, expected, "retry {retry}");
            for _ in 0..50 {
                let delay = backoff.delay(retry);
                assert!(
                    delay >= ceiling / 2 && delay <= ceiling,
                    "retry {retry}: {delay:?} outside [{:?}, {ceiling:?}]",
                    ceiling / 2
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_clients_apart() {
        let backoff = Backoff::default();
        let delays: std::collections::HashSet<Duration> = (0..20).map(|_| backoff.delay(3)).collect();
        assert!(delays.len() > 10, "20 draws gave only {} distinct delays", delays.len());
    }

    #[tokio::test(start_paused = true)]
    async fn retries_a_retryable_error_with_growing_waits_then_gives_it_back() {
        let backoff = Backoff { first: Duration::from_secs(1), max: Duration::from_secs(60), attempts: 4 };
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let result: Result<(), _> = backoff
            .retry(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(down())
            })
            .await;
        let waited = start.elapsed();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert!(result.unwrap_err().is_retryable());
        // Waits of [0.5, 1] + [1, 2] + [2, 4] seconds.
        assert!(waited >= Duration::from_millis(3_500) && waited <= Duration::from_secs(7), "waited {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_error_is_not_retried_and_a_success_ends_the_retries() {
        let backoff = Backoff::default();
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = backoff
            .retry(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(ChainError::InvalidInput("no".into()))
            })
            .await;
        assert!(matches!(result, Err(ChainError::InvalidInput(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let calls = AtomicU32::new(0);
        let value = backoff
            .retry(|| async { if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(down()) } else { Ok(7) } })
            .await;
        assert_eq!(value.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_node_asking_for_a_longer_pause_gets_it() {
        let backoff = Backoff { first: Duration::from_millis(10), max: Duration::from_millis(10), attempts: 2 };
        let start = tokio::time::Instant::now();
        let _ = backoff
            .retry(|| async {
                Err::<(), _>(ChainError::RateLimited { url: "x".into(), retry_after: Some(Duration::from_secs(3)) })
            })
            .await;
        assert!(start.elapsed() >= Duration::from_secs(3));
    }
}
