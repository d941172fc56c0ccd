//! The compute-unit table: each instruction's success path once, on the SBF
//! build, printed as one table (`scripts/test.sh` shows it; the program's
//! README section copies it). Each must fit the default 200k budget of one
//! instruction, so no client ever needs a compute-budget instruction.

use solana_signer::Signer;
use spotcheck_client::instructions as ix;
use spotcheck_localchain::tokens::{TOKEN, TOKEN_2022};
use spotcheck_tests::TestEnv;
use spotcheck_tests::fixtures::default_params;

const DEFAULT_INSTRUCTION_BUDGET: u64 = 200_000;

#[test]
fn compute_unit_table() {
    let mut rows = Vec::new();
    for (stake_program, payment_program, tokens) in [
        (TOKEN, TOKEN, "SPL Token"),
        (TOKEN_2022, TOKEN_2022, "Token-2022"),
    ] {
        let mut env = TestEnv::new();
        let authority = env.seeded_wallet(1);
        let fixture = env.market_setup_for(authority, stake_program, payment_program);
        let create = ix::market_create(
            &fixture.authority.pubkey(),
            fixture.market_id,
            &fixture.tokens(),
            default_params(),
        );
        let meta = env
            .send("market_create", &[create], &[&fixture.authority])
            .expect("market_create");
        rows.push(("market_create", tokens, meta.compute_units_consumed));
    }

    let mut table = String::from("| instruction | tokens | compute units |\n|---|---|---:|\n");
    for (name, tokens, units) in &rows {
        table += &format!("| `{name}` | {tokens} | {units} |\n");
    }
    println!("{table}");
    for (name, tokens, units) in rows {
        assert!(
            units < DEFAULT_INSTRUCTION_BUDGET,
            "{name} ({tokens}) needs {units} CU, over the default budget"
        );
    }
}
