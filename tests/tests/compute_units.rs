//! The compute-unit table: each instruction's success path once, on the SBF
//! build, under SPL Token and Token-2022, printed as one table
//! (`scripts/test.sh` shows it; the README copies it). Keys are seeded so the
//! PDA bump searches, and so the figures, repeat run to run. Each instruction
//! must stay under 45k CU (well inside the default 200k budget, so no client
//! needs a compute-budget instruction).

use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spotcheck::state::{MarketParams, TreasurySide};
use spotcheck_client::instructions as ix;
use spotcheck_client::pda;
use spotcheck_localchain::tokens::{TOKEN, TOKEN_2022};
use spotcheck_tests::TestEnv;
use spotcheck_tests::fixtures::{WEIGHTS_HASH, default_params, default_terms};
use spotcheck_tests::jobs::{BUDGET, PRICE, always_sampled_params, rarely_sampled_params};

/// The ceiling every instruction must stay under (issue 10: "no instruction above 45k CU").
const MAX_INSTRUCTION_UNITS: u64 = 45_000;

/// Runs every instruction once on a market of `program` tokens; returns (instruction, CU).
fn run_all(program: Pubkey) -> Vec<(String, u64)> {
    let mut env = TestEnv::new();
    let authority = env.seeded_wallet(1);
    let mut fixture = env.market_setup_for(authority, program, program);
    let authority = fixture.authority.pubkey();
    let stake_wallet = env.seeded_wallet(2);
    let worker = Keypair::new_from_array([3; 32]);
    let source = env.funded_token_account(fixture.stake, &stake_wallet.pubkey(), 10_000_000);
    fixture.providers.push(pda::provider(&fixture.market, &stake_wallet.pubkey()));
    let oracles =
        vec![Pubkey::new_from_array([4; 32]), Pubkey::new_from_array([5; 32]), Pubkey::new_from_array([6; 32])];
    let model = pda::model(&fixture.market, &WEIGHTS_HASH);
    let min = default_params().min_provider_stake;

    let steps: Vec<(&str, anchor_lang::solana_program::instruction::Instruction, Vec<&Keypair>)> = vec![
        (
            "market_create",
            ix::market_create(&authority, fixture.market_id, &fixture.tokens(), default_params()),
            vec![&fixture.authority],
        ),
        (
            "market_update",
            ix::market_update(&authority, &fixture.market, MarketParams { fee_bps: 300, ..default_params() }),
            vec![&fixture.authority],
        ),
        ("market_set_paused", ix::market_set_paused(&authority, &fixture.market, false), vec![&fixture.authority]),
        (
            "market_set_oracles (3 keys)",
            ix::market_set_oracles(&authority, &fixture.market, oracles, 2),
            vec![&fixture.authority],
        ),
        (
            "model_register",
            ix::model_register(&authority, &fixture.market, WEIGHTS_HASH, "llama", default_terms()),
            vec![&fixture.authority],
        ),
        (
            "model_update",
            ix::model_update(&authority, &fixture.market, &model, default_terms(), true),
            vec![&fixture.authority],
        ),
        (
            "provider_register",
            ix::provider_register(&stake_wallet.pubkey(), &fixture.market, &worker.pubkey(), "https://worker.example"),
            vec![&stake_wallet],
        ),
        (
            "provider_stake",
            ix::provider_stake(&stake_wallet.pubkey(), &fixture.keys(), &source, 2 * min),
            vec![&stake_wallet],
        ),
        (
            "provider_request_unstake",
            ix::provider_request_unstake(&stake_wallet.pubkey(), &fixture.market, min),
            vec![&stake_wallet],
        ),
        (
            "provider_rotate_worker",
            ix::provider_rotate_worker(&stake_wallet.pubkey(), &fixture.market, &Pubkey::new_from_array([7; 32])),
            vec![&stake_wallet],
        ),
        (
            "provider_set_endpoint",
            ix::provider_set_endpoint(&stake_wallet.pubkey(), &fixture.market, "https://worker-2.example"),
            vec![&stake_wallet],
        ),
    ];
    let mut rows = Vec::new();
    for (name, instruction, signers) in steps {
        let meta = env.send(name, &[instruction], &signers).unwrap_or_else(|failed| panic!("{name}: {:?}", failed.err));
        rows.push((name.to_string(), meta.compute_units_consumed));
    }
    env.warp_slots(default_params().unbonding_slots);
    let withdraw = ix::provider_withdraw(&stake_wallet.pubkey(), &fixture.keys(), &source);
    let meta = env.send("provider_withdraw", &[withdraw], &[&stake_wallet]).expect("provider_withdraw");
    rows.push(("provider_withdraw".to_string(), meta.compute_units_consumed));
    env.assert_conservation(&fixture);
    rows
}

