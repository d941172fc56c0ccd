//! Sending over RPC the way keepers do, so that nothing lands twice:
//!
//! 1. price the compute units from the node's recent prioritization fees,
//!    clamped to the configured bounds;
//! 2. sign with a recent blockhash and simulate: a refusal comes back typed,
//!    with the program's error and logs, and nothing is sent;
//! 3. send that one signed transaction, and keep re-sending the *same* bytes
//!    (a node drops duplicates by signature, so at most one can land) until
//!    it is confirmed or its blockhash has expired;
//! 4. only once the blockhash has expired, and one last status check shows
//!    it did not land, sign anew with a fresh blockhash.
//!
//! `AlreadyProcessed` from a re-send means an earlier copy landed: success.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use solana_transaction_status_client_types::UiTransactionEncoding;
use tokio::time::Instant;

use super::rpc::PriorityFee;
use super::{ChainError, Confirmed, Refusal, RpcChain};

/// The most compute units a transaction may ask for.
const MAX_COMPUTE_UNITS: u64 = 1_400_000;
/// `getRecentPrioritizationFees` takes at most this many accounts.
const MAX_FEE_ACCOUNTS: usize = 128;

pub(crate) async fn send_and_confirm(
    chain: &RpcChain,
    instructions: &[Instruction],
    signers: &[&Keypair],
) -> Result<Confirmed, ChainError> {
    let payer = signers
        .first()
        .ok_or_else(|| ChainError::InvalidInput("a transaction needs a signer: the first one pays the fee".into()))?
        .pubkey();
    let config = chain.config.send;
    let price = compute_unit_price(chain, instructions).await;
    let mut sends = 0;
    let mut last_signature = Signature::default();
    for signing in 1..=config.max_signings.max(1) {
        let (blockhash, last_valid_block_height) = chain
            .call("getLatestBlockhash", || chain.rpc.get_latest_blockhash_with_commitment(chain.config.commitment))
            .await?;

        // Simulate with the price but the default unit limit, to learn the units.
        let budget = budget_instructions(price, None);
        let draft = sign(&budget, instructions, &payer, signers, blockhash)?;
        let simulation_config = RpcSimulateTransactionConfig {
            sig_verify: true,
            commitment: Some(chain.config.commitment),
            encoding: Some(UiTransactionEncoding::Base64),
            ..RpcSimulateTransactionConfig::default()
        };
        let simulated = chain
            .call("simulateTransaction", || {
                chain.rpc.simulate_transaction_with_config(&draft, simulation_config.clone())
            })
            .await?
            .value;
        if let Some(err) = simulated.err {
            let err = TransactionError::from(err);
            if err == TransactionError::BlockhashNotFound {
                // The node behind the load balancer has not seen the blockhash yet.
                continue;
            }
            return Err(ChainError::Refused(Box::new(Refusal::new(
                err,
                simulated.logs.unwrap_or_default(),
                budget.len(),
            ))));
        }

        let limit = simulated.units_consumed.map(|units| {
            // Headroom for state that changes between simulation and execution.
            units.saturating_add(units / 5).saturating_add(1_000).min(MAX_COMPUTE_UNITS)
        });
        let budget = budget_instructions(price, limit);
        let transaction = sign(&budget, instructions, &payer, signers, blockhash)?;
        last_signature = signature_of(&transaction);
        let attempt =
            Attempt { chain, transaction: &transaction, blockhash, last_valid_block_height, added: budget.len() };
        if let Some(slot) = attempt.run(&mut sends).await? {
            return Ok(Confirmed { signature: last_signature, slot, sends, signings: signing });
        }
    }
    Err(ChainError::NotConfirmed { signature: last_signature, signings: config.max_signings.max(1), sends })
}

/// One signed transaction, sent until it lands or can no longer land.
struct Attempt<'a> {
    chain: &'a RpcChain,
    transaction: &'a Transaction,
    blockhash: Hash,
    last_valid_block_height: u64,
    /// Compute-budget instructions in front of the caller's.
    added: usize,
}

enum Status {
    /// Not seen by the node.
    Unknown,
    /// Landed, but not yet at the commitment level.
    Landed,
    Confirmed(u64),
    Failed(TransactionError),
}

