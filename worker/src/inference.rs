//! Inference on one thread that owns the device: a GPU backend borrows the
//! model's weights for as long as it lives, and jobs run one after another
//! on it (the device's own threads or SMs are the parallelism), so the async
//! loop hands jobs over a channel and goes on cranking while one runs.
//!
//! Everything honest follows the engine's job protocol
//! (`spotcheck_engine::job`); the cheating modes are this crate's, for tests
//! and the demo.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use spotcheck_engine::{Backend, DeviceChoice, DeviceOptions, GenerateParams, Hash, Job, Model, commit, generate};
use tokio::sync::oneshot;

use crate::config::Cheat;
use crate::error::{Result, WorkerError};

/// A model this worker serves.
pub struct ServedModel {
    pub path: PathBuf,
    pub model: Arc<Model>,
}

impl ServedModel {
    pub fn load(path: PathBuf) -> Result<Self> {
        let model = Model::load(&path).map_err(|source| WorkerError::Model { path: path.clone(), source })?;
        Ok(ServedModel { path, model: Arc::new(model) })
    }

    pub fn id(&self) -> Hash {
        self.model.id
    }
}

/// A job to run, owned (the chain account's fields it needs).
#[derive(Clone, Debug)]
pub struct RunRequest {
    pub model_id: Hash,
    pub prompt: String,
    pub token_budget: u32,
}

/// What a run produced: the output to store and serve, and what to commit.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub tokens: Vec<u32>,
    pub text: String,
    pub output_hash: Hash,
    pub trace_root: Hash,
    pub trace_layers: u32,
    pub trace_leaves: Vec<Hash>,
    pub elapsed: Duration,
}

enum Request {
    Run(RunRequest, oneshot::Sender<Result<RunOutput, String>>),
}

/// The handle the async side holds; dropping it stops the thread.
#[derive(Clone)]
pub struct Inference {
    requests: mpsc::Sender<Request>,
    pub device_name: String,
}

impl Inference {
    /// Starts the inference thread over `models` and opens the device once
    /// per model (`auto` says once, in the log, when it falls back to the CPU).
    pub fn start(models: &[ServedModel], device: DeviceChoice, threads: usize, cheat: Option<&Cheat>) -> Result<Self> {
        let models: Vec<Arc<Model>> = models.iter().map(|m| m.model.clone()).collect();
        let cheat_model = match cheat {
            Some(Cheat::SmallerModel(path)) => Some(ServedModel::load(path.clone())?.model),
            _ => None,
        };
        let cheat = cheat.cloned();
        let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
        let (requests, receiver) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String>>();
        std::thread::Builder::new()
            .name("spotcheck-inference".into())
            .spawn(move || {
                let options = DeviceOptions { threads, ..DeviceOptions::default() };
                let mut fallback_logged = false;
                let mut devices = Vec::with_capacity(models.len());
                let all = models.iter().chain(cheat_model.as_ref());
                for model in all {
                    let opened = spotcheck_engine::Device::open_logged(device, &model.weights, &options, &mut |line| {
                        if !fallback_logged {
                            tracing::warn!("{line}");
                            fallback_logged = true;
                        }
                    });
                    match opened {
                        Ok(device) => devices.push(device),
                        Err(err) => {
                            let _ = ready_tx.send(Err(WorkerError::Device(err)));
                            return;
                        }
                    }
                }
                let name = devices.first().map(|d| d.name()).unwrap_or_default();
                let _ = ready_tx.send(Ok(name));
                let cheat_backend = cheat_model.as_ref().and_then(|m| Some((m.as_ref(), devices.last()?)));
                while let Ok(Request::Run(request, reply)) = receiver.recv() {
                    let result = models
                        .iter()
                        .zip(&devices)
                        .find(|(model, _)| model.id == request.model_id)
                        .ok_or_else(|| "the job's model is not served here".to_string())
                        .and_then(|(model, device)| {
                            run(model, device, &request, cheat.as_ref(), cheat_backend).map_err(|err| err.to_string())
                        });
                    let _ = reply.send(result);
                }
            })
            .map_err(|err| WorkerError::Config(format!("cannot start the inference thread: {err}")))?;
        let device_name = ready_rx
            .recv()
            .map_err(|_| WorkerError::Config("the inference thread stopped while opening the device".into()))??;
        Ok(Inference { requests, device_name })
    }

    /// Runs a job; resolves when the output is ready. An error names what
    /// went wrong with this job (its prompt, its model, the device).
    pub async fn run(&self, request: RunRequest) -> Result<RunOutput, String> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(Request::Run(request, reply)).map_err(|_| "the inference thread has stopped".to_string())?;
        answer.await.map_err(|_| "the inference thread stopped during the job".to_string())?
    }
}

/// Checked before claiming (the engine's [`Job::check`]): the prompt renders
/// to model input that fits the context with the whole budget.
pub fn check_job(model: &Model, prompt: &str, token_budget: u32) -> Result<usize, String> {
    let job = Job { model_id: model.id, prompt, token_budget };
    job.check(model).map(|tokens| tokens.len()).map_err(|err| format!("the job cannot run on this model: {err}"))
}

fn run(
    model: &Model,
    backend: &dyn Backend,
    request: &RunRequest,
    cheat: Option<&Cheat>,
    smaller: Option<(&Model, &spotcheck_engine::Device<'_>)>,
) -> spotcheck_engine::Result<RunOutput> {
    let started = Instant::now();
    let job = Job { model_id: model.id, prompt: &request.prompt, token_budget: request.token_budget };
    let prompt = job.prompt_tokens(model)?;
    let tokenizer = model.tokenizer()?;
    let budget = request.token_budget as usize;
    let generation = match (cheat, smaller) {
        (Some(Cheat::SkipWork), _) => {
            // No model runs: canned text, committed consistently (the output
            // hash is right for these tokens; the trace root is made up).
            let canned = "I am certain the answer is 42.";
            let mut tokens = tokenizer.encode(canned)?;
            tokens.extend(tokenizer.eos_token);
            tokens.truncate(budget);
            let output_hash = job.output_hash(model, &tokens)?;
            let trace_root: Hash = Sha256::digest(canned.as_bytes()).into();
            return Ok(RunOutput {
                text: tokenizer.decode(&tokens),
                tokens,
                output_hash,
                trace_root,
                trace_layers: 0,
                trace_leaves: Vec::new(),
                elapsed: started.elapsed(),
            });
        }
        (Some(Cheat::SmallerModel(_)), Some((other, device))) => {
            // The other model's answer to the same model input, claimed as the registered model's.
            generate(other, device, &prompt, &GenerateParams::new(budget))?
        }
        (Some(Cheat::Truncate), _) => {
            let mut generation = generate(model, backend, &prompt, &GenerateParams::new((budget / 2).max(1)))?;
            if generation.tokens.last().copied() == model.config().eos_token {
                generation.tokens.pop();
            }
            generation
        }
        _ => generate(model, backend, &prompt, &GenerateParams::new(budget))?,
    };
    let output_hash = commit::output_hash(&model.id, &commit::prompt_hash(&prompt), &generation.tokens);
    Ok(RunOutput {
        text: tokenizer.decode(&generation.tokens),
        tokens: generation.tokens,
        output_hash,
        trace_root: generation.commitments.trace_root,
        trace_layers: generation.trace.layers,
        trace_leaves: generation.trace.leaves,
        elapsed: started.elapsed(),
    })
}
