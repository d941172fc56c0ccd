//! A small fork-join pool for the many short parallel ops of one token
//! (~250 per decode step, ~50 µs each). rayon's sleep/wake hand-off costs a
//! large share of that, so here helper threads spin briefly between jobs and
//! only park when the engine is idle; the calling thread takes tasks too.
//!
//! Scheduling never affects results: tasks write disjoint outputs and each
//! computes its rows with the same code whichever thread runs it.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// Spin iterations before a helper parks (tens of microseconds).
const SPINS: u32 = 1 << 16;

type Payload = Box<dyn std::any::Any + Send>;

/// One parallel call; lives on the caller's stack for the call's duration.
struct Job<'a> {
    f: &'a (dyn Fn(usize) + Sync),
    n: usize,
    next: AtomicUsize,
    done: AtomicUsize,
    panic: Mutex<Option<Payload>>,
}

impl Job<'_> {
    /// Takes tasks until none are left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, SeqCst);
            if i >= self.n {
                return;
            }
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| (self.f)(i))) {
                *self.panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(p);
            }
            self.done.fetch_add(1, SeqCst);
        }
    }
}

struct Shared {
    /// The current job, or null; see `run` for the hand-off protocol.
    job: AtomicPtr<Job<'static>>,
    /// Helpers currently holding a pointer to `job`.
    active: AtomicUsize,
    epoch: AtomicU64,
    sleepers: AtomicUsize,
    shutdown: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

pub struct Pool {
    shared: Arc<Shared>,
    helpers: Vec<JoinHandle<()>>,
    /// One job at a time per pool.
    submit: Mutex<()>,
}

impl Pool {
    /// A pool of `threads` workers: the caller plus `threads - 1` helpers.
    pub fn new(threads: usize) -> Result<Self> {
        let shared = Arc::new(Shared {
            job: AtomicPtr::new(std::ptr::null_mut()),
            active: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
            sleepers: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        let mut helpers = Vec::new();
        for i in 1..threads.max(1) {
            let s = Arc::clone(&shared);
            let h = std::thread::Builder::new()
                .name(format!("spotcheck-cpu-{i}"))
                .spawn(move || helper(&s))
                .map_err(|e| Error::ThreadPool(e.to_string()))?;
            helpers.push(h);
        }
        Ok(Self { shared, helpers, submit: Mutex::new(()) })
    }

    /// Calls f(0..n), spread over the workers; returns when all are done.
    /// `f` must not call `run` on the same pool (the submit lock is held).
    pub fn run(&self, n: usize, f: &(dyn Fn(usize) + Sync)) {
        if self.helpers.is_empty() || n <= 1 {
            (0..n).for_each(f);
            return;
        }
        let _one_at_a_time = self.submit.lock().unwrap_or_else(PoisonError::into_inner);
        let job = Job { f, n, next: AtomicUsize::new(0), done: AtomicUsize::new(0), panic: Mutex::new(None) };
        let s = &*self.shared;
        // SAFETY: the pointer is withdrawn (swapped to null) and every helper
        // that loaded it has left (`active == 0`) before `job` goes out of
        // scope below, so no helper dereferences it after this frame ends.
        let ptr = &job as *const Job<'_> as *mut Job<'static>;
        s.job.store(ptr, SeqCst);
        s.epoch.fetch_add(1, SeqCst);
        if s.sleepers.load(SeqCst) > 0 {
            let _g = s.lock.lock().unwrap_or_else(PoisonError::into_inner);
            s.wake.notify_all();
        }
        job.work();
        wait_until(|| job.done.load(SeqCst) >= n);
        s.job.store(std::ptr::null_mut(), SeqCst);
        wait_until(|| s.active.load(SeqCst) == 0);
        let panic = job.panic.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(p) = panic {
            resume_unwind(p);
        }
    }
}

/// Spins, then yields: a helper that was descheduled mid-task (another
/// process holds the core) gets the CPU back instead of being spun against.
fn wait_until(cond: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !cond() {
        if spins < 1 << 10 {
            spins += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

fn helper(s: &Shared) {
    let mut seen = 0u64;
    loop {
        let mut spins = 0u32;
        loop {
            if s.shutdown.load(SeqCst) {
                return;
            }
            let e = s.epoch.load(SeqCst);
            if e != seen {
                seen = e;
                break;
            }
            if spins < SPINS {
                spins += 1;
                // Let other processes in now and then when cores are shared.
                if spins.is_multiple_of(256) {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
                continue;
            }
            let mut g = s.lock.lock().unwrap_or_else(PoisonError::into_inner);
            s.sleepers.fetch_add(1, SeqCst);
            while s.epoch.load(SeqCst) == seen && !s.shutdown.load(SeqCst) {
                g = s.wake.wait(g).unwrap_or_else(PoisonError::into_inner);
            }
            s.sleepers.fetch_sub(1, SeqCst);
            spins = 0;
        }
        s.active.fetch_add(1, SeqCst);
        let p = s.job.load(SeqCst);
        // SAFETY: non-null means the caller is still inside `run` and will
        // not return until `active` drops back (see `Pool::run`).
        if let Some(job) = unsafe { p.as_ref() } {
            job.work();
        }
        s.active.fetch_sub(1, SeqCst);
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, SeqCst);
        {
            let _g = self.shared.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.shared.wake.notify_all();
        }
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_every_task_once() {
        let pool = Pool::new(3).unwrap();
        for n in [0, 1, 2, 7, 100] {
            let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            pool.run(n, &|i| {
                hits[i].fetch_add(1, SeqCst);
            });
            assert!(hits.iter().all(|h| h.load(SeqCst) == 1));
        }
        // Helpers park when idle and wake for the next job.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let sum = AtomicUsize::new(0);
        pool.run(10, &|i| {
            sum.fetch_add(i, SeqCst);
        });
        assert_eq!(sum.load(SeqCst), 45);
    }

    #[test]
    fn task_panics_reach_the_caller() {
        let pool = Pool::new(2).unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| pool.run(4, &|i| assert!(i != 2))));
        assert!(r.is_err());
        pool.run(3, &|_| {});
    }
}
