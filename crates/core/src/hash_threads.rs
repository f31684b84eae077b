//! The threads that run argon2id.
//!
//! A hash takes milliseconds of CPU and 19 MiB of memory, so it never runs on the event loop.
//! A fixed set of threads takes the hashes in turn:
//! - their number bounds how many hashes run at once, and with it the memory hashing takes;
//! - each keeps its working memory from one hash to the next, on huge pages where the kernel
//!   offers them ([`portcullis_hashmem`]), instead of asking the allocator for 19 MiB each time;
//! - they are named `pw-hash-<n>`, so what hashing costs shows in per-thread CPU figures
//!   (`top -H`, `/proc/<pid>/task/*/stat`); the benchmark reads it there.
//!
//! The queue in front of them is bounded. Anyone can ask for a hash (a sign-in with any
//! username costs one), and an unbounded queue turns a flood into latency for everyone until
//! requests hit their deadline while still waiting. Past the bound a job is refused at once
//! ([`HashError::Busy`]), so the caller learns in microseconds that the server is saturated.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use argon2::Block;
use portcullis_hashmem::BlockMemory;
use tokio::sync::oneshot;

/// Prefix of the hashing threads' names.
pub const THREAD_NAME_PREFIX: &str = "pw-hash-";

type Job = Box<dyn FnOnce(&mut WorkingMemory) + Send>;

/// A hashing thread's memory, grown to the largest hash it has run.
#[derive(Default)]
pub struct WorkingMemory(Option<BlockMemory>);

impl WorkingMemory {
    /// `count` blocks, newly allocated when the ones held are fewer; `None` when the system
    /// has not that much memory to give.
    pub fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        if self.0.as_ref().is_none_or(|held| held.len() < count) {
            // The old memory goes first, so the two are never held at once.
            self.0 = None;
            self.0 = BlockMemory::new(count);
        }
        self.0
            .as_mut()
            .map(|held| &mut held.as_mut_slice()[..count])
    }
}

/// Why a job did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashError {
    /// No hashing thread is left to take it.
    NoThreads,
    /// The queue is full: refused without waiting.
    Busy,
}

/// Jobs that may wait per thread when no bound is given: at about 15-25 ms a hash, under a
/// second and a half of waiting, far inside the 30-second request deadline.
pub const DEFAULT_QUEUE_PER_THREAD: usize = 64;

/// Handle to the hashing threads; they exit once every handle is gone.
pub struct HashThreads {
    jobs: Sender<Job>,
    /// Jobs sent and not yet taken by a thread.
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

/// Takes a job off the waiting count when a thread picks it up, or when it is dropped unrun.
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashThreads {
    /// Starts `count` threads (at least one) with [`DEFAULT_QUEUE_PER_THREAD`] waiting jobs
    /// each at most.
    pub fn start(count: usize) -> HashThreads {
        Self::start_bounded(count, count.max(1) * DEFAULT_QUEUE_PER_THREAD)
    }

    /// Starts `count` threads (at least one) with at most `max_waiting` jobs queued for them.
    /// A thread the system refuses is logged and left out; with none at all, every job fails
    /// with [`HashError::NoThreads`].
    pub fn start_bounded(count: usize, max_waiting: usize) -> HashThreads {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..count.max(1) {
            let queue = queue.clone();
            let started = std::thread::Builder::new()
                .name(format!("{THREAD_NAME_PREFIX}{n}"))
                .spawn(move || serve(&queue));
            if let Err(e) = started {
                tracing::error!(error = %e, "cannot start a password-hashing thread");
            }
        }
        HashThreads {
            jobs,
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
        }
    }

    /// Runs `job` on a hashing thread with that thread's working memory. A caller that stops
    /// waiting (its request was dropped) takes its job off the queue: it will not run. With
    /// the queue full the job is refused at once.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut WorkingMemory) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let admitted = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_waiting).then_some(n + 1)
            });
        if admitted.is_err() {
            return Err(HashError::Busy);
        }
        let waiting = Waiting(self.waiting.clone());
        let (answer, answered) = oneshot::channel();
        let wrapped: Job = Box::new(move |memory| {
            drop(waiting);
            if !answer.is_closed() {
                // The caller may give up while the job runs; its answer is then dropped.
                let _ = answer.send(job(memory));
            }
        });
        self.jobs.send(wrapped).map_err(|_| HashError::NoThreads)?;
        answered.await.map_err(|_| HashError::NoThreads)
    }
}

