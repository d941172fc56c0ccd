//! `spotcheck demo`: a whole market on an embedded chain (LiteSVM running the
//! SBF build of the program), with real SmolLM2 answers.
//!
//! Two providers serve six jobs from two clients. `honest-gpu` runs the
//! model; `lazy-cheat` skips it and commits to canned text. Three oracles
//! attest that outputs are served and hash to their commitments. While the
//! challenge window is open, alice's verifier re-executes her jobs and
//! challenges what doesn't reproduce; then the SlotHashes draw (from the
//! slot the window ends at, so nobody knew it before) samples a quarter of
//! the jobs for re-execution by the oracles. Their verdicts settle honest
//! work and slash the cheat; the authority withdraws the market's earnings;
//! the report shows every answer, every balance before and after, and that
//! no token appeared or vanished.

mod inference;
mod report;
mod world;

use std::collections::HashMap;
use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anyhow::{Context, Result, bail};
use spotcheck::state::JobStatus;
use spotcheck_engine::{Device, DeviceChoice, DeviceOptions, Model};
use spotcheck_localchain::LocalChain;

pub use report::Report;
use report::{Balance, JobReport, ProviderReport};
use world::World;

const PROMPTS: [&str; 6] = [
    "What is 2+2?",
    "Name three primary colors.",
    "Write a haiku about the sea.",
    "What is 12 times 12?",
    "Give one tip for learning to code.",
    "Why is the sky blue?",
];
/// The client whose verifier re-executes her jobs (alice); bob relies on the market's sampling.
const VERIFIED_CLIENT: usize = 0;
const CANNED_ANSWER: &str = "I am not sure, but I think the answer is 42.";

pub struct DemoConfig<'a> {
    pub program: &'a Path,
    pub model: &'a Path,
    pub max_tokens: u32,
    pub threads: usize,
    /// Where inference runs: auto (CUDA if present, else the CPU), cpu or cuda.
    pub device: DeviceChoice,
    /// Fixes every key, and so every sampling draw.
    pub seed: u8,
}

/// Two oracles re-execute a sampled or challenged job and vote; returns what they found.
fn judge(
    world: &mut World,
    model: &Model,
    backend: &Device,
    job: &Pubkey,
    prompt: &str,
    max_tokens: u32,
    output: &inference::Output,
) -> Result<String> {
    let mut finding = String::new();
    for oracle in 0..2 {
        let (pass, evidence, what) = inference::re_execute(model, backend, prompt, max_tokens, output)?;
        world.verdict(oracle, job, pass, evidence)?;
        finding = what;
    }
    Ok(finding)
}

