//! The worker's Prometheus metrics (`GET /metrics`, text format).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    pub kind: String,
}

pub struct Metrics {
    pub registry: Registry,
    pub jobs_claimed: Counter,
    pub jobs_submitted: Counter,
    pub jobs_settled: Counter,
    pub jobs_slashed: Counter,
    pub jobs_expired: Counter,
    pub jobs_unwound: Counter,
    pub jobs_lost: Counter,
    /// Open jobs passed over, by why (a model not served, a price too low, ...).
    pub jobs_refused: Family<Reason, Counter>,
    pub tokens_generated: Counter,
    pub tokens_per_second: Gauge<f64, AtomicU64>,
    pub claim_to_submit_seconds: Histogram,
    pub rpc_errors: Family<Kind, Counter>,
    pub store_errors: Counter,
    pub generation_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("spotcheck_worker");
        let metrics = Metrics {
            registry: Registry::default(),
            jobs_claimed: Counter::default(),
            jobs_submitted: Counter::default(),
            jobs_settled: Counter::default(),
            jobs_slashed: Counter::default(),
            jobs_expired: Counter::default(),
            jobs_unwound: Counter::default(),
            jobs_lost: Counter::default(),
            jobs_refused: Family::default(),
            tokens_generated: Counter::default(),
            tokens_per_second: Gauge::default(),
            claim_to_submit_seconds: Histogram::new([0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0]),
            rpc_errors: Family::default(),
            store_errors: Counter::default(),
            generation_errors: Counter::default(),
        };
        registry.register("jobs_claimed", "Jobs this worker claimed", metrics.jobs_claimed.clone());
        registry.register("jobs_submitted", "Results this worker submitted", metrics.jobs_submitted.clone());
        registry.register("jobs_settled", "Jobs of this worker settled (paid)", metrics.jobs_settled.clone());
        registry.register("jobs_slashed", "Jobs of this worker slashed", metrics.jobs_slashed.clone());
        registry.register("jobs_expired", "Jobs of this worker expired", metrics.jobs_expired.clone());
        registry.register("jobs_unwound", "Jobs of this worker unwound", metrics.jobs_unwound.clone());
        registry.register("jobs_lost", "Claims lost to another provider", metrics.jobs_lost.clone());
        registry.register("jobs_refused", "Open jobs passed over, by reason", metrics.jobs_refused.clone());
        registry.register("tokens_generated", "Tokens generated", metrics.tokens_generated.clone());
        registry.register("tokens_per_second", "Speed of the last generation", metrics.tokens_per_second.clone());
        registry.register(
            "claim_to_submit_seconds",
            "From the claim landing to the result landing",
            metrics.claim_to_submit_seconds.clone(),
        );
        registry.register("rpc_errors", "Chain errors, by kind", metrics.rpc_errors.clone());
        registry.register("store_errors", "Database errors (a full disk, ...)", metrics.store_errors.clone());
        registry.register("generation_errors", "Jobs whose generation failed", metrics.generation_errors.clone());
        Metrics { registry, ..metrics }
    }

    pub fn refused(&self, reason: &str) {
        self.jobs_refused.get_or_create(&Reason { reason: reason.to_string() }).inc();
    }

    pub fn rpc_error(&self, err: &spotcheck_client::chain::ChainError) {
        self.rpc_errors.get_or_create(&Kind { kind: err.kind().to_string() }).inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
