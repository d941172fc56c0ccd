//! [`Chain`] over JSON-RPC and PubSub: a real cluster or a local node, through
//! the nonblocking `RpcClient` and `PubsubClient` of `solana-client`.

use std::future::Future;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use async_trait::async_trait;
use serde_json::json;
use solana_account::Account;
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::RpcClientConfig;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::RpcRequest;
use solana_rpc_client_api::response::Response;
use solana_signature::Signature;

use super::transport::{HttpTransport, classify};
use super::{
    AccountFilter, Backoff, Chain, ChainError, Cluster, Confirmed, EventCursor, EventPage, Wakeups, history, send,
    wakeups,
};

/// Bounds on the compute-unit price (micro-lamports per compute unit) that
/// `send` derives from the node's recent prioritization fees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriorityFee {
    pub min_micro_lamports: u64,
    /// 0 turns priority fees off (no compute-unit price instruction).
    pub max_micro_lamports: u64,
    /// Which percentile of the recent fees to pay (0-100).
    pub percentile: u8,
}

impl Default for PriorityFee {
    /// Up to 0.1 lamport per compute unit (a 200,000-unit transaction pays
    /// at most 20,000 lamports extra), at the 75th percentile of recent fees.
    fn default() -> Self {
        PriorityFee { min_micro_lamports: 0, max_micro_lamports: 100_000, percentile: 75 }
    }
}

/// How `send` re-sends and waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendConfig {
    pub priority_fee: PriorityFee,
    /// The same signed transaction is sent again this often until it is
    /// confirmed or its blockhash expires (nodes drop transactions under load).
    pub resend_interval: Duration,
    /// How often the signature's status is polled while waiting.
    pub poll_interval: Duration,
    /// Fresh signings (each after the previous blockhash expired with nothing landed).
    pub max_signings: u32,
    /// Give up on one signing after this long without learning either that it
    /// landed or that it never can (the node unreachable all along).
    pub confirm_timeout: Duration,
}

impl Default for SendConfig {
    fn default() -> Self {
        SendConfig {
            priority_fee: PriorityFee::default(),
            resend_interval: Duration::from_secs(2),
            poll_interval: Duration::from_millis(400),
            max_signings: 3,
            confirm_timeout: Duration::from_secs(120),
        }
    }
}

/// Where and how to reach a cluster.
#[derive(Clone, Debug)]
pub struct RpcChainConfig {
    pub cluster: Cluster,
    /// `confirmed` by default: finalized lags ~32 slots, processed can roll back.
    pub commitment: CommitmentConfig,
    /// Where the program is deployed on this cluster.
    pub program_id: Pubkey,
    /// How long one HTTP request (or websocket connect) may take.
    pub request_timeout: Duration,
    /// Retries of reads (and of the steps of `send` before anything is sent).
    pub backoff: Backoff,
    pub send: SendConfig,
}

impl RpcChainConfig {
    pub fn new(cluster: Cluster) -> Self {
        RpcChainConfig {
            cluster,
            commitment: CommitmentConfig::confirmed(),
            program_id: crate::PROGRAM_ID,
            request_timeout: Duration::from_secs(20),
            backoff: Backoff::default(),
            send: SendConfig::default(),
        }
    }
}

pub struct RpcChain {
    pub(crate) rpc: RpcClient,
    pub(crate) config: RpcChainConfig,
}

impl RpcChain {
    /// Connects and checks that the program is deployed on the cluster: a
    /// wrong `--url` fails here, naming the cluster and the program id.
    pub async fn connect(config: RpcChainConfig) -> Result<Self, ChainError> {
        let transport = HttpTransport::new(&config.cluster.rpc_url, config.request_timeout)?;
        let rpc = RpcClient::new_sender(transport, RpcClientConfig::with_commitment(config.commitment));
        let chain = RpcChain { rpc, config };
        let program_id = chain.config.program_id;
        let not_deployed = |detail: String| ChainError::ProgramNotDeployed {
            cluster: chain.config.cluster.to_string(),
            program_id,
            detail,
        };
        match chain.account(&program_id).await? {
            None => Err(not_deployed("no account at that address".into())),
            Some(account) if !account.executable => {
                Err(not_deployed(format!("the account there is not executable (owner {})", account.owner)))
            }
            Some(_) => Ok(chain),
        }
    }

    pub fn config(&self) -> &RpcChainConfig {
        &self.config
    }

    /// The underlying client, for calls this interface does not cover.
    pub fn rpc_client(&self) -> &RpcClient {
        &self.rpc
    }

    /// Asks the cluster's faucet (localnet, devnet, testnet) for lamports and
    /// waits until they are confirmed.
    pub async fn request_airdrop(&self, to: &Pubkey, lamports: u64) -> Result<Signature, ChainError> {
        // Straight to `send`: `RpcClient::request_airdrop` replaces every error
        // with "airdrop request failed", hiding a node that is down.
        let params = json!([to.to_string(), lamports, {"commitment": self.config.commitment.commitment}]);
        let signature: String =
            self.call("requestAirdrop", || self.rpc.send(RpcRequest::RequestAirdrop, params.clone())).await?;
        let signature: Signature = signature
            .parse()
            .map_err(|_| self.bad_response("requestAirdrop", format!("`{signature}` is not a signature")))?;
        let deadline = tokio::time::Instant::now() + self.config.send.confirm_timeout;
        let asked = [signature];
        loop {
            let statuses = self.call("getSignatureStatuses", || self.rpc.get_signature_statuses(&asked)).await?;
            if let Some(Some(status)) = statuses.value.first() {
                if let Some(err) = &status.err {
                    return Err(ChainError::Rpc {
                        url: self.config.cluster.rpc_url.clone(),
                        request: "requestAirdrop".into(),
                        code: 0,
                        message: format!("the airdrop transaction {signature} failed: {err}"),
                    });
                }
                if status.satisfies_commitment(self.config.commitment) {
                    return Ok(signature);
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ChainError::NotConfirmed { signature, signings: 1, sends: 1 });
            }
            tokio::time::sleep(self.config.send.poll_interval).await;
        }
    }

