//! `spotcheck demo`: a market on an embedded chain, end to end, with a report.
//!
//! Today it runs what the program has: creating a market (stake in SPL Token,
//! payments in Token-2022), and a market the program refuses because its
//! collateral would make cheating pay. It grows with the program.

use std::path::Path;

use anyhow::{Context, Result, bail};
use solana_signer::Signer;
use spotcheck::state::{Market, MarketParams, SlashSplit};
use spotcheck_client::instructions::{self as ix, MarketTokens};
use spotcheck_client::pda;
use spotcheck_localchain::LocalChain;
use spotcheck_localchain::tokens::{TOKEN, TOKEN_2022};

pub struct Report {
    program: String,
    market: String,
    params: MarketParams,
    refused: String,
    vaults: Vec<(String, String, u64)>,
    compute_units: Vec<(String, u64, bool)>,
}

fn demo_params() -> MarketParams {
    MarketParams {
        fee_bps: 250,
        min_provider_stake: 1_000_000_000,
        collateral_ratio_bps: 190_000,
        sample_rate_bps: 500,
        claim_timeout_slots: 150,
        attestation_deadline_slots: 150,
        challenge_window_slots: 300,
        verdict_timeout_slots: 300,
        challenge_bond: 10_000_000,
        slash_split: SlashSplit { client_bps: 5_000, challenger_bps: 3_000, treasury_bps: 2_000 },
        liveness_slash_bps: 1_000,
        failed_bond_provider_bps: 5_000,
        max_faults: 3,
        unbonding_slots: 1_000,
    }
}

pub fn run(program: &Path) -> Result<Report> {
    let mut chain = LocalChain::new(program)?;
    let authority = chain.wallet()?;
    let stake = chain.create_mint(TOKEN)?;
    let payment = chain.create_mint(TOKEN_2022)?;
    let treasury_owner = chain.wallet()?;
    let treasury = chain.create_token_account(payment, &treasury_owner.pubkey())?;
    let stake_treasury = chain.create_token_account(stake, &treasury_owner.pubkey())?;
    let tokens = MarketTokens {
        stake_mint: stake.mint,
        stake_token_program: stake.program,
        payment_mint: payment.mint,
        payment_token_program: payment.program,
        treasury,
        stake_treasury,
    };

    // A market whose collateral can't cover the sampling odds: refused.
    let cheap = MarketParams { collateral_ratio_bps: 100_000, ..demo_params() };
    let refused = match chain.send(
        "market_create (10x collateral at 5 % sampling)",
        &[ix::market_create(&authority.pubkey(), 1, &tokens, cheap)],
        &[&authority],
    ) {
        Ok(_) => bail!("the program accepted a market where cheating pays; this is a bug"),
        Err(failed) => failed
            .meta
            .logs
            .iter()
            .find_map(|line| line.split("Error Message: ").nth(1))
            .unwrap_or("refused")
            .to_string(),
    };

    let params = demo_params();
    chain
        .send("market_create", &[ix::market_create(&authority.pubkey(), 2, &tokens, params)], &[&authority])
        .map_err(|failed| anyhow::anyhow!("market_create failed: {:?}\n{}", failed.err, failed.meta.logs.join("\n")))?;
    let market_key = pda::market(&authority.pubkey(), 2);
    let market: Market =
        chain.program_account(&market_key).context("the market account is missing after market_create")?;

    Ok(Report {
        program: program.display().to_string(),
        market: market_key.to_string(),
        params: market.params,
        refused,
        vaults: vec![
            ("stake vault (SPL Token)".into(), market.stake_vault.to_string(), chain.balance(&market.stake_vault)),
            ("escrow vault (Token-2022)".into(), market.escrow_vault.to_string(), chain.balance(&market.escrow_vault)),
        ],
        compute_units: chain.cu_log().iter().map(|r| (r.label.clone(), r.units, r.ok)).collect(),
    })
}

impl Report {
    pub fn render(&self) -> String {
        let p = &self.params;
        let mut out = String::new();
        out += &format!("Spotcheck demo on an embedded chain (LiteSVM), program {}\n\n", self.program);
        out += "1. A market asking 10x collateral at 5 % sampling is refused:\n";
        out += &format!("   {}\n", self.refused);
        out += "\n";
        out += &format!("2. Market {} created:\n", self.market);
        out += &format!(
            "   fee {} bps, sample rate {} bps, collateral {}x price, min stake {}, challenge bond {}\n",
            p.fee_bps,
            p.sample_rate_bps,
            f64::from(p.collateral_ratio_bps) / 10_000.0,
            p.min_provider_stake,
            p.challenge_bond
        );
        out += &format!(
            "   claim timeout {} slots, attestation {} slots, challenge window {} slots, unbonding {} slots\n",
            p.claim_timeout_slots, p.attestation_deadline_slots, p.challenge_window_slots, p.unbonding_slots
        );
        for (name, address, balance) in &self.vaults {
            out += &format!("   {name}: {address} holds {balance}\n");
        }
        out += "\nCompute units (whole transaction, SBF build):\n";
        for (label, units, ok) in &self.compute_units {
            out += &format!("  {units:>8}  {}  {label}\n", if *ok { "ok " } else { "err" });
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "program": self.program,
            "market": self.market,
            "refused_market_error": self.refused,
            "params": format!("{:?}", self.params),
            "vaults": self.vaults.iter().map(|(name, address, balance)| serde_json::json!({"name": name, "address": address, "balance": balance})).collect::<Vec<_>>(),
            "compute_units": self.compute_units.iter().map(|(label, units, ok)| serde_json::json!({"label": label, "units": units, "ok": ok})).collect::<Vec<_>>(),
        })
    }
}
