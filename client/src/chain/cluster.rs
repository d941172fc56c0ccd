//! Which cluster to talk to, named as the Solana CLI names them
//! (`--url localhost`, `devnet`, `mainnet-beta`, `testnet`, their one-letter
//! forms, or a URL), with the websocket URL derived as the CLI derives it.

use std::fmt;
use std::str::FromStr;

use super::ChainError;

/// A cluster's JSON-RPC and PubSub endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cluster {
    /// The moniker it was given by (`devnet`), or its RPC URL: for messages.
    pub name: String,
    pub rpc_url: String,
    pub ws_url: String,
}

impl Cluster {
    pub fn localhost() -> Self {
        Self::named("localhost", "http://localhost:8899")
    }

    pub fn devnet() -> Self {
        Self::named("devnet", "https://api.devnet.solana.com")
    }

    pub fn testnet() -> Self {
        Self::named("testnet", "https://api.testnet.solana.com")
    }

    pub fn mainnet_beta() -> Self {
        Self::named("mainnet-beta", "https://api.mainnet-beta.solana.com")
    }

    fn named(name: &str, rpc_url: &str) -> Self {
        // The monikers' URLs are constants that parse.
        let ws_url = websocket_url(rpc_url).unwrap_or_default();
        Cluster { name: name.to_string(), rpc_url: rpc_url.to_string(), ws_url }
    }

    /// A node whose websocket is not where the CLI's rule puts it (a local
    /// node started on two free ports, for one).
    pub fn custom(rpc_url: &str, ws_url: &str) -> Result<Self, ChainError> {
        check_url(rpc_url, &["http", "https"])?;
        check_url(ws_url, &["ws", "wss"])?;
        Ok(Cluster { name: rpc_url.to_string(), rpc_url: rpc_url.to_string(), ws_url: ws_url.to_string() })
    }
}

impl Cluster {
    /// The cluster a command line names: `url` (a moniker or an RPC URL)
    /// and, when the PubSub URL is not the RPC URL's with `ws(s)://` and the
    /// next port (most RPC providers), `ws_url`.
    pub fn from_flags(url: &str, ws_url: Option<&str>) -> Result<Self, ChainError> {
        let cluster: Cluster = url.parse()?;
        match ws_url {
            Some(ws_url) => Cluster::custom(&cluster.rpc_url, ws_url),
            None => Ok(cluster),
        }
    }
}

impl FromStr for Cluster {
    type Err = ChainError;

    /// A moniker or its first letter (as `solana --url` takes them), or an
    /// http(s) URL.
    fn from_str(text: &str) -> Result<Self, ChainError> {
        match text {
            "localhost" | "l" => Ok(Cluster::localhost()),
            "devnet" | "d" => Ok(Cluster::devnet()),
            "testnet" | "t" => Ok(Cluster::testnet()),
            "mainnet-beta" | "m" => Ok(Cluster::mainnet_beta()),
            url => {
                check_url(url, &["http", "https"])?;
                let ws_url = websocket_url(url)?;
                Ok(Cluster { name: url.to_string(), rpc_url: url.to_string(), ws_url })
            }
        }
    }
}

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn check_url(text: &str, schemes: &[&str]) -> Result<url::Url, ChainError> {
    let url = url::Url::parse(text).map_err(|err| {
        ChainError::InvalidInput(format!(
            "`{text}` is neither a cluster moniker (localhost, devnet, testnet, mainnet-beta) nor a URL: {err}"
        ))
    })?;
    if !schemes.contains(&url.scheme()) {
        return Err(ChainError::InvalidInput(format!("`{text}` should start with {}://", schemes.join(":// or "))));
    }
    if url.host().is_none() {
        return Err(ChainError::InvalidInput(format!("`{text}` has no host")));
    }
    Ok(url)
}

/// The Solana CLI's rule (`ConfigInput::compute_websocket_url`): the same
/// URL with `ws`/`wss` for `http`/`https`, and the port plus one when a port
/// is given (a validator serves PubSub on the RPC port + 1).
pub fn websocket_url(rpc_url: &str) -> Result<String, ChainError> {
    let rpc = check_url(rpc_url, &["http", "https"])?;
    let mut ws = rpc.clone();
    let scheme = if rpc.scheme() == "https" { "wss" } else { "ws" };
    let bad = |what: &str| ChainError::InvalidInput(format!("cannot derive a websocket URL from `{rpc_url}`: {what}"));
    ws.set_scheme(scheme).map_err(|()| bad("scheme"))?;
    if let Some(port) = rpc.port() {
        let port = port.checked_add(1).ok_or_else(|| bad("port 65535 has no next port"))?;
        ws.set_port(Some(port)).map_err(|()| bad("port"))?;
    }
    Ok(ws.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monikers_and_their_letters_name_the_public_clusters() {
        for (text, rpc, ws) in [
            ("localhost", "http://localhost:8899", "ws://localhost:8900/"),
            ("l", "http://localhost:8899", "ws://localhost:8900/"),
            ("devnet", "https://api.devnet.solana.com", "wss://api.devnet.solana.com/"),
            ("t", "https://api.testnet.solana.com", "wss://api.testnet.solana.com/"),
            ("mainnet-beta", "https://api.mainnet-beta.solana.com", "wss://api.mainnet-beta.solana.com/"),
        ] {
            let cluster: Cluster = text.parse().unwrap();
            assert_eq!((cluster.rpc_url.as_str(), cluster.ws_url.as_str()), (rpc, ws), "{text}");
        }
        assert_eq!(Cluster::devnet().to_string(), "devnet");
    }

    #[test]
    fn a_url_gets_the_websocket_on_the_next_port_like_the_cli() {
        let cluster: Cluster = "http://127.0.0.1:18899".parse().unwrap();
        assert_eq!(cluster.ws_url, "ws://127.0.0.1:18900/");
        let cluster: Cluster = "https://rpc.example.com/key/abc".parse().unwrap();
        assert_eq!(cluster.ws_url, "wss://rpc.example.com/key/abc");
        assert_eq!(cluster.name, "https://rpc.example.com/key/abc");
    }

    #[test]
    fn nonsense_is_refused_with_what_would_be_accepted() {
        for text in ["devnett", "ftp://example.com", "http://", "ws://127.0.0.1:8900"] {
            let err = text.parse::<Cluster>().unwrap_err();
            assert!(matches!(err, ChainError::InvalidInput(_)), "{text}: {err}");
            assert!(!err.is_retryable());
        }
        assert!(websocket_url("http://127.0.0.1:65535").is_err());
    }
}
