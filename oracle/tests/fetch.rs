//! The output fetch against endpoints that misbehave: down, slow,
//! redirecting, huge (with and without a length), malformed, an error
//! status, not http at all. Each is a clear error naming the URL and what
//! it did; none blocks longer than the timeout or reads past the limit.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use spotcheck_oracle::FetchConfig;
use spotcheck_oracle::fetch::{FetchError, Fetcher};

const HASH: [u8; 32] = [0xab; 32];
const LIMIT: usize = 64 << 10;

fn config() -> FetchConfig {
    FetchConfig { timeout: Duration::from_millis(500), max_body_bytes: LIMIT, ..FetchConfig::default() }
}

/// A server on port 0 with one misbehaviour per path prefix.
async fn server() -> String {
    let huge = "x".repeat(LIMIT + 1);
    let app = Router::new()
        .route(
            "/good/v1/outputs/{hash}",
            get(|| async { axum::Json(serde_json::json!({ "tokens": [1, 2, 3], "text": "hi" })) }),
        )
        .route(
            "/slow/v1/outputs/{hash}",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/redirect/v1/outputs/{hash}",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "http://elsewhere.example/")]).into_response() }),
        )
        .route(
            "/huge/v1/outputs/{hash}",
            get(move || {
                let huge = huge.clone();
                async move { huge }
            }),
        )
        .route(
            "/stream/v1/outputs/{hash}",
            get(|| async {
                // No Content-Length: chunks until well past the limit.
                let chunks = (0..LIMIT / 1024 + 8).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024]));
                Response::new(Body::from_stream(futures_util::stream::iter(chunks)))
            }),
        )
        .route("/malformed/v1/outputs/{hash}", get(|| async { "{\"tokens\": [1, \"two\"]}" }))
        .route("/negative/v1/outputs/{hash}", get(|| async { "{\"tokens\": [-1]}" }))
        .route("/missing/v1/outputs/{hash}", get(|| async { (StatusCode::NOT_FOUND, "no such output") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn every_misbehaving_endpoint_is_a_clear_bounded_error() {
    let base = server().await;
    let fetcher = Fetcher::new(config()).unwrap();
    assert_eq!(fetcher.output(&format!("{base}/good"), &HASH).await.unwrap(), vec![1, 2, 3]);
    assert_eq!(
        fetcher.output(&format!("{base}/good/"), &HASH).await.unwrap(),
        vec![1, 2, 3],
        "a trailing slash is fine"
    );

    let started = Instant::now();
    let err = fetcher.output(&format!("{base}/slow"), &HASH).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "the timeout bounds a slow endpoint");

    let err = fetcher.output(&format!("{base}/redirect"), &HASH).await.unwrap_err();
    assert!(matches!(&err, FetchError::Redirect { location, .. } if location == "http://elsewhere.example/"), "{err}");
    for path in ["huge", "stream"] {
        let err = fetcher.output(&format!("{base}/{path}"), &HASH).await.unwrap_err();
        assert!(matches!(err, FetchError::TooLarge { limit: LIMIT, .. }), "{path}: {err}");
    }
    for path in ["malformed", "negative"] {
        let err = fetcher.output(&format!("{base}/{path}"), &HASH).await.unwrap_err();
        assert!(matches!(err, FetchError::Malformed { .. }), "{path}: {err}");
        assert!(err.to_string().contains("tokens"), "{err}");
    }
    let err = fetcher.output(&format!("{base}/missing"), &HASH).await.unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 404, .. }), "{err}");
    assert!(err.to_string().contains(&format!("{base}/missing/v1/outputs/")), "the error names the URL: {err}");

    // Nothing listens on this port (bound, then closed).
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let err = fetcher.output(&format!("http://{closed}"), &HASH).await.unwrap_err();
    assert!(matches!(err, FetchError::Unreachable { .. }), "{err}");
    let err = fetcher.output("ftp://files.example", &HASH).await.unwrap_err();
    assert_eq!(err, FetchError::BadEndpoint("ftp://files.example".into()));
    assert_eq!(err.kind(), "bad_endpoint");
}
