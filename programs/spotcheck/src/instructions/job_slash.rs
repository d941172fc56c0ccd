use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::error::SpotcheckError;
use crate::events::{JobSlashed, ProviderJailed};
use crate::instructions::job_end::*;
use crate::math::share;
use crate::state::JobStatus;

#[derive(Accounts)]
pub struct JobSlash<'info> {
    pub penalty: JobPenalty<'info>,

    /// With a challenger: any payment-token account of the challenger's; its bond is refunded here.
    #[account(
        mut,
        dup,
        constraint = challenger_token.mint == penalty.end.market.payment_mint @ SpotcheckError::WrongMint,
        constraint = challenger_token.owner == penalty.end.job.challenger @ SpotcheckError::WrongRecipient,
    )]
    pub challenger_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,

    /// With a challenger: any stake-token account of the challenger's; its reward.
    #[account(
        mut,
        dup,
        constraint = challenger_stake_token.mint == penalty.end.market.stake_mint @ SpotcheckError::WrongMint,
        constraint = challenger_stake_token.owner == penalty.end.job.challenger @ SpotcheckError::WrongRecipient,
    )]
    pub challenger_stake_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
}

impl JobSlash<'_> {
    pub fn validate(&self) -> Result<()> {
        let job = &self.penalty.end.job;
        job.require_status(JobStatus::Rejected)?;
        require!(
            !job.is_challenged() || (self.challenger_token.is_some() && self.challenger_stake_token.is_some()),
            SpotcheckError::ChallengerAccountsMissing
        );
        Ok(())
    }
}

/// Permissionless, after a fail verdict: the client gets the escrow back plus
/// compensation, the challenger (if any) its bond back plus a reward, the
/// treasury the rest of the collateral (kept in the stake vault); the
/// provider's fault counter goes up and it is jailed at the market's limit.
/// The job closes.
#[access_control(ctx.accounts.validate())]
pub fn job_slash(ctx: Context<JobSlash>) -> Result<()> {
    let job = &ctx.accounts.penalty.end.job;
    let challenged = job.is_challenged();
    let (bond, collateral, split) = (job.bond, job.collateral, job.terms.slash_split);
    let to_challenger = if challenged { share(collateral, split.challenger_bps) } else { 0 };
    let shares = SlashShares::new(collateral, share(collateral, split.client_bps), to_challenger)?;

    let jailed = ctx.accounts.penalty.book_slash(&shares)?;
    let provider = &mut ctx.accounts.penalty.end.provider;
    provider.jobs_slashed = provider.jobs_slashed.saturating_add(1);

    let accounts = &ctx.accounts;
    let penalty = &accounts.penalty;
    penalty.pay_client(shares.to_client)?;
    if challenged
        && let (Some(bond_back), Some(reward)) = (&accounts.challenger_token, &accounts.challenger_stake_token)
    {
        penalty.end.escrow().pay(&bond_back.to_account_info(), bond)?;
        penalty.stake().pay(&reward.to_account_info(), shares.to_challenger)?;
    }

    let end = &penalty.end;
    emit!(JobSlashed {
        market: end.market.key(),
        job: end.job.key(),
        provider: end.provider.key(),
        refund: end.job.price,
        to_client: shares.to_client,
        to_challenger: shares.to_challenger,
        to_treasury: shares.to_treasury,
        bond_refund: bond,
        evidence_hash: end.job.evidence_hash,
    });
    if jailed {
        emit!(ProviderJailed { market: end.market.key(), provider: end.provider.key(), faults: end.provider.faults });
    }
    Ok(())
}
