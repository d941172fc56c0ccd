//! A scripted JSON-RPC "node" on port 0: each request goes to a handler that
//! answers with JSON, an HTTP status, or nothing at all (a hang). It records
//! every request, so tests can count calls and read what was sent.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub enum Reply {
    /// A JSON-RPC result.
    Result(Value),
    /// A JSON-RPC error object.
    Error { code: i64, message: String, data: Value },
    /// An HTTP status with an empty body, and a `Retry-After` if given.
    Status { code: u16, retry_after: Option<u64> },
    /// Never answers.
    Hang,
}

pub type Handler = Arc<dyn Fn(&str, &Value) -> Reply + Send + Sync>;

pub struct FakeNode {
    pub addr: SocketAddr,
    /// `(method, params)` of every request, in arrival order.
    pub requests: Arc<Mutex<Vec<(String, Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeNode {
    pub async fn start(handler: impl Fn(&str, &Value) -> Reply + Send + Sync + 'static) -> FakeNode {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the fake node");
        let addr = listener.local_addr().expect("address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let task = {
            let requests = requests.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, handler.clone(), requests.clone()));
                }
            })
        };
        FakeNode { addr, requests, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn methods(&self) -> Vec<String> {
        self.requests.lock().unwrap().iter().map(|(method, _)| method.clone()).collect()
    }

    pub fn count(&self, method: &str) -> usize {
        self.requests.lock().unwrap().iter().filter(|(name, _)| name == method).count()
    }

    pub fn params_of(&self, method: &str) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _)| name == method)
            .map(|(_, params)| params.clone())
            .collect()
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One HTTP/1.1 request per connection (`Connection: close`).
async fn serve(mut stream: TcpStream, handler: Handler, requests: Arc<Mutex<Vec<(String, Value)>>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_len, content_length) = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while buffer.len() < head_len + content_length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let request: Value = serde_json::from_slice(&buffer[head_len..head_len + content_length]).unwrap_or(Value::Null);
    let method = request["method"].as_str().unwrap_or_default().to_string();
    let params = request["params"].clone();
    requests.lock().unwrap().push((method.clone(), params.clone()));
    let (status, extra, body) = match handler(&method, &params) {
        Reply::Result(result) => (
            "200 OK".to_string(),
            String::new(),
            json!({"jsonrpc": "2.0", "id": request["id"], "result": result}).to_string(),
        ),
        Reply::Error { code, message, data } => (
            "200 OK".to_string(),
            String::new(),
            json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": code, "message": message, "data": data}})
                .to_string(),
        ),
        Reply::Status { code, retry_after } => (
            format!("{code} Status"),
            retry_after.map(|secs| format!("Retry-After: {secs}\r\n")).unwrap_or_default(),
            String::new(),
        ),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            return;
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// `{"context": {"slot": 1}, "value": value}`
pub fn with_context(value: Value) -> Value {
    json!({"context": {"slot": 1}, "value": value})
}

/// What `getAccountInfo` answers for a deployed program.
pub fn program_account() -> Value {
    with_context(json!({
        "data": ["", "base64"],
        "executable": true,
        "lamports": 1_141_440,
        "owner": "BPFLoaderUpgradeab1e11111111111111111111111",
        "rentEpoch": 0,
        "space": 0,
    }))
}

/// The first signature and the recent blockhash of a base64 wire
/// transaction with fewer than 128 signatures and accounts.
pub fn signature_and_blockhash(params: &Value) -> (String, String) {
    use base64::Engine;
    let wire =
        base64::engine::general_purpose::STANDARD.decode(params[0].as_str().unwrap_or_default()).unwrap_or_default();
    let signatures = usize::from(wire[0]);
    let signature = solana_signature::Signature::try_from(&wire[1..65]).unwrap().to_string();
    let message = &wire[1 + 64 * signatures..];
    let accounts = usize::from(message[3]);
    let at = 4 + 32 * accounts;
    let blockhash = solana_hash::Hash::new_from_array(message[at..at + 32].try_into().unwrap()).to_string();
    (signature, blockhash)
}