impl Attempt<'_> {
    /// `Some(slot)` once confirmed; `None` once the blockhash expired with
    /// nothing landed (re-signing is safe).
    async fn run(&self, sends: &mut u32) -> Result<Option<u64>, ChainError> {
        let config = self.chain.config.send;
        let signature = signature_of(self.transaction);
        let give_up = Instant::now() + config.confirm_timeout;
        // Whether any copy may have reached the node: from then on, giving
        // up must say the outcome is unknown, not that nothing was sent.
        let mut maybe_sent = false;
        let mut last_problem: Option<ChainError> = None;
        loop {
            match self.send_once().await {
                Ok(()) => {
                    *sends += 1;
                    maybe_sent = true;
                }
                Err(err) if already_processed(&err) => {
                    *sends += 1;
                    maybe_sent = true;
                }
                Err(ChainError::Refused(refusal)) if refusal.error == TransactionError::BlockhashNotFound => {
                    // Not accepted; whether the blockhash is gone for good is decided below.
                }
                Err(err) if err.is_retryable() => {
                    maybe_sent |= !matches!(err, ChainError::Unreachable { .. });
                    last_problem = Some(err);
                }
                Err(ChainError::Refused(mut refusal)) => {
                    refusal.instruction = refusal.instruction.and_then(|index| index.checked_sub(self.added));
                    return Err(ChainError::Refused(refusal));
                }
                Err(err) => return Err(err),
            }

            let resend_at = Instant::now() + config.resend_interval;
            loop {
                match self.status(signature).await {
                    Ok(Status::Confirmed(slot)) => return Ok(Some(slot)),
                    Ok(Status::Failed(err)) => return Err(self.landed_and_failed(signature, err).await),
                    Ok(Status::Landed | Status::Unknown) => {}
                    Err(err) => last_problem = Some(err),
                }
                if Instant::now() >= resend_at {
                    break;
                }
                tokio::time::sleep(config.poll_interval).await;
            }

            match self.expired().await {
                Ok(true) => return self.after_expiry(signature).await,
                Ok(false) => {}
                Err(err) => last_problem = Some(err),
            }
            if Instant::now() >= give_up {
                return Err(match (maybe_sent, last_problem) {
                    (false, Some(problem)) => problem,
                    (_, problem) => ChainError::InDoubt {
                        signature,
                        reason: problem.map_or_else(
                            || format!("neither confirmed nor expired after {:?}", config.confirm_timeout),
                            |problem| problem.to_string(),
                        ),
                    },
                });
            }
        }
    }

    async fn send_once(&self) -> Result<(), ChainError> {
        let config = RpcSendTransactionConfig {
            // Simulated already; a re-send would only meet "already processed" there.
            skip_preflight: true,
            preflight_commitment: Some(self.chain.config.commitment.commitment),
            encoding: Some(UiTransactionEncoding::Base64),
            // This loop re-sends; the node's own rebroadcasts would only add load.
            max_retries: Some(0),
            min_context_slot: None,
        };
        let sent = self
            .chain
            .call_once("sendTransaction", self.chain.rpc.send_transaction_with_config(self.transaction, config))
            .await?;
        let expected = signature_of(self.transaction);
        if sent != expected {
            return Err(ChainError::BadResponse {
                url: self.chain.config.cluster.rpc_url.clone(),
                request: "sendTransaction".into(),
                reason: format!("the node answered signature {sent}, not {expected}"),
            });
        }
        Ok(())
    }

    async fn status(&self, signature: Signature) -> Result<Status, ChainError> {
        let statuses = self
            .chain
            .call_once("getSignatureStatuses", self.chain.rpc.get_signature_statuses(&[signature]))
            .await?
            .value;
        Ok(match statuses.into_iter().next().flatten() {
            None => Status::Unknown,
            Some(status) => match status.err {
                Some(err) => Status::Failed(err),
                None if status.satisfies_commitment(self.chain.config.commitment) => Status::Confirmed(status.slot),
                None => Status::Landed,
            },
        })
    }

    /// Whether the blockhash can no longer be used: the chain is past its
    /// last valid block height *and* the node no longer accepts it. Both
    /// must agree before re-signing; a wrong "expired" would double-post.
    async fn expired(&self) -> Result<bool, ChainError> {
        let processed = CommitmentConfig::processed();
        let height =
            self.chain.call_once("getBlockHeight", self.chain.rpc.get_block_height_with_commitment(processed)).await?;
        if height <= self.last_valid_block_height {
            return Ok(false);
        }
        let valid = self
            .chain
            .call_once("isBlockhashValid", self.chain.rpc.is_blockhash_valid(&self.blockhash, processed))
            .await?;
        Ok(!valid)
    }

    /// The blockhash expired: it may still have landed in its last valid
    /// block. Wait for its status to settle before allowing a new signing.
    async fn after_expiry(&self, signature: Signature) -> Result<Option<u64>, ChainError> {
        let config = self.chain.config.send;
        let give_up = Instant::now() + config.confirm_timeout;
        loop {
            match self.status(signature).await {
                Ok(Status::Unknown) => return Ok(None),
                Ok(Status::Confirmed(slot)) => return Ok(Some(slot)),
                Ok(Status::Failed(err)) => return Err(self.landed_and_failed(signature, err).await),
                Ok(Status::Landed) => {}
                Err(err) if !err.is_retryable() => return Err(err),
                Err(err) if Instant::now() >= give_up => {
                    return Err(ChainError::InDoubt { signature, reason: err.to_string() });
                }
                Err(_) => {}
            }
            if Instant::now() >= give_up {
                return Err(ChainError::InDoubt {
                    signature,
                    reason: "landed but never reached the commitment level".into(),
                });
            }
            tokio::time::sleep(config.poll_interval).await;
        }
    }

    /// It landed and failed (state changed between simulation and
    /// execution): a refusal that cost the fee, with the logs if the node has them.
    async fn landed_and_failed(&self, signature: Signature, err: TransactionError) -> ChainError {
        let logs = super::history::transaction_logs(self.chain, &signature).await.unwrap_or_default();
        let mut refusal = Refusal::new(err, logs, self.added);
        refusal.landed = Some(signature);
        ChainError::Refused(Box::new(refusal))
    }
}

