//! The oracle's Prometheus metrics (`GET /metrics`, text format).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Label {
    pub kind: String,
}

pub struct Metrics {
    pub registry: Registry,
    /// Votes that landed, by what they said.
    pub attested_complete: Counter,
    pub attested_withheld: Counter,
    pub verdicts_pass: Counter,
    pub verdicts_fail: Counter,
    /// Jobs this oracle saw selected by the draw, and challenged.
    pub sampled: Counter,
    pub challenged: Counter,
    /// Jobs it could not vote on, by why (a model it lacks, ...).
    pub abstained: Family<Label, Counter>,
    /// Permissionless cranks that landed, by instruction.
    pub cranks: Family<Label, Counter>,
    /// From the job's submission to this oracle's verdict landing, in slots.
    pub verdict_latency_slots: Histogram,
    pub reexecution_tokens_per_second: Gauge<f64, AtomicU64>,
    pub reexecuted_tokens: Counter,
    pub fetch_errors: Family<Label, Counter>,
    pub rpc_errors: Family<Label, Counter>,
    pub store_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("spotcheck_oracle");
        let metrics = Metrics {
            registry: Registry::default(),
            attested_complete: Counter::default(),
            attested_withheld: Counter::default(),
            verdicts_pass: Counter::default(),
            verdicts_fail: Counter::default(),
            sampled: Counter::default(),
            challenged: Counter::default(),
            abstained: Family::default(),
            cranks: Family::default(),
            verdict_latency_slots: Histogram::new([10.0, 50.0, 150.0, 300.0, 600.0, 1_200.0, 3_000.0, 10_000.0]),
            reexecution_tokens_per_second: Gauge::default(),
            reexecuted_tokens: Counter::default(),
            fetch_errors: Family::default(),
            rpc_errors: Family::default(),
            store_errors: Counter::default(),
        };
        let m = &metrics;
        registry.register("attested_complete", "Attestations voted complete that landed", m.attested_complete.clone());
        registry.register("attested_withheld", "Attestations voted withheld that landed", m.attested_withheld.clone());
        registry.register("verdicts_pass", "Verdicts voted pass that landed", m.verdicts_pass.clone());
        registry.register("verdicts_fail", "Verdicts voted fail that landed", m.verdicts_fail.clone());
        registry.register("sampled", "Jobs seen selected by the sampling draw", m.sampled.clone());
        registry.register("challenged", "Jobs seen challenged", m.challenged.clone());
        registry.register("abstained", "Jobs this oracle could not vote on, by reason", m.abstained.clone());
        registry.register("cranks", "Permissionless cranks that landed, by instruction", m.cranks.clone());
        registry.register(
            "verdict_latency_slots",
            "Slots from a job's submission to this oracle's verdict landing",
            m.verdict_latency_slots.clone(),
        );
        registry.register(
            "reexecution_tokens_per_second",
            "Speed of the last re-execution (prompt and output positions per second)",
            m.reexecution_tokens_per_second.clone(),
        );
        registry.register("reexecuted_tokens", "Positions re-executed", m.reexecuted_tokens.clone());
        registry.register("fetch_errors", "Failed output fetches, by kind", m.fetch_errors.clone());
        registry.register("rpc_errors", "Chain errors, by kind", m.rpc_errors.clone());
        registry.register("store_errors", "Database errors (a full disk, ...)", m.store_errors.clone());
        Metrics { registry, ..metrics }
    }

    fn label(family: &Family<Label, Counter>, kind: &str) {
        family.get_or_create(&Label { kind: kind.to_string() }).inc();
    }

    pub fn abstain(&self, reason: &str) {
        Self::label(&self.abstained, reason);
    }

    pub fn crank(&self, instruction: &str) {
        Self::label(&self.cranks, instruction);
    }

    pub fn fetch_error(&self, kind: &str) {
        Self::label(&self.fetch_errors, kind);
    }

    pub fn rpc_error(&self, err: &spotcheck_client::chain::ChainError) {
        Self::label(&self.rpc_errors, err.kind());
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