/// One hashing thread: takes jobs until every [`HashThreads`] handle is gone.
fn serve(queue: &Mutex<Receiver<Job>>) {
    let mut memory = WorkingMemory::default();
    loop {
        // Only the thread holding the lock waits on the queue; the others wait for the lock.
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match next {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn jobs_run_on_named_threads_that_keep_their_memory() {
        let threads = HashThreads::start(1);
        let name = threads
            .run(|memory| {
                let first = memory.blocks(64).map(|b| b.as_ptr() as usize);
                (std::thread::current().name().map(str::to_owned), first)
            })
            .await
            .unwrap();
        assert_eq!(name.0.as_deref(), Some("pw-hash-0"));
        // The next job on the thread gets the same memory back, and a larger one a new one.
        let again = threads
            .run(|memory| memory.blocks(32).map(|b| (b.len(), b.as_ptr() as usize)))
            .await
            .unwrap();
        assert_eq!(again, name.1.map(|at| (32, at)));
        let larger = threads
            .run(|memory| memory.blocks(128).map(|b| b.len()))
            .await
            .unwrap();
        assert_eq!(larger, Some(128));
    }

    #[tokio::test]
    async fn no_more_jobs_run_at_once_than_there_are_threads() {
        let threads = Arc::new(HashThreads::start(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut all = Vec::new();
        for _ in 0..6 {
            let (threads, running, most) = (threads.clone(), running.clone(), most.clone());
            all.push(tokio::spawn(async move {
                threads
                    .run(move |_| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            }));
        }
        for job in all {
            job.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn beyond_the_queue_bound_a_job_is_refused_at_once() {
        let threads = Arc::new(HashThreads::start_bounded(1, 1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        // Occupy the only thread until released...
        let blocker = {
            let threads = threads.clone();
            tokio::spawn(async move {
                threads
                    .run(move |_| {
                        let _ = started.send(());
                        wait.recv().is_ok()
                    })
                    .await
            })
        };
        running.await.unwrap();
        // ...fill the one waiting place...
        let queued = {
            let threads = threads.clone();
            tokio::spawn(async move { threads.run(|_| 7).await })
        };
        while threads.waiting.load(Ordering::Acquire) < 1 {
            tokio::task::yield_now().await;
        }
        // ...and the next job is refused without waiting for either.
        assert_eq!(threads.run(|_| 8).await, Err(HashError::Busy));
        release.send(()).unwrap();
        assert!(blocker.await.unwrap().unwrap());
        assert_eq!(queued.await.unwrap(), Ok(7));
        // Once the queue drains, jobs are taken again.
        assert_eq!(threads.run(|_| 9).await, Ok(9));
        assert_eq!(threads.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_job_whose_caller_gave_up_does_not_run() {
        let threads = Arc::new(HashThreads::start(1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        // Occupy the only thread until released.
        let blocker = {
            let threads = threads.clone();
            tokio::spawn(async move { threads.run(move |_| wait.recv().is_ok()).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ran = Arc::new(AtomicBool::new(false));
        let abandoned = {
            let (threads, ran) = (threads.clone(), ran.clone());
            tokio::spawn(async move {
                threads
                    .run(move |_| ran.store(true, Ordering::SeqCst))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        abandoned.abort();
        let _ = abandoned.await;
        release.send(()).unwrap();
        assert!(blocker.await.unwrap().unwrap());
        // A job queued after the abandoned one runs, so the abandoned one had its turn.
        threads.run(|_| ()).await.unwrap();
        assert!(!ran.load(Ordering::SeqCst));
    }
}