fn already_processed(err: &ChainError) -> bool {
    match err {
        ChainError::Refused(refusal) => refusal.error == TransactionError::AlreadyProcessed,
        // Some nodes answer in words rather than with a preflight result.
        ChainError::Rpc { message, .. } => {
            let message = message.to_ascii_lowercase();
            message.contains("alreadyprocessed") || message.contains("already been processed")
        }
        _ => false,
    }
}

/// A signed transaction's id: its fee payer's signature (a message always
/// has its payer as first signer, so the list is never empty).
pub fn signature_of(transaction: &Transaction) -> Signature {
    transaction.signatures.first().copied().unwrap_or_default()
}

fn budget_instructions(price: u64, limit: Option<u64>) -> Vec<Instruction> {
    let mut budget = Vec::new();
    if let Some(limit) = limit {
        budget.push(ComputeBudgetInstruction::set_compute_unit_limit(
            u32::try_from(limit).unwrap_or(MAX_COMPUTE_UNITS as u32),
        ));
    }
    if price > 0 {
        budget.push(ComputeBudgetInstruction::set_compute_unit_price(price));
    }
    budget
}

fn sign(
    budget: &[Instruction],
    instructions: &[Instruction],
    payer: &Pubkey,
    signers: &[&Keypair],
    blockhash: Hash,
) -> Result<Transaction, ChainError> {
    let all: Vec<Instruction> = budget.iter().chain(instructions).cloned().collect();
    let mut transaction = Transaction::new_unsigned(Message::new(&all, Some(payer)));
    transaction.try_sign(signers, blockhash).map_err(|err| {
        ChainError::InvalidInput(format!("cannot sign the transaction: {err} (are all its signers given?)"))
    })?;
    Ok(transaction)
}

/// The compute-unit price to pay: a percentile of what recently landed
/// writing the same accounts, within the bounds. A node that cannot say
/// gets the minimum: the fee is an optimisation, never a reason not to send.
async fn compute_unit_price(chain: &RpcChain, instructions: &[Instruction]) -> u64 {
    let bounds = chain.config.send.priority_fee;
    if bounds.max_micro_lamports == 0 {
        return 0;
    }
    let mut writable: Vec<Pubkey> = instructions
        .iter()
        .flat_map(|instruction| instruction.accounts.iter().filter(|meta| meta.is_writable).map(|meta| meta.pubkey))
        .collect();
    writable.sort();
    writable.dedup();
    writable.truncate(MAX_FEE_ACCOUNTS);
    let fees = chain
        .call_once("getRecentPrioritizationFees", chain.rpc.get_recent_prioritization_fees(&writable))
        .await
        .map(|fees| fees.into_iter().map(|fee| fee.prioritization_fee).collect::<Vec<_>>())
        .unwrap_or_default();
    choose_price(fees, bounds)
}

fn choose_price(mut fees: Vec<u64>, bounds: PriorityFee) -> u64 {
    let floor = bounds.min_micro_lamports.min(bounds.max_micro_lamports);
    if fees.is_empty() {
        return floor;
    }
    fees.sort_unstable();
    let rank = (fees.len() - 1) * usize::from(bounds.percentile.min(100)) / 100;
    fees[rank].clamp(floor, bounds.max_micro_lamports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(min: u64, max: u64, percentile: u8) -> PriorityFee {
        PriorityFee { min_micro_lamports: min, max_micro_lamports: max, percentile }
    }

    #[test]
    fn the_price_is_a_percentile_of_recent_fees_within_bounds() {
        let fees: Vec<u64> = (1..=100).collect();
        assert_eq!(choose_price(fees.clone(), bounds(0, 1_000, 75)), 75);
        assert_eq!(choose_price(fees.clone(), bounds(0, 1_000, 0)), 1);
        assert_eq!(choose_price(fees.clone(), bounds(0, 1_000, 100)), 100);
        assert_eq!(choose_price(fees.clone(), bounds(0, 50, 75)), 50, "clamped to the maximum");
        assert_eq!(choose_price(fees, bounds(90, 1_000, 10)), 90, "raised to the minimum");
        assert_eq!(choose_price(vec![], bounds(7, 1_000, 75)), 7, "no data: the minimum");
        assert_eq!(choose_price(vec![5, 0, 0, 0], bounds(0, 1_000, 50)), 0, "unsorted input");
        assert_eq!(choose_price(vec![500], bounds(900, 100, 50)), 100, "a minimum above the maximum yields to it");
    }

    #[test]
    fn budget_instructions_only_when_needed() {
        assert!(budget_instructions(0, None).is_empty());
        assert_eq!(budget_instructions(5, None).len(), 1);
        assert_eq!(budget_instructions(0, Some(10_000)).len(), 1);
        assert_eq!(budget_instructions(5, Some(10_000)).len(), 2);
    }
}
