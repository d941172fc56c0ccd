use anchor_lang::prelude::*;

use crate::constants::MAX_PROMPT_LEN;
use crate::error::SpotcheckError;
use crate::state::{Market, MarketParams};

/// Where a job is in its life. Terminal outcomes (settled, cancelled,
/// expired, slashed, unwound) close the account, so they are events, not states.
///
/// ```text
/// Open -claim-> Claimed -submit_result-> Submitted -attest(quorum)-> Attested
///                  |                        |  \-attest(withheld quorum)-> Withheld -expire-> (slash liveness share)
///            expire (deadline)         unwind (no quorum by deadline)
///     Attested: challenge window, then the draw (from the hash of the slot the window ends at)
///               neither sampled nor challenged -> settle
///               sampled or challenged -> verdict(quorum) -> Verified -settle->
///                                                      -> Rejected -slash->
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
        // `index` < MAX_ORACLES = 8, so the shift never overflows.
        let bit =
            u32::try_from(index).ok().and_then(|index| 1u8.checked_shl(index)).ok_or(SpotcheckError::NotOracle)?;
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
    /// Signed the submission, paid the escrow and the rent; gets both back. Part of the PDA seeds.
    pub client: Pubkey,
    /// Chosen by the client, unique among its jobs in this market; part of the PDA seeds.
    pub nonce: u64,
    // `status` and `provider` come before every variable-length field, at
    // fixed offsets (80 and 81), so a node can filter jobs by them
    // (`getProgramAccounts` memcmp): open jobs for a worker, a provider's jobs.
    pub status: JobStatus,
    /// The claiming provider account (default until claimed).
    pub provider: Pubkey,
    /// The model account, and its weights hash (the engine's model id) as submitted.
    pub model: Pubkey,
    pub weights_hash: [u8; 32],
    /// The prompt, inline (UTF-8), and the SHA-256 of its bytes. (The output
    /// hash commits to the engine's own prompt hash, over the token ids the
    /// prompt renders to: engine/README.md, "job protocol".)
    #[max_len(MAX_PROMPT_LEN)]
    pub prompt: String,
    pub prompt_hash: [u8; 32],
    /// Most tokens the provider may generate.
    pub token_budget: u32,
    /// Payment-token amount in escrow: model price per token x token budget.
    pub price: u64,
    /// The market's terms when the job was submitted; later changes don't apply to it.
    pub terms: MarketParams,
    /// Stake locked behind this job: price x collateral ratio, rounded up.
    pub collateral: u64,
    pub submitted_slot: u64,
    pub claimed_slot: u64,
    pub result_slot: u64,
    pub attested_slot: u64,
    /// Slot from which a verdict is needed (the challenge, or the reveal that
    /// selected the job); the oracles' verdict deadline runs from it. 0 while none is.
    pub review_slot: u64,
    /// SHA-256 commitment to (model id, prompt hash, generated tokens).
    pub output_hash: [u8; 32],
    /// Merkle root over per-(token, layer) activation hashes.
    pub trace_root: [u8; 32],
    /// Tokens generated (at most `token_budget`).
    pub token_count: u32,
    /// The slot whose hash decides sampling: the first slot after the
    /// challenge window, fixed at attestation. Until it has passed nobody can
    /// know the draw, and by then the output is served and challenges are closed.
    pub sample_slot: u64,
    pub sample: SampleDraw,
    /// The challenger (default if none) and its bond.
    pub challenger: Pubkey,
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

    /// Last slot a verdict may land in: `verdict_timeout_slots` after the
    /// verdict became needed, however late that was (a late reveal can't
    /// squeeze the oracles out of time and unwind honest work unpaid).
    pub fn verdict_deadline(&self) -> Result<u64> {
        require!(self.needs_review(), SpotcheckError::NothingToJudge);
        self.review_slot
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

    /// Records the committed result.
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
        self.status = JobStatus::Submitted;
        Ok(())
    }

    /// A quorum attested the output: the challenge window opens now, and the
    /// draw will come from the hash of the first slot after it.
    pub fn attest(&mut self, now: u64) -> Result<()> {
        self.status = JobStatus::Attested;
        self.attested_slot = now;
        self.sample_slot = self.challenge_window_end()?;
        self.votes = Votes::default(); // the verdict round starts empty
        Ok(())
    }

    /// Records a challenge; the verdict clock starts now.
    pub fn challenge(&mut self, challenger: Pubkey, bond: u64, now: u64) {
        self.challenger = challenger;
        self.bond = bond;
        self.start_review(now);
    }

    /// Records the draw; a selected job needs a verdict from now (if a
    /// challenge hasn't already started the clock).
    pub fn record_draw(&mut self, sampled: bool, now: u64) {
        self.sample = if sampled { SampleDraw::Selected } else { SampleDraw::Skipped };
        if sampled {
            self.start_review(now);
        }
    }

    fn start_review(&mut self, now: u64) {
        if self.review_slot == 0 {
            self.review_slot = now;
        }
    }

    /// What every state of a job implies about its fields.
    pub fn invariant(&self) -> Result<()> {
        let claimed = self.status != JobStatus::Open;
        let attested = matches!(self.status, JobStatus::Attested | JobStatus::Verified | JobStatus::Rejected);
        let ok = self.price > 0
            && self.token_count <= self.token_budget
            && claimed == (self.provider != Pubkey::default())
            && claimed == (self.collateral > 0)
            && (attested || (self.sample == SampleDraw::Pending && !self.is_challenged()))
            && (!attested
                || Some(self.sample_slot) == self.attested_slot.checked_add(self.terms.challenge_window_slots))
            && self.is_challenged() == (self.bond > 0)
            && (!self.needs_review() || self.review_slot != 0);
        require!(ok, SpotcheckError::JobInvariant);
        Ok(())
    }
}
