//! Spotcheck: an inference market where jobs are paid from escrow, providers
//! put stake behind every job, and any result can be spot-checked.
//! `lib.rs` only dispatches; each instruction lives in `instructions/`.

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod math;
pub mod sampling;
pub mod state;
pub mod token;

#[cfg(spotcheck_upstream_sbf)]
mod svm_mem;

use instructions::*;

declare_id!("AqZAGvSDPyK8LCFL7eMm8uqjLBNN3gm7qRtaq3ra3kU3");

#[program]
pub mod spotcheck {
    use super::*;

    /// Creates a market, its stake and escrow vaults, and checks its parameters.
    pub fn market_create(ctx: Context<MarketCreate>, args: MarketCreateArgs) -> Result<()> {
        instructions::market_create(ctx, args)
    }

    /// Replaces a market's parameters (authority).
    pub fn market_update(ctx: Context<MarketUpdate>, args: MarketUpdateArgs) -> Result<()> {
        instructions::market_update(ctx, args)
    }

    /// Pays out what the market has earned, fees or slashed stake (authority).
    pub fn market_withdraw_treasury(
        ctx: Context<MarketWithdrawTreasury>,
        args: MarketWithdrawTreasuryArgs,
    ) -> Result<()> {
        instructions::market_withdraw_treasury(ctx, args)
    }

    /// Pauses or unpauses new activity in a market (authority).
    pub fn market_set_paused(ctx: Context<MarketSetPaused>, paused: bool) -> Result<()> {
        instructions::market_set_paused(ctx, paused)
    }

    /// Replaces a market's oracle set and quorum (authority).
    pub fn market_set_oracles(ctx: Context<MarketSetOracles>, args: MarketSetOraclesArgs) -> Result<()> {
        instructions::market_set_oracles(ctx, args)
    }

    /// Registers a model by the hash of its weights (authority).
    pub fn model_register(ctx: Context<ModelRegister>, args: ModelRegisterArgs) -> Result<()> {
        instructions::model_register(ctx, args)
    }

    /// Changes a model's price, limits or location, or retires it (authority).
    pub fn model_update(ctx: Context<ModelUpdate>, args: ModelUpdateArgs) -> Result<()> {
        instructions::model_update(ctx, args)
    }

    /// Registers a provider: cold stake wallet, hot worker key, endpoint.
    pub fn provider_register(ctx: Context<ProviderRegister>, args: ProviderRegisterArgs) -> Result<()> {
        instructions::provider_register(ctx, args)
    }

    /// Adds stake to the market's stake vault (stake wallet).
    pub fn provider_stake(ctx: Context<ProviderStake>, amount: u64) -> Result<()> {
        instructions::provider_stake(ctx, amount)
    }

    /// Starts unbonding free stake (stake wallet).
    pub fn provider_request_unstake(ctx: Context<ProviderRequestUnstake>, amount: u64) -> Result<()> {
        instructions::provider_request_unstake(ctx, amount)
    }

    /// Withdraws unbonded stake (stake wallet).
    pub fn provider_withdraw(ctx: Context<ProviderWithdraw>) -> Result<()> {
        instructions::provider_withdraw(ctx)
    }

    /// Replaces the provider's worker key (stake wallet).
    pub fn provider_rotate_worker(ctx: Context<ProviderRotateWorker>, new_worker: Pubkey) -> Result<()> {
        instructions::provider_rotate_worker(ctx, new_worker)
    }

    /// Moves the provider's output endpoint (stake wallet).
    pub fn provider_set_endpoint(ctx: Context<ProviderSetEndpoint>, endpoint: String) -> Result<()> {
        instructions::provider_set_endpoint(ctx, endpoint)
    }

    /// Submits a job at an address of the client's choosing and escrows its price (client).
    pub fn job_submit(ctx: Context<JobSubmit>, nonce: u64, args: JobSubmitArgs) -> Result<()> {
        instructions::job_submit(ctx, nonce, args)
    }

    /// Cancels an unclaimed job with a full refund (client).
    pub fn job_cancel(ctx: Context<JobCancel>) -> Result<()> {
        instructions::job_cancel(ctx)
    }

    /// Claims an open job, locking collateral (provider's worker key).
    pub fn job_claim(ctx: Context<JobClaim>) -> Result<()> {
        instructions::job_claim(ctx)
    }

    /// Commits a job's result before its deadline (provider's worker key).
    pub fn job_submit_result(ctx: Context<JobSubmitResult>, args: JobSubmitResultArgs) -> Result<()> {
        instructions::job_submit_result(ctx, args)
    }

    /// Votes that a result is complete, or withheld (oracle).
    pub fn job_attest(ctx: Context<JobAttest>, complete: bool) -> Result<()> {
        instructions::job_attest(ctx, complete)
    }

    /// Draws whether a job is re-executed, from the hash of the slot its challenge window ends at (anyone).
    pub fn job_reveal_sample(ctx: Context<JobRevealSample>) -> Result<()> {
        instructions::job_reveal_sample(ctx)
    }

    /// Challenges an attested result, posting the bond (any wallet).
    pub fn job_challenge(ctx: Context<JobChallenge>) -> Result<()> {
        instructions::job_challenge(ctx)
    }

    /// Votes pass or fail on a sampled or challenged job (oracle).
    pub fn job_post_verdict(ctx: Context<JobPostVerdict>, args: JobPostVerdictArgs) -> Result<()> {
        instructions::job_post_verdict(ctx, args)
    }

    /// Pays out a finished job and closes it (anyone).
    pub fn job_settle(ctx: Context<JobSettle>) -> Result<()> {
        instructions::job_settle(ctx)
    }

    /// Slashes the provider of a job that failed verification (anyone).
    pub fn job_slash(ctx: Context<JobSlash>) -> Result<()> {
        instructions::job_slash(ctx)
    }

    /// Refunds and slashes on a liveness fault: no result, or output withheld (anyone).
    pub fn job_expire(ctx: Context<JobExpire>) -> Result<()> {
        instructions::job_expire(ctx)
    }

    /// Unwinds a job without fault when the oracles failed to decide in time (anyone).
    pub fn job_unwind(ctx: Context<JobUnwind>) -> Result<()> {
        instructions::job_unwind(ctx)
    }
}
