//! A daemon binary's `main`: logging to stderr (`RUST_LOG`, default
//! `info`), the async runtime, SIGINT/SIGTERM cancelling the daemon's
//! shutdown token (a second signal exits at once, status 130), and the
//! error it ends with printed with whether retrying can help.

use std::future::Future;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

/// An error a daemon can end with.
pub trait Failure: std::fmt::Display {
    /// Whether starting again later can succeed without changing anything.
    fn is_retryable(&self) -> bool;
}

/// Runs `daemon(shutdown)` to its end; `stopping` is logged at the first signal.
pub fn main<E, F>(name: &str, stopping: &'static str, daemon: impl FnOnce(CancellationToken) -> F) -> ExitCode
where
    E: Failure,
    F: Future<Output = Result<(), E>>,
{
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{name}: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("{stopping} (signal again to exit at once)");
            stop.cancel();
            wait_for_signal().await;
            tracing::warn!("second signal: exiting now");
            std::process::exit(130);
        });
        daemon(shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("{name}: {err}{}", if err.is_retryable() { " (retrying later can help)" } else { "" });
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
