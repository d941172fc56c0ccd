//! The read commands (`market show`, `provider show|list`, `job show|list`)
//! against the embedded chain, through the same functions the binary runs
//! over RPC: each view says what the accounts hold, `--output json` parses
//! back to it, and a wrong address says what is wrong.

use spotcheck::state::JobStatus;
use spotcheck_cli::output::{OutputFormat, render};
use spotcheck_cli::views::{self, ViewError};
use spotcheck_client::chain::Chain;
use spotcheck_engine::commit::hex;
use spotcheck_tests::TestEnv;
use spotcheck_tests::fixtures::default_params;
use spotcheck_tests::jobs::{BUDGET, OUTPUT_HASH, PRICE, PROVIDER_STAKE};

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

#[test]
fn each_view_says_what_the_accounts_hold() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(3, default_params());
    let open = env.submit_job(&world);
    let done = env.submit_job(&world);
    env.claim(&world, &done).unwrap();
    env.submit_result(&world, &done).unwrap();
    let (market, provider) = (world.market.market, world.provider.provider);
    let chain = env.into_shared();
    let chain: &dyn Chain = &chain;

    let m = block_on(views::market_show(chain, &market)).unwrap();
    assert_eq!((m.quorum, m.oracles.len(), m.job_count), (2, 3, 2));
    assert_eq!(m.params.sample_rate_bps, default_params().sample_rate_bps);
    assert!(m.to_string().contains("Sampling:") && m.to_string().contains("5.00 %"), "{m}");

    let p = block_on(views::provider_show(chain, &provider)).unwrap();
    assert_eq!((p.staked, p.status.as_str()), (PROVIDER_STAKE, "active"));
    assert!(p.locked > 0 && p.free == p.staked - p.locked, "the claimed job's collateral is locked: {p:?}");
    let list = block_on(views::provider_list(chain, &market)).unwrap();
    assert_eq!(list.providers, vec![p.clone()]);

    let j = block_on(views::job_show(chain, &done)).unwrap();
    assert_eq!((j.status.as_str(), j.token_budget, j.price), ("submitted", BUDGET, PRICE));
    assert_eq!(j.output_hash.as_deref(), Some(hex(&OUTPUT_HASH).as_str()));
    assert_eq!(j.provider.as_deref(), Some(provider.to_string().as_str()));
    assert_eq!(j.next.waiting_for, "the oracles' attestation");
    let o = block_on(views::job_show(chain, &open)).unwrap();
    assert_eq!((o.status.as_str(), o.provider.clone(), o.output_hash.clone()), ("open", None, None));

    let all = block_on(views::job_list(chain, &market, None)).unwrap();
    assert_eq!(
        all.jobs.iter().map(|j| j.address.clone()).collect::<Vec<_>>(),
        vec![open.to_string(), done.to_string()]
    );
    let submitted = block_on(views::job_list(chain, &market, Some(JobStatus::Submitted))).unwrap();
    assert_eq!(submitted.jobs, vec![j.clone()]);
    assert!(submitted.to_string().starts_with("1 job(s) in market"), "{submitted}");

    // `--output json` is the view itself; json-compact is one line of it.
    let json: serde_json::Value = serde_json::from_str(&render(&j, OutputFormat::Json).unwrap()).unwrap();
    assert_eq!(json["status"], "submitted");
    assert_eq!(json["output_hash"], hex(&OUTPUT_HASH));
    assert_eq!(json["next"]["until_slot"], serde_json::json!(j.next.until_slot));
    let compact = render(&all, OutputFormat::JsonCompact).unwrap();
    assert_eq!(compact.lines().count(), 1);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&compact).unwrap()["jobs"].as_array().unwrap().len(), 2);
    assert!(render(&m, OutputFormat::Display).unwrap().starts_with("Market:"));
}

#[test]
fn a_wrong_address_says_what_is_wrong() {
    let mut env = TestEnv::new();
    let world = env.default_job_world(4, default_params());
    let job = env.submit_job(&world);
    let market = world.market.market;
    let chain = env.into_shared();
    let chain: &dyn Chain = &chain;
    let nowhere = anchor_lang::prelude::Pubkey::new_unique();
    let err = block_on(views::job_show(chain, &nowhere)).unwrap_err();
    assert!(matches!(err, ViewError::NotFound { what: "job", .. }), "{err}");
    assert!(err.to_string().contains("does not exist") && err.to_string().contains("--url"), "{err}");
    assert!(!err.is_retryable());
    // Another kind of account at the address: the layout error names the type.
    let err = block_on(views::job_show(chain, &market)).unwrap_err();
    assert!(err.to_string().contains("does not decode"), "{err}");
    let err = block_on(views::market_show(chain, &job)).unwrap_err();
    assert!(err.to_string().contains("does not decode"), "{err}");
    // A list for a market that does not exist is an error, not an empty list.
    assert!(matches!(
        block_on(views::job_list(chain, &nowhere, None)),
        Err(ViewError::NotFound { what: "market", .. })
    ));
    assert!(matches!(block_on(views::provider_list(chain, &nowhere)), Err(ViewError::NotFound { what: "market", .. })));
}
