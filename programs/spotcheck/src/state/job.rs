use anchor_lang::prelude::*;

use crate::constants::{MAX_PROMPT_LEN, SAMPLE_SLOT_DELAY};
use crate::error::SpotcheckError;
use crate::state::{Market, MarketParams};

/// Where a job is in its life. Terminal outcomes (settled, cancelled,
/// expired, slashed, unwound) close the account, so they are events, not states.
///
/// ```text
/// Open -claim-> Claimed -submit_result-> Submitted -attest(quorum)-> Attested
///                  |                        |  \-attest(withheld quorum)-> Withheld -expire-> (slash liveness share)
///            expire (deadline)         unwind (no quorum by deadline)
///                                                 Attested: sampled or challenged? no -> settle
///                                                           yes -> verdict(quorum) -> Verified -settle->
///                                                                                  -> Rejected -slash->
/// ```
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobStatus {
    /// Waiting for a provider.
    Open,
    /// A provider's worker has it; collateral is locked.
    Claimed,
    /// The result is committed; oracles check it is complete and retrievable.
    Submitted,
    /// A quorum attested the result; the challenge window runs.
    Attested,
    /// A quorum found the output withheld: a liveness fault, cranked by `job_expire`.
    Withheld,
    /// Re-execution by a quorum matched: settle pays the provider.
    Verified,
    /// Re-execution by a quorum did not match: `job_slash` slashes the provider.
    Rejected,
}

/// Whether the oracles must re-execute the job, drawn from a future slot hash.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum SampleDraw {
    /// Not revealed yet (`job_reveal_sample` after `sample_slot`).
    Pending,
    /// Not sampled.
    Skipped,
    /// Sampled: a verdict is needed before settlement.
    Selected,
}

/// One round of oracle votes (attestation, then verdict), as bitmasks over
/// indices into the market's oracle set at `oracle_set_version`. A change of
/// the set discards the round's votes: an index only means a key within one set.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct Votes {
    pub oracle_set_version: u32,
    /// Oracles that voted yes (complete / pass).
    pub yes: u8,
    /// Oracles that voted no (withheld / fail).
    pub no: u8,
}

/// What a vote decided, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally {
    Undecided,
    Yes,
    No,
}

impl Votes {
    /// Records `oracle`'s vote; refuses non-oracles and second votes.
    pub fn cast(&mut self, market: &Market, oracle: &Pubkey, yes: bool) -> Result<Tally> {
        let index = market.oracles.iter().position(|key| key == oracle).ok_or(SpotcheckError::NotOracle)?;
        if self.oracle_set_version != market.oracle_set_version {
            *self = Votes { oracle_set_version: market.oracle_set_version, yes: 0, no: 0 };
        }
        let bit = 1u8 << index;
        require!((self.yes | self.no) & bit == 0, SpotcheckError::AlreadyVoted);
        if yes {
            self.yes |= bit;
        } else {
            self.no |= bit;
        }
        let quorum = u32::from(market.quorum);
        Ok(if self.yes.count_ones() >= quorum {
            Tally::Yes
        } else if self.no.count_ones() >= quorum {
            Tally::No
        } else {
            Tally::Undecided
        })
    }
}

/// An inference job: the client's escrowed request, the provider's committed
/// result, and everything the oracles decide about it.
#[account]
#[derive(InitSpace)]
pub struct Job {
    /// The market it was submitted to.
    pub market: Pubkey,
    /// Its number in the market; part of the PDA seeds.
    pub job_id: u64,
    /// Signed the submission, paid the escrow and the rent; gets both back.
    pub client: Pubkey,
    /// The model account, and its weights hash (the engine's model id) as submitted.
    pub model: Pubkey,
    pub weights_hash: [u8; 32],
    /// The prompt, inline (UTF-8), and its SHA-256, which the output hash commits to.
    #[max_len(MAX_PROMPT_LEN)]
    pub prompt: String,
    pub prompt_hash: [u8; 32],
    /// Most tokens the provider may generate.
    pub token_budget: u32,
    /// Payment-token amount in escrow: model price per token x token budget.
    pub price: u64,
    /// The market's terms when the job was submitted; later changes don't apply to it.
    pub terms: MarketParams,
    pub status: JobStatus,
    /// The claiming provider account (default until claimed).
    pub provider: Pubkey,
    /// Stake locked behind this job: price x collateral ratio.
    pub collateral: u64,
    pub submitted_slot: u64,
    pub claimed_slot: u64,
    pub result_slot: u64,
    pub attested_slot: u64,
    /// SHA-256 commitment to (model id, prompt hash, generated tokens).
    pub output_hash: [u8; 32],
    /// Merkle root over per-(token, layer) activation hashes.
    pub trace_root: [u8; 32],
    /// Tokens generated (at most `token_budget`).
    pub token_count: u32,
    /// The slot whose hash decides sampling (in the future at commit time).
    pub sample_slot: u64,
    pub sample: SampleDraw,
    /// The challenger (default if none), where its bond came from, and the bond.
    pub challenger: Pubkey,
    pub challenger_token: Pubkey,
    pub bond: u64,
    /// The current round of oracle votes.
    pub votes: Votes,
    /// Evidence of the deciding verdict (e.g. hash of the first divergent token and layer).
    pub evidence_hash: [u8; 32],
    /// PDA bump.
    pub bump: u8,
}

impl Job {
    pub fn require_status(&self, status: JobStatus) -> Result<()> {
        require!(self.status == status, SpotcheckError::WrongJobStatus);
        Ok(())
    }

    /// Last slot a result may be submitted in.
    pub fn result_deadline(&self) -> Result<u64> {
        self.claimed_slot.checked_add(self.terms.claim_timeout_slots).ok_or_else(|| SpotcheckError::MathOverflow.into())
    }

    /// Last slot the oracles may attest in.
    pub fn attestation_deadline(&self) -> Result<u64> {
        self.result_slot
            .checked_add(self.terms.attestation_deadline_slots)
            .ok_or_else(|| SpotcheckError::MathOverflow.into())
    }

    /// First slot after the challenge window.
    pub fn challenge_window_end(&self) -> Result<u64> {
        self.attested_slot
            .checked_add(self.terms.challenge_window_slots)
            .ok_or_else(|| SpotcheckError::MathOverflow.into())
    }

    /// Last slot a verdict may land in.
    pub fn verdict_deadline(&self) -> Result<u64> {
        self.challenge_window_end()?
            .checked_add(self.terms.verdict_timeout_slots)
            .ok_or_else(|| SpotcheckError::MathOverflow.into())
    }

    pub fn is_challenged(&self) -> bool {
        self.challenger != Pubkey::default()
    }

    /// A verdict is needed: the draw selected it or someone challenged it.
    pub fn needs_review(&self) -> bool {
        self.sample == SampleDraw::Selected || self.is_challenged()
    }

    /// Records the committed result and the future slot that decides sampling.
    pub fn commit_result(
        &mut self,
        output_hash: [u8; 32],
        trace_root: [u8; 32],
        token_count: u32,
        now: u64,
    ) -> Result<()> {
        require!(token_count <= self.token_budget, SpotcheckError::TokenCountOverBudget);
        self.output_hash = output_hash;
        self.trace_root = trace_root;
        self.token_count = token_count;
        self.result_slot = now;
        self.sample_slot = now.checked_add(SAMPLE_SLOT_DELAY).ok_or(SpotcheckError::MathOverflow)?;
        self.status = JobStatus::Submitted;
        Ok(())
    }
}
