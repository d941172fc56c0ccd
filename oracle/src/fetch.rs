//! Fetching a result's output from its provider's endpoint
//! (`GET <endpoint>/v1/outputs/<output hash>`, the worker's output server),
//! bounded in time and size: the endpoint is the provider's, and a
//! provider that stalls, redirects, or streams gigabytes must cost an
//! oracle one bounded request, not its loop. Redirects are not followed (an
//! output is served where the provider registered, or it is not served).

use serde::Deserialize;
use spotcheck_engine::Hash;
use spotcheck_engine::commit::hex;

use crate::config::FetchConfig;
use crate::error::{OracleError, Result};

/// Why an output could not be had. Every one is "not served (yet)": the
/// oracle retries with backoff and votes withheld only near the deadline.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the provider's endpoint `{0}` is not an http(s) URL")]
    BadEndpoint(String),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} redirects to {location}; outputs must be served at the registered endpoint")]
    Redirect { url: String, location: String },
    #[error("{url} sent more than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url} sent a body that is not {what}: {reason}")]
    Malformed { url: String, what: &'static str, reason: String },
}

impl FetchError {
    /// A short label for the metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::BadEndpoint(_) => "bad_endpoint",
            FetchError::Unreachable { .. } => "unreachable",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Status { .. } => "status",
            FetchError::Redirect { .. } => "redirect",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Malformed { .. } => "malformed",
        }
    }
}

const OUTPUT: &str = "an output (JSON with `tokens`, a list of token ids)";
const PROOF: &str = "a trace proof (JSON with `leaf`, `index`, `leaf_count` and `siblings`)";

/// One trace leaf of a provider's, with its inclusion proof (the worker's
/// `GET /v1/outputs/<hash>/proof/<position>/<layer>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenLeaf {
    pub leaf: Hash,
    pub proof: spotcheck_engine::commit::InclusionProof,
}

#[derive(Deserialize)]
struct ServedProof {
    leaf: String,
    index: usize,
    leaf_count: usize,
    siblings: Vec<String>,
}

/// The part of the worker's output JSON an oracle relies on: the ids. It
/// recomputes everything else (hash, count, text) from them.
#[derive(Deserialize)]
struct Served {
    tokens: Vec<u32>,
}

/// `<endpoint>/v1/outputs/<hash><rest>`, for an http(s) endpoint (a trailing slash is fine).
fn outputs_url(endpoint: &str, output_hash: &Hash, rest: &str) -> Result<String, FetchError> {
    let base = endpoint.trim().trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(FetchError::BadEndpoint(endpoint.to_string()));
    }
    Ok(format!("{base}/v1/outputs/{}{rest}", hex(output_hash)))
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("spotcheck-oracle/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| OracleError::Config(format!("cannot build the HTTP client: {err}")))?;
        Ok(Fetcher { client, config })
    }

    /// The token ids `endpoint` serves for `output_hash`.
    pub async fn output(&self, endpoint: &str, output_hash: &Hash) -> Result<Vec<u32>, FetchError> {
        let url = outputs_url(endpoint, output_hash, "")?;
        let body = self.get(&url).await?;
        serde_json::from_slice::<Served>(&body).map(|served| served.tokens).map_err(|err| FetchError::Malformed {
            url,
            what: OUTPUT,
            reason: err.to_string(),
        })
    }

    /// The provider's trace leaf at (`position`, `layer`) of `output_hash`,
    /// with its inclusion proof (checked by the caller against the root).
    pub async fn proof(
        &self,
        endpoint: &str,
        output_hash: &Hash,
        position: u32,
        layer: u32,
    ) -> Result<ProvenLeaf, FetchError> {
        let url = outputs_url(endpoint, output_hash, &format!("/proof/{position}/{layer}"))?;
        let body = self.get(&url).await?;
        let malformed = |reason: String| FetchError::Malformed { url: url.clone(), what: PROOF, reason };
        let served: ServedProof = serde_json::from_slice(&body).map_err(|err| malformed(err.to_string()))?;
        let hash = |text: &str| {
            spotcheck_service::db::parse_hash(text).ok_or_else(|| malformed(format!("`{text}` is not a hash")))
        };
        Ok(ProvenLeaf {
            leaf: hash(&served.leaf)?,
            proof: spotcheck_engine::commit::InclusionProof {
                index: served.index,
                leaf_count: served.leaf_count,
                siblings: served.siblings.iter().map(|s| hash(s)).collect::<Result<_, _>>()?,
            },
        })
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let failed = |err: reqwest::Error| {
            if err.is_timeout() {
                FetchError::Timeout { url: url.to_string(), seconds: self.config.timeout.as_secs().max(1) }
            } else {
                FetchError::Unreachable { url: url.to_string(), reason: err.to_string() }
            }
        };
        let mut response = self.client.get(url).send().await.map_err(failed)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("(no Location)")
                .to_string();
            return Err(FetchError::Redirect { url: url.to_string(), location });
        }
        if !status.is_success() {
            return Err(FetchError::Status { url: url.to_string(), status: status.as_u16() });
        }
        let limit = self.config.max_body_bytes;
        let too_large = || FetchError::TooLarge { url: url.to_string(), limit };
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        // Read by chunks: a body without a length (or lying about it) stops at the limit.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
