use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use solana_sha256_hasher::hash;

use crate::constants::{JOB_SEED, MAX_PROMPT_LEN};
use crate::error::SpotcheckError;
use crate::events::JobSubmitted;
use crate::state::{Job, JobStatus, Market, Model, SampleDraw, Votes};
use crate::token::{TokenTransfer, transfer_in};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct JobSubmitArgs {
    /// The prompt, UTF-8, 1 to 512 bytes.
    pub prompt: String,
    /// Most tokens to generate; the price is the model's price per token times this.
    pub token_budget: u32,
    /// The most the client agrees to pay; protects against a price change in flight.
    pub max_price: u64,
}

#[derive(Accounts)]
#[instruction(nonce: u64)]
pub struct JobSubmit<'info> {
    /// Signs, pays the escrow and the job account's rent; gets both back at the end.
    #[account(mut)]
    pub client: Signer<'info>,

    #[account(mut)]
    pub market: Box<Account<'info, Market>>,

    #[account(has_one = market @ SpotcheckError::WrongMarket)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        init,
        payer = client,
        space = 8 + Job::INIT_SPACE,
        seeds = [JOB_SEED, market.key().as_ref(), client.key().as_ref(), &nonce.to_le_bytes()],
        bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(address = market.payment_mint @ SpotcheckError::WrongMint)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    /// The client's payment-token account the escrow comes from.
    #[account(
        mut,
        constraint = client_token.mint == market.payment_mint @ SpotcheckError::WrongMint,
        constraint = client_token.owner == client.key() @ SpotcheckError::WrongTokenOwner,
    )]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, address = market.escrow_vault @ SpotcheckError::WrongVault)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_token_program @ SpotcheckError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,

    pub system_program: Program<'info, System>,
}

impl JobSubmit<'_> {
    /// The job's price: the model's price per token times the budget.
    pub fn price(&self, args: &JobSubmitArgs) -> Result<u64> {
        Ok(self.model.price_per_token.checked_mul(u64::from(args.token_budget)).ok_or(SpotcheckError::PriceOverflow)?)
    }

    pub fn validate(&self, args: &JobSubmitArgs) -> Result<()> {
        require!(!self.market.paused, SpotcheckError::MarketPaused);
        require!(self.model.active, SpotcheckError::ModelInactive);
        require!(
            !args.prompt.is_empty() && args.prompt.len() <= usize::from(MAX_PROMPT_LEN),
            SpotcheckError::PromptLength
        );
        require!(
            args.token_budget >= 1 && args.token_budget <= self.model.max_tokens,
            SpotcheckError::TokenBudgetOutOfRange
        );
        require!(self.price(args)? <= args.max_price, SpotcheckError::PriceAboveMax);
        Ok(())
    }
}

/// Submits a job at `[JOB_SEED, market, client, nonce]` and escrows its price
/// in the same transaction. The client picks `nonce` (any value it hasn't used
/// in this market), so no two clients ever race for an address.
#[access_control(ctx.accounts.validate(&args))]
pub fn job_submit(ctx: Context<JobSubmit>, nonce: u64, args: JobSubmitArgs) -> Result<()> {
    let price = ctx.accounts.price(&args)?;
    let accounts = &ctx.accounts;
    transfer_in(&TokenTransfer {
        token_program: &accounts.token_program.to_account_info(),
        mint: &accounts.payment_mint.to_account_info(),
        from: &accounts.client_token.to_account_info(),
        to: &accounts.escrow_vault.to_account_info(),
        authority: &accounts.client.to_account_info(),
        amount: price,
        decimals: accounts.payment_mint.decimals,
    })?;

    let now = Clock::get()?.slot;
    let market = &mut ctx.accounts.market;
    market.count_job()?;
    market.add_escrowed(price)?;
    market.invariant()?;
    let job = Job {
        market: market.key(),
        client: ctx.accounts.client.key(),
        nonce,
        status: JobStatus::Open,
        provider: Pubkey::default(),
        model: ctx.accounts.model.key(),
        weights_hash: ctx.accounts.model.weights_hash,
        prompt_hash: hash(args.prompt.as_bytes()).to_bytes(),
        prompt: args.prompt,
        token_budget: args.token_budget,
        price,
        terms: market.params,
        collateral: 0,
        submitted_slot: now,
        claimed_slot: 0,
        result_slot: 0,
        attested_slot: 0,
        review_slot: 0,
        output_hash: [0; 32],
        trace_root: [0; 32],
        token_count: 0,
        sample_slot: 0,
        sample: SampleDraw::Pending,
        challenger: Pubkey::default(),
        bond: 0,
        votes: Votes::default(),
        evidence_hash: [0; 32],
        bump: ctx.bumps.job,
    };
    emit!(JobSubmitted {
        market: job.market,
        job: ctx.accounts.job.key(),
        client: job.client,
        nonce,
        model: job.model,
        weights_hash: job.weights_hash,
        prompt_hash: job.prompt_hash,
        token_budget: job.token_budget,
        price,
    });
    job.invariant()?;
    ctx.accounts.job.set_inner(job);
    Ok(())
}