pub fn run(config: &DemoConfig) -> Result<Report> {
    let model = Model::load(config.model).with_context(|| {
        format!("loading the model {} (run ./scripts/setup.sh to install SmolLM2)", config.model.display())
    })?;
    let backend =
        Device::open(config.device, &model.weights, &DeviceOptions { threads: config.threads, ..Default::default() })?;
    let chain = LocalChain::new(config.program)?;
    let mut world = World::new(chain, config.seed, model.id, config.max_tokens)?;
    let accounts = world.token_accounts();
    let before: Vec<u64> = accounts.iter().map(|(_, a)| world.chain.balance(a)).collect();

    // Clients submit; providers claim alternately; each serves its output.
    let mut jobs: Vec<(Pubkey, usize, usize, &str)> = Vec::new();
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let (client, provider) = ((i / 2) % 2, i % 2);
        let job = world.submit(client, prompt, config.max_tokens)?;
        world.claim(provider, &job)?;
        jobs.push((job, client, provider, prompt));
    }
    let mut served = HashMap::new();
    for &(job, _, provider, prompt) in &jobs {
        let output = if world.providers[provider].honest {
            inference::generate_output(&model, &backend, prompt, config.max_tokens)?
        } else {
            inference::fabricate_output(&model, prompt, config.max_tokens, CANNED_ANSWER)?
        };
        world.submit_result(provider, &job, output.output_hash, output.trace_root, output.tokens.len() as u32)?;
        served.insert(job, output);
    }

    // Oracles fetch each output and check it against the commitment.
    for &(job, _, _, prompt) in &jobs {
        let committed = world.job(&job)?.output_hash;
        for oracle in 0..2 {
            let complete =
                inference::output_matches(&model, prompt, config.max_tokens, &served[&job].tokens, &committed)?;
            world.attest(oracle, &job, complete)?;
        }
    }

    // Inside the challenge window: alice's verifier re-executes her jobs and
    // challenges what doesn't reproduce (nobody can know the draw yet); the
    // oracles re-execute each challenged job and vote.
    let mut findings = HashMap::new();
    for &(job, client, _, prompt) in &jobs {
        let output = &served[&job];
        if client != VERIFIED_CLIENT || inference::re_execute(&model, &backend, prompt, config.max_tokens, output)?.0 {
            continue;
        }
        world.challenge(&job)?;
        findings.insert(job, judge(&mut world, &model, &backend, &job, prompt, config.max_tokens, output)?);
    }

    // After the window: the draw for the rest; the oracles judge what it selects.
    let mut reports = Vec::new();
    for &(job, client, provider, prompt) in &jobs {
        let output = &served[&job];
        let is_challenged = findings.contains_key(&job);
        let sampled = !is_challenged && world.reveal(&job)?;
        if sampled {
            findings.insert(job, judge(&mut world, &model, &backend, &job, prompt, config.max_tokens, output)?);
        }
        let finding = findings.get(&job).cloned().unwrap_or_default();
        let answer = model.tokenizer()?.decode(&output.tokens).replace("<|im_end|>", "");
        reports.push(JobReport {
            job,
            client: world.clients[client].name,
            provider: world.providers[provider].party.name,
            prompt: prompt.to_string(),
            answer,
            tokens: output.tokens.len(),
            sampled,
            challenged: is_challenged,
            verdict: (sampled || is_challenged).then(|| finding.clone()),
            outcome: String::new(),
        });
    }

    // Settle what passed, slash what failed; the authority takes the market's earnings.
    for report in &mut reports {
        let status = world.job(&report.job)?.status;
        world.finish(&report.job)?;
        report.outcome = match status {
            JobStatus::Rejected => "slashed".into(),
            JobStatus::Verified => "verified, paid".into(),
            _ => "paid".into(),
        };
    }
    world.withdraw_treasury()?;

    let after: Vec<u64> = accounts.iter().map(|(_, a)| world.chain.balance(a)).collect();
    let market = world.market_account()?;
    let (stake_vault, escrow_vault) = (world.chain.balance(&accounts[0].1), world.chain.balance(&accounts[1].1));
    if before.iter().sum::<u64>() != after.iter().sum::<u64>() {
        bail!(
            "conservation broken: tokens in play went from {} to {}",
            before.iter().sum::<u64>(),
            after.iter().sum::<u64>()
        );
    }
    let (stake_owed, escrow_owed) =
        (market.total_staked + market.treasury_stake, market.total_escrowed + market.treasury_payment);
    if stake_vault != stake_owed || escrow_vault != escrow_owed {
        bail!(
            "conservation broken: vaults hold {stake_vault}/{escrow_vault}, the market says {stake_owed}/{escrow_owed}"
        );
    }
    let providers = (0..world.providers.len())
        .map(|i| {
            let account = world.provider(i)?;
            Ok(ProviderReport {
                name: world.providers[i].party.name,
                staked: account.staked,
                jobs_completed: account.jobs_completed,
                jobs_verified: account.jobs_verified,
                jobs_slashed: account.jobs_slashed,
                faults: account.faults,
                status: format!("{:?}", account.status),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    Ok(Report {
        program: config.program.display().to_string(),
        device: spotcheck_engine::Backend::name(&backend),
        model: config.model.display().to_string(),
        model_id: spotcheck_engine::commit::hex(&model.id),
        market: world.market,
        jobs: reports,
        providers,
        balances: accounts
            .iter()
            .zip(before.iter().zip(&after))
            .map(|((name, _), (&before, &after))| Balance { name: name.clone(), before, after })
            .collect(),
        vaults: (stake_vault, stake_owed, escrow_vault, escrow_owed),
        compute_units: world.chain.cu_log().iter().map(|r| (r.label.clone(), r.units)).collect(),
    })
}