    /// One RPC call with backoff on retryable errors; `request` names it in errors.
    pub(crate) async fn call<T, F, Fut>(&self, request: &str, mut call: F) -> Result<T, ChainError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        self.config
            .backoff
            .retry(|| {
                let pending = call();
                async move { pending.await.map_err(|err| self.classify(request, err)) }
            })
            .await
    }

    /// One RPC call, no retry (the send loop paces itself).
    pub(crate) async fn call_once<T>(
        &self,
        request: &str,
        call: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ChainError> {
        call.await.map_err(|err| self.classify(request, err))
    }

    fn account_config(&self) -> RpcAccountInfoConfig {
        RpcAccountInfoConfig {
            // Plain base64: every node serves it (zstd is optional).
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.config.commitment),
            ..RpcAccountInfoConfig::default()
        }
    }

    fn decode_account(&self, address: &Pubkey, ui_account: UiAccount, request: &str) -> Result<Account, ChainError> {
        ui_account
            .to_account()
            .ok_or_else(|| self.bad_response(request, format!("the data of {address} is not base64")))
    }

    fn bad_response(&self, request: &str, reason: String) -> ChainError {
        ChainError::BadResponse { url: self.config.cluster.rpc_url.clone(), request: request.into(), reason }
    }

    fn classify(&self, request: &str, err: ClientError) -> ChainError {
        classify(&self.config.cluster.rpc_url, request, self.config.request_timeout, err)
    }
}

/// What `getMultipleAccounts` takes at most per call.
const MAX_ACCOUNTS_PER_CALL: usize = 100;

#[async_trait]
impl Chain for RpcChain {
    fn cluster(&self) -> String {
        self.config.cluster.to_string()
    }

    fn program_id(&self) -> Pubkey {
        self.config.program_id
    }

    async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<Confirmed, ChainError> {
        send::send_and_confirm(self, instructions, signers).await
    }

    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError> {
        // Straight to `send`: `RpcClient::get_account*` turns every error
        // into a string ("AccountNotFound: ...", losing "the node is down")
        // and panics on undecodable data.
        let params = json!([address.to_string(), self.account_config()]);
        let response: Response<Option<UiAccount>> =
            self.call("getAccountInfo", || self.rpc.send(RpcRequest::GetAccountInfo, params.clone())).await?;
        response.value.map(|ui_account| self.decode_account(address, ui_account, "getAccountInfo")).transpose()
    }

    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        let mut found = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(MAX_ACCOUNTS_PER_CALL) {
            let keys: Vec<String> = chunk.iter().map(Pubkey::to_string).collect();
            let params = json!([keys, self.account_config()]);
            let response: Response<Vec<Option<UiAccount>>> = self
                .call("getMultipleAccounts", || self.rpc.send(RpcRequest::GetMultipleAccounts, params.clone()))
                .await?;
            if response.value.len() != chunk.len() {
                return Err(self.bad_response(
                    "getMultipleAccounts",
                    format!("{} accounts for {} addresses", response.value.len(), chunk.len()),
                ));
            }
            for (address, ui_account) in chunk.iter().zip(response.value) {
                found.push(
                    ui_account
                        .map(|ui_account| self.decode_account(address, ui_account, "getMultipleAccounts"))
                        .transpose()?,
                );
            }
        }
        Ok(found)
    }

    async fn program_accounts(&self, filters: &[AccountFilter]) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let filters: Vec<RpcFilterType> = filters
            .iter()
            .map(|filter| match filter {
                AccountFilter::Memcmp { offset, bytes } => {
                    // Base58: what every node version accepts.
                    RpcFilterType::Memcmp(Memcmp::new_base58_encoded(*offset, bytes))
                }
                AccountFilter::DataSize(len) => RpcFilterType::DataSize(*len),
            })
            .collect();
        let config = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: self.account_config(),
            ..RpcProgramAccountsConfig::default()
        };
        let found = self
            .call("getProgramAccounts", || {
                self.rpc.get_program_ui_accounts_with_config(&self.config.program_id, config.clone())
            })
            .await?;
        found
            .into_iter()
            .map(|(address, ui_account)| {
                self.decode_account(&address, ui_account, "getProgramAccounts").map(|account| (address, account))
            })
            .collect()
    }

    async fn slot(&self) -> Result<u64, ChainError> {
        self.call("getSlot", || self.rpc.get_slot_with_commitment(self.config.commitment)).await
    }

    async fn latest_cursor(&self) -> Result<Option<EventCursor>, ChainError> {
        history::latest_cursor(self).await
    }

    async fn events_after(
        &self,
        cursor: Option<&EventCursor>,
        max_transactions: usize,
    ) -> Result<EventPage, ChainError> {
        history::events_after(self, cursor, max_transactions).await
    }

    async fn wakeups(&self) -> Result<Wakeups, ChainError> {
        wakeups::subscribe_logs(
            &self.config.cluster.ws_url,
            self.config.program_id,
            self.config.commitment,
            self.config.request_timeout,
        )
        .await
    }
}
