//! What can go wrong talking to a chain, split the way a service must act on
//! it: `is_retryable()` errors mean "the node or the network, not you: back
//! off and try again"; the others mean "this will fail the same way again".

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use solana_instruction_error::InstructionError;
use solana_signature::Signature;
use solana_transaction_error::TransactionError;

/// A transaction the program (or the runtime) refused, with what it said.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The runtime's verdict.
    pub error: TransactionError,
    /// The index of the failing instruction in the caller's instruction list
    /// (compute-budget instructions the sender added are not counted).
    pub instruction: Option<usize>,
    /// The program's custom error code (Anchor: 6000 + the error's index).
    pub program_error: Option<u32>,
    /// Anchor's own explanation from the logs ("AnchorError ... Error Message: ..."), if any.
    pub message: Option<String>,
    /// The transaction's logs, as far as the node returned them.
    pub logs: Vec<String>,
    /// Set when the refused transaction landed on chain (its fee was paid);
    /// `None` when simulation refused it and nothing was sent.
    pub landed: Option<Signature>,
}

impl Refusal {
    /// `added_instructions`: how many instructions the sender put in front of
    /// the caller's (compute budget), so `instruction` indexes the caller's list.
    pub fn new(error: TransactionError, logs: Vec<String>, added_instructions: usize) -> Self {
        let (instruction, program_error) = match &error {
            TransactionError::InstructionError(index, inner) => {
                let code = match inner {
                    InstructionError::Custom(code) => Some(*code),
                    _ => None,
                };
                (usize::from(*index).checked_sub(added_instructions), code)
            }
            _ => (None, None),
        };
        // Anchor logs "AnchorError occurred. Error Code: X. Error Number: N.
        // Error Message: ..." (or "AnchorError caused by account: ..."): the
        // one line that says why in words.
        let message = logs.iter().find_map(|line| line.find("AnchorError").map(|at| line[at..].to_string()));
        Refusal { error, instruction, program_error, message, logs, landed: None }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.landed {
            Some(signature) => write!(f, "transaction {signature} landed and failed (its fee was paid)")?,
            None => write!(f, "simulation refused the transaction (nothing was sent)")?,
        }
        if let Some(index) = self.instruction {
            write!(f, " at instruction {index}")?;
        }
        write!(f, ": {}", self.error)?;
        if let Some(message) = &self.message {
            write!(f, " ({message})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(
        "cannot reach the node at {url}: {reason}. Check that it runs and that the URL is right; retrying can help"
    )]
    Unreachable { url: String, reason: String },

    #[error("{url} did not answer {request} within {after:?}; retrying can help")]
    Timeout { url: String, request: String, after: Duration },

    #[error(
        "{url} is rate-limiting requests (HTTP 429{}); back off and retry, or use a node with a higher limit",
        retry_after.map(|after| format!(", retry after {after:?}")).unwrap_or_default()
    )]
    RateLimited { url: String, retry_after: Option<Duration> },

    #[error("{url} is unhealthy or behind ({reason}); retrying can help")]
    NodeUnhealthy { url: String, reason: String },

    #[error("{url} answered {request} with error {code}: {message}. Retrying the same request will not help")]
    Rpc { url: String, request: String, code: i64, message: String },

    #[error("{url} sent an answer to {request} that cannot be read: {reason}. Is it a Solana JSON-RPC node?")]
    BadResponse { url: String, request: String, reason: String },

    #[error(
        "the Spotcheck program {program_id} is not deployed on {cluster} ({detail}): point the URL at the cluster it is deployed on, or deploy it there"
    )]
    ProgramNotDeployed { cluster: String, program_id: Pubkey, detail: String },

    #[error("{0}. Fix the transaction; sending it again fails the same way")]
    Refused(Box<Refusal>),

    #[error(
        "transaction {signature} was not confirmed after {signings} signing(s) and {sends} send(s); nothing of it landed, so sending anew is safe; retrying can help"
    )]
    NotConfirmed { signature: Signature, signings: u32, sends: u32 },

    #[error(
        "transaction {signature} was sent, but whether it landed is unknown ({reason}). Sending it anew could post it twice: read the chain state (or the signature's status) first"
    )]
    InDoubt { signature: Signature, reason: String },

    #[error(
        "the websocket to {url} closed: {reason}. The event feed reconnects and catches up from its cursor; retrying can help"
    )]
    WebsocketClosed { url: String, reason: String },

    #[error(
        "event cursor {cursor} is not in the transaction history of {cluster} (pruned, or from another cluster): rescan the program's accounts, then follow from the latest cursor"
    )]
    CursorNotFound { cluster: String, cursor: String },

    #[error(
        "account {address} does not decode as a {expected}: {reason}. Is this client built for the deployed program?"
    )]
    AccountLayout { address: Pubkey, expected: &'static str, reason: String },

    #[error("invalid input: {0}")]
    InvalidInput(String),

    #[error("the embedded chain failed: {0}")]
    Embedded(String),
}

impl ChainError {
    /// Whether the same call may succeed later: the node was down, slow,
    /// rate-limiting or behind, or a transaction did not land in time.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ChainError::Unreachable { .. }
                | ChainError::Timeout { .. }
                | ChainError::RateLimited { .. }
                | ChainError::NodeUnhealthy { .. }
                | ChainError::NotConfirmed { .. }
                | ChainError::WebsocketClosed { .. }
        )
    }

    /// The variant's name, for metrics labels and logs (`Unreachable`, `Refused`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            ChainError::Unreachable { .. } => "Unreachable",
            ChainError::Timeout { .. } => "Timeout",
            ChainError::RateLimited { .. } => "RateLimited",
            ChainError::NodeUnhealthy { .. } => "NodeUnhealthy",
            ChainError::Rpc { .. } => "Rpc",
            ChainError::BadResponse { .. } => "BadResponse",
            ChainError::ProgramNotDeployed { .. } => "ProgramNotDeployed",
            ChainError::Refused(_) => "Refused",
            ChainError::NotConfirmed { .. } => "NotConfirmed",
            ChainError::InDoubt { .. } => "InDoubt",
            ChainError::WebsocketClosed { .. } => "WebsocketClosed",
            ChainError::CursorNotFound { .. } => "CursorNotFound",
            ChainError::AccountLayout { .. } => "AccountLayout",
            ChainError::InvalidInput(_) => "InvalidInput",
            ChainError::Embedded(_) => "Embedded",
        }
    }

    /// How long the node asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ChainError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The refusal, when the program or the runtime refused a transaction.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            ChainError::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// The program's custom error code, when it refused a transaction.
    pub fn program_error(&self) -> Option<u32> {
        self.refusal().and_then(|refusal| refusal.program_error)
    }
}
