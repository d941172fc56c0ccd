use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::error::SpotcheckError;
use crate::events::JobUnwound;
use crate::instructions::job_end::*;
use crate::state::JobStatus;

#[derive(Accounts)]
pub struct JobUnwind<'info> {
    pub end: JobEnd<'info>,

    /// Any payment-token account of the client: the escrow is refunded here.
    #[account(
        mut,
        constraint = client_token.mint == end.market.payment_mint @ SpotcheckError::WrongMint,
        constraint = client_token.owner == end.job.client @ SpotcheckError::WrongRecipient,
    )]
    pub client_token: Box<InterfaceAccount<'info, TokenAccount>>,

    /// With a challenger: any payment-token account of the challenger's; its bond is refunded here.
    #[account(
        mut,
        dup,
        constraint = challenger_token.mint == end.market.payment_mint @ SpotcheckError::WrongMint,
        constraint = challenger_token.owner == end.job.challenger @ SpotcheckError::WrongRecipient,
    )]
    pub challenger_token: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
}

impl JobUnwind<'_> {
    /// The oracles stayed silent: no attestation quorum by its deadline, or no
    /// verdict quorum on a sampled or challenged job within the verdict
    /// timeout of when the verdict became needed.
    pub fn validate(&self) -> Result<()> {
        let job = &self.end.job;
        let now = Clock::get()?.slot;
        match job.status {
            JobStatus::Submitted => {
                require!(now > job.attestation_deadline()?, SpotcheckError::OraclesNotLate);
            }
            JobStatus::Attested if job.needs_review() => {
                require!(now > job.verdict_deadline()?, SpotcheckError::OraclesNotLate);
            }
            _ => return err!(SpotcheckError::WrongJobStatus),
        }
        require!(!job.is_challenged() || self.challenger_token.is_some(), SpotcheckError::ChallengerAccountsMissing);
        Ok(())
    }
}

/// Permissionless, when the oracle set failed to decide in time: everything
/// goes back without fault to anyone. The client is refunded, a challenger's
/// bond returned, the collateral unlocked; oracle downtime never costs an
/// honest provider's stake or a client's escrow. The job closes.
#[access_control(ctx.accounts.validate())]
pub fn job_unwind(ctx: Context<JobUnwind>) -> Result<()> {
    let (price, bond, collateral) =
        (ctx.accounts.end.job.price, ctx.accounts.end.job.bond, ctx.accounts.end.job.collateral);
    let end = &mut ctx.accounts.end;
    end.provider.release_collateral(collateral)?;
    end.release_escrow()?;
    end.invariants()?;

    let accounts = &ctx.accounts;
    let escrow = accounts.end.escrow();
    escrow.pay(&accounts.client_token.to_account_info(), price)?;
    if let Some(bond_back) = &accounts.challenger_token {
        escrow.pay(&bond_back.to_account_info(), bond)?;
    }
    emit!(JobUnwound {
        market: accounts.end.market.key(),
        job: accounts.end.job.key(),
        provider: accounts.end.provider.key(),
        refund: price,
        bond_refund: bond,
    });
    Ok(())
}
