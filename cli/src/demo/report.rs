//! The demo's report, as text or JSON.

use anchor_lang::prelude::Pubkey;
use serde_json::json;

use super::world::SPOT;

pub struct JobReport {
    pub job: Pubkey,
    pub client: &'static str,
    pub provider: &'static str,
    pub prompt: String,
    pub answer: String,
    pub tokens: usize,
    pub sampled: bool,
    pub challenged: bool,
    /// What re-execution found, for jobs that were judged.
    pub verdict: Option<String>,
    pub outcome: String,
}

pub struct ProviderReport {
    pub name: &'static str,
    pub staked: u64,
    pub jobs_completed: u64,
    pub jobs_verified: u64,
    pub jobs_slashed: u64,
    pub faults: u16,
    pub status: String,
}

pub struct Balance {
    pub name: String,
    pub before: u64,
    pub after: u64,
}

pub struct Report {
    pub program: String,
    /// The inference backend every party used.
    pub device: String,
    pub model: String,
    pub model_id: String,
    pub market: Pubkey,
    pub jobs: Vec<JobReport>,
    pub providers: Vec<ProviderReport>,
    pub balances: Vec<Balance>,
    /// Stake vault, market.total_staked, escrow vault, market.total_escrowed.
    pub vaults: (u64, u64, u64, u64),
    pub compute_units: Vec<(String, u64)>,
}

fn spot(amount: u64) -> String {
    format!("{}.{:06}", amount / SPOT, amount % SPOT)
}

fn signed_spot(before: u64, after: u64) -> String {
    if after >= before { format!("+{}", spot(after - before)) } else { format!("-{}", spot(before - after)) }
}

impl Report {
    pub fn render(&self) -> String {
        let mut out = String::new();
        out += "Spotcheck demo: a market on an embedded chain (LiteSVM + the SBF program)\n";
        out += &format!(
            "  program {}\n  model   {} (id {}…)\n  device  {}\n  market  {}\n\n",
            self.program,
            self.model,
            &self.model_id[..16],
            self.device,
            self.market
        );
        out += "Jobs (25 % sampled by slot hash; the verifier re-executes the rest):\n";
        for (i, job) in self.jobs.iter().enumerate() {
            out += &format!("\n  #{i} {} -> {}: \"{}\"\n", job.client, job.provider, job.prompt);
            out += &format!("     answer ({} tokens): {}\n", job.tokens, job.answer.trim().replace('\n', " "));
            let checked = match (job.sampled, job.challenged) {
                (true, _) => "sampled: oracles re-executed it",
                (false, true) => "not sampled; the verifier's spot check failed and it challenged",
                (false, false) => "not sampled; the verifier's spot check passed",
            };
            out += &format!("     {checked}\n");
            if let Some(verdict) = &job.verdict {
                out += &format!("     verdict: {verdict}\n");
            }
            out += &format!("     outcome: {}\n", job.outcome);
        }
        out += "\nProviders:\n";
        for p in &self.providers {
            out += &format!(
                "  {:<11} staked {:>14} SPOT  completed {} verified {} slashed {} faults {} {}\n",
                p.name,
                spot(p.staked),
                p.jobs_completed,
                p.jobs_verified,
                p.jobs_slashed,
                p.faults,
                p.status
            );
        }
        out += "\nBalances (SPOT):\n";
        for b in &self.balances {
            out += &format!(
                "  {:<13} {:>14} -> {:>14}  ({})\n",
                b.name,
                spot(b.before),
                spot(b.after),
                signed_spot(b.before, b.after)
            );
        }
        let before: u64 = self.balances.iter().map(|b| b.before).sum();
        let after: u64 = self.balances.iter().map(|b| b.after).sum();
        let (stake_vault, staked, escrow_vault, escrowed) = self.vaults;
        out += &format!("  total         {:>14} -> {:>14}  (conserved)\n", spot(before), spot(after));
        out += &format!(
            "  stake vault {} == sum of provider stakes {}; escrow vault {} == open escrows {}\n",
            spot(stake_vault),
            spot(staked),
            spot(escrow_vault),
            spot(escrowed)
        );
        let mut per_instruction: Vec<(String, u64, u64)> = Vec::new();
        for (label, units) in &self.compute_units {
            match per_instruction.iter_mut().find(|(l, _, _)| l == label) {
                Some(entry) => {
                    entry.1 += units;
                    entry.2 += 1;
                }
                None => per_instruction.push((label.clone(), *units, 1)),
            }
        }
        out += "\nCompute units (SBF build, mean per transaction):\n";
        for (label, total, count) in per_instruction {
            out += &format!("  {:>7}  {label} (x{count})\n", total / count);
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "program": self.program,
            "device": self.device,
            "model": self.model,
            "model_id": self.model_id,
            "market": self.market.to_string(),
            "jobs": self.jobs.iter().map(|j| json!({
                "job": j.job.to_string(), "client": j.client, "provider": j.provider, "prompt": j.prompt,
                "answer": j.answer, "tokens": j.tokens, "sampled": j.sampled, "challenged": j.challenged,
                "verdict": j.verdict, "outcome": j.outcome,
            })).collect::<Vec<_>>(),
            "providers": self.providers.iter().map(|p| json!({
                "name": p.name, "staked": p.staked, "jobs_completed": p.jobs_completed, "jobs_verified": p.jobs_verified,
                "jobs_slashed": p.jobs_slashed, "faults": p.faults, "status": p.status,
            })).collect::<Vec<_>>(),
            "balances": self.balances.iter().map(|b| json!({"name": b.name, "before": b.before, "after": b.after})).collect::<Vec<_>>(),
            "conserved": self.balances.iter().map(|b| b.before).sum::<u64>() == self.balances.iter().map(|b| b.after).sum::<u64>(),
            "compute_units": self.compute_units.iter().map(|(l, u)| json!({"label": l, "units": u})).collect::<Vec<_>>(),
        })
    }
}