/// Whole job lifecycles on a market of `program` tokens: the honest one
/// (settled unsampled), and the slashing one (sampled, challenged, failed).
/// Returns the rows and the two lifecycle totals.
fn job_lifecycles(program: Pubkey) -> (Vec<(String, u64)>, u64, u64) {
    let mut env = TestEnv::new();
    let mut rows: Vec<(String, u64)> = Vec::new();
    let record = |rows: &mut Vec<(String, u64)>, name: &str, result: spotcheck_tests::TxResult| {
        let meta = result.unwrap_or_else(|failed| panic!("{name}: {:?}\n{}", failed.err, failed.meta.logs.join("\n")));
        rows.push((name.to_string(), meta.compute_units_consumed));
        meta.compute_units_consumed
    };

    let honest = env.job_world(60, program, program, rarely_sampled_params());
    let total = env.total_tokens(&honest);
    let nonce = honest.next_nonce();
    let job = honest.job_address(nonce);
    let submit = TestEnv::submit_job_ix_at(&honest, nonce, "What is the capital of France?", BUDGET, PRICE);
    let mut honest_total = record(&mut rows, "job_submit", env.send("job_submit", &[submit], &[&honest.client]));
    honest_total += record(&mut rows, "job_claim", env.claim(&honest, &job));
    honest_total += record(&mut rows, "job_submit_result", env.submit_result(&honest, &job));
    honest_total += record(&mut rows, "job_attest (vote)", env.attest(&honest, &job, 0, true));
    honest_total += record(&mut rows, "job_attest (quorum)", env.attest(&honest, &job, 1, true));
    // `reveal` waits out the challenge window: the draw comes from the slot it ends at.
    honest_total += record(&mut rows, "job_reveal_sample (skipped)", env.reveal(&job));
    honest_total += record(&mut rows, "job_settle", env.settle(&honest, &job));
    env.assert_job_conservation(&honest, total);
    let fee = env.account::<spotcheck::state::Market>(&honest.market.market).treasury_payment;
    let destination = env.create_token_account(honest.market.payment, &Pubkey::new_from_array([8; 32]));
    let withdraw = ix::market_withdraw_treasury(
        &honest.market.authority.pubkey(),
        &honest.market.keys(),
        TreasurySide::Payment,
        fee,
        &destination,
    );
    record(
        &mut rows,
        "market_withdraw_treasury",
        env.send("market_withdraw_treasury", &[withdraw], &[&honest.market.authority]),
    );

    // Caught by the draw: 9 transactions from submission to slash.
    // A high fault limit: this provider is slashed three times below and must stay active.
    let cheat = env.job_world(61, program, program, MarketParams { max_faults: 10, ..always_sampled_params() });
    let total = env.total_tokens(&cheat);
    let job = env.submit_job(&cheat);
    let mut slash_total = env.cu_log().last().map_or(0, |r| r.units);
    slash_total += env.claim(&cheat, &job).expect("claim").compute_units_consumed;
    slash_total += env.submit_result(&cheat, &job).expect("result").compute_units_consumed;
    slash_total += env.attest(&cheat, &job, 0, true).expect("attest").compute_units_consumed;
    slash_total += env.attest(&cheat, &job, 1, true).expect("attest").compute_units_consumed;
    slash_total += record(&mut rows, "job_reveal_sample (selected)", env.reveal(&job));
    slash_total += record(&mut rows, "job_post_verdict (vote)", env.verdict(&cheat, &job, 0, false));
    slash_total += record(&mut rows, "job_post_verdict (quorum)", env.verdict(&cheat, &job, 1, false));
    slash_total += record(&mut rows, "job_slash (sampled)", env.slash(&cheat, &job, false));
    env.assert_job_conservation(&cheat, total);

    // Caught by a challenge.
    let job = env.attested_job(&cheat);
    record(&mut rows, "job_challenge", env.challenge(&cheat, &job));
    env.verdict(&cheat, &job, 0, false).expect("verdict");
    env.verdict(&cheat, &job, 1, false).expect("verdict");
    record(&mut rows, "job_slash (challenged)", env.slash(&cheat, &job, true));
    env.assert_job_conservation(&cheat, total);

    // The other endings.
    let job = env.submit_job(&cheat);
    let cancel = ix::job_cancel(&cheat.client.pubkey(), &cheat.market.keys(), &job, &cheat.client_token);
    record(&mut rows, "job_cancel", env.send("job_cancel", &[cancel], &[&cheat.client]));
    let job = env.submit_job(&cheat);
    env.claim(&cheat, &job).expect("claim");
    env.warp_slots(151);
    record(&mut rows, "job_expire", env.expire(&cheat, &job));
    let job = env.attested_job(&cheat);
    env.challenge(&cheat, &job).expect("challenge");
    env.warp_slots(301); // past the verdict timeout, which runs from the challenge
    record(&mut rows, "job_unwind (challenged)", env.unwind(&cheat, &job, true));
    env.assert_job_conservation(&cheat, total);
    (rows, honest_total, slash_total)
}

#[test]
fn compute_unit_table() {
    let mut spl = run_all(TOKEN);
    let mut t22 = run_all(TOKEN_2022);
    let (spl_jobs, spl_honest, spl_slash) = job_lifecycles(TOKEN);
    let (t22_jobs, t22_honest, t22_slash) = job_lifecycles(TOKEN_2022);
    spl.extend(spl_jobs);
    t22.extend(t22_jobs);
    let mut table = String::from("| instruction | SPL Token | Token-2022 |\n|---|---:|---:|\n");
    for ((name, spl_units), (_, t22_units)) in spl.iter().zip(&t22) {
        table += &format!("| `{name}` | {spl_units} | {t22_units} |\n");
    }
    table += &format!("| **honest lifecycle** (submit → settle, 7 transactions) | {spl_honest} | {t22_honest} |\n");
    table +=
        &format!("| **slashing lifecycle** (submit → sampled → slash, 9 transactions) | {spl_slash} | {t22_slash} |\n");
    println!("{table}");
    for (name, units) in spl.iter().chain(&t22) {
        assert!(*units < MAX_INSTRUCTION_UNITS, "{name} needs {units} CU, over {MAX_INSTRUCTION_UNITS}");
    }
}
