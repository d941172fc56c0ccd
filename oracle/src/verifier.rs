//! Re-execution on one thread that owns the device (as the worker's
//! inference thread: a GPU backend borrows the model's weights for as long
//! as it lives), so the async loop hands jobs over a channel and goes on
//! attesting and cranking while one is re-executed.
//!
//! Everything here is the engine's job protocol (`spotcheck_engine::job`):
//! the completion check behind an attestation and the teacher-forced
//! re-execution behind a verdict, with its evidence record.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use spotcheck_engine::{Backend, DeviceChoice, DeviceOptions, Hash, Job, JobVerdict, Model};
use tokio::sync::oneshot;

use crate::error::{OracleError, Result};

/// A model this oracle can judge.
pub struct JudgedModel {
    pub path: PathBuf,
    pub model: Arc<Model>,
}

impl JudgedModel {
    pub fn load(path: PathBuf) -> Result<Self> {
        let model = Model::load(&path).map_err(|source| OracleError::Model { path: path.clone(), source })?;
        Ok(JudgedModel { path, model: Arc::new(model) })
    }
}

/// A job to re-execute, owned (the chain account's fields it needs, and the served ids).
#[derive(Clone, Debug)]
pub struct ReExecution {
    pub model_id: Hash,
    pub prompt: String,
    pub token_budget: u32,
    pub output_hash: Hash,
    pub trace_root: Hash,
    pub tokens: Vec<u32>,
}

/// A re-execution's verdict and what it cost.
#[derive(Clone, Debug)]
pub struct ReExecuted {
    pub verdict: JobVerdict,
    /// On a failed verdict, the trace an honest provider would have
    /// committed (for locating the first leaf that differs); `None` on a
    /// pass, or when it could not be computed.
    pub trace: Option<spotcheck_engine::Trace>,
    /// Positions run through the model (prompt and served tokens).
    pub positions: usize,
    pub elapsed: Duration,
}

type Request = (ReExecution, oneshot::Sender<Result<ReExecuted, String>>);

/// The handle the async side holds; dropping every clone stops the thread.
#[derive(Clone)]
pub struct Verifier {
    requests: mpsc::Sender<Request>,
    pub device_name: String,
}

impl Verifier {
    /// Starts the thread and opens the device once per model (`auto` says
    /// once, in the log, when it falls back to the CPU).
    pub fn start(models: &[Arc<Model>], device: DeviceChoice, threads: usize) -> Result<Self> {
        let models: Vec<Arc<Model>> = models.to_vec();
        let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
        let (requests, receiver) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String>>();
        std::thread::Builder::new()
            .name("spotcheck-verifier".into())
            .spawn(move || {
                let options = DeviceOptions { threads, ..DeviceOptions::default() };
                let mut fallback_logged = false;
                let mut devices = HashMap::new();
                for model in &models {
                    let opened = spotcheck_engine::Device::open_logged(device, &model.weights, &options, &mut |line| {
                        if !fallback_logged {
                            tracing::warn!("{line}");
                            fallback_logged = true;
                        }
                    });
                    match opened {
                        Ok(opened) => {
                            devices.insert(model.id, (model.as_ref(), opened));
                        }
                        Err(err) => {
                            let _ = ready_tx.send(Err(OracleError::Device(err)));
                            return;
                        }
                    }
                }
                let name = devices.values().next().map(|(_, d)| d.name()).unwrap_or_else(|| "none".into());
                let _ = ready_tx.send(Ok(name));
                while let Ok((request, reply)) = receiver.recv() {
                    let result = match devices.get(&request.model_id) {
                        None => Err("the job's model is not loaded here".to_string()),
                        Some((model, device)) => re_execute(model, device, &request).map_err(|err| err.to_string()),
                    };
                    let _ = reply.send(result);
                }
            })
            .map_err(|err| OracleError::Config(format!("cannot start the verifier thread: {err}")))?;
        let device_name = ready_rx
            .recv()
            .map_err(|_| OracleError::Config("the verifier thread stopped while opening the device".into()))??;
        Ok(Verifier { requests, device_name })
    }

    /// Re-executes a job; resolves with its verdict. An error says why the
    /// job could not be judged (no verdict is voted on an error).
    pub async fn re_execute(&self, request: ReExecution) -> Result<ReExecuted, String> {
        let (reply, answer) = oneshot::channel();
        self.requests.send((request, reply)).map_err(|_| "the verifier thread has stopped".to_string())?;
        answer.await.map_err(|_| "the verifier thread stopped during the job".to_string())?
    }
}

fn re_execute(
    model: &Model,
    backend: &spotcheck_engine::Device<'_>,
    request: &ReExecution,
) -> spotcheck_engine::Result<ReExecuted> {
    let started = Instant::now();
    let job = Job { model_id: request.model_id, prompt: &request.prompt, token_budget: request.token_budget };
    let verdict = job.re_execute(model, backend, &request.output_hash, &request.trace_root, &request.tokens)?;
    let positions = job.prompt_tokens(model)?.len() + request.tokens.len();
    let elapsed = started.elapsed();
    // Only a failure needs it: one more pass, not counted in the verdict's time.
    let trace = if verdict.passed() { None } else { job.trace(model, backend, &request.tokens).ok() };
    Ok(ReExecuted { verdict, trace, positions, elapsed })
}
