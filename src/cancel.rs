//! Cancellation by the runner: GitHub stops a step with SIGINT, then SIGTERM, and the gate must
//! stop within a second yet still write its outputs. Waits (between polls, and for a request in
//! flight) sleep on a condition variable that a signal or a finished request wakes, so an idle
//! gate costs no CPU and a signal is seen at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::api::ApiError;
use crate::poll::Sleeper;

/// A safety net for the waits below: they wake at least this often even if a wake-up is lost.
const RECHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Shared {
    signal: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
    /// Request threads waiting for their next request.
    idle: Mutex<Vec<Worker>>,
    #[cfg(test)]
    workers_started: AtomicUsize,
}

/// The signal that asked the gate to stop; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Cancellation(Arc<Shared>);

impl Cancellation {
    pub fn new() -> Cancellation {
        Cancellation::default()
    }

    /// Starts a thread that turns SIGINT and SIGTERM into a cancellation. Without it (tests,
    /// or when the handlers cannot be installed) the gate simply cannot be cancelled.
    pub fn on_signals(&self) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let this = self.clone();
        std::thread::spawn(move || {
            for signal in signals.forever() {
                this.cancel(signal);
            }
        });
        Ok(())
    }

    /// Cancels the run with `signal` and wakes every wait.
    pub fn cancel(&self, signal: i32) {
        // The first signal is the one reported.
        let _ = self.0.signal.compare_exchange(
            0,
            usize::try_from(signal).unwrap_or(15),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        self.wake();
    }

    /// The signal that cancelled the run, if one arrived.
    pub fn signal(&self) -> Option<i32> {
        match self.0.signal.load(Ordering::SeqCst) {
            0 => None,
            n => Some(i32::try_from(n).unwrap_or(15)),
        }
    }

    fn wake(&self) {
        let _guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.0.wake.notify_all();
    }

    /// Waits until `done` holds, the run is cancelled, or `until` passes.
    fn wait_until(&self, until: Instant, mut done: impl FnMut() -> bool) {
        let mut guard = self.0.lock.lock().unwrap_or_else(|e| e.into_inner());
        // Conditions are checked with the lock held, and wakers take it before notifying, so
        // no wake-up falls between a check and the wait.
        while !done() && self.signal().is_none() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            guard = match self.0.wake.wait_timeout(guard, left.min(RECHECK_EVERY)) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Runs a blocking request on a request thread, so a cancellation can abandon it at once
    /// instead of waiting up to its whole time budget. Request threads live on and take the
    /// next request; a new one starts only when none is idle (the first request, or after one
    /// was abandoned still running). Each request answers on its own channel, so an abandoned
    /// request's late answer reaches nobody. Nothing starts once the run is cancelled.
    pub fn interruptible<T: Send + 'static>(
        &self,
        request: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        if self.signal().is_some() {
            return Err(cancelled());
        }
        let (sender, receiver) = mpsc::channel();
        let waker = WakeOnDrop(self.clone());
        let worker = self.dispatch(Box::new(move || {
            // The sender is dropped before the guard, also when `request` panics: the waiter
            // is woken after the answer is sent or can no longer come.
            let _waker = waker;
            let sender = sender;
            let _ = sender.send(request());
        }))?;
        let mut reply = None;
        let mut finished = true;
        loop {
            self.wait_until(Instant::now() + RECHECK_EVERY, || {
                match receiver.try_recv() {
                    Ok(r) => reply = Some(r),
                    Err(TryRecvError::Disconnected) => {
                        // The request panicked, and its thread with it.
                        finished = false;
                        reply = Some(Err(ApiError::Transport {
                            detail: "the request ended without an answer".into(),
                        }))
                    }
                    Err(TryRecvError::Empty) => {}
                }
                reply.is_some()
            });
            if let Some(reply) = reply.take() {
                if finished {
                    self.idle().push(worker);
                }
                return reply;
            }
            if self.signal().is_some() {
                // `worker` is dropped busy: its thread ends when the request does, if the
                // process has not ended first.
                return Err(cancelled());
            }
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Worker>> {
        self.0.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `job` to an idle request thread, or to a new one; returns the thread's handle.
    fn dispatch(&self, mut job: Job) -> Result<Worker, ApiError> {
        loop {
            let Some(worker) = self.idle().pop() else {
                break;
            };
            match worker.jobs.send(job) {
                Ok(()) => return Ok(worker),
                // Its thread is gone; none should be, but then another will do.
                Err(mpsc::SendError(back)) => job = back,
            }
        }
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("dts-gate request".into())
            .spawn(move || {
                for job in queue {
                    job();
                }
            })
            .map_err(|e| ApiError::Transport {
                detail: format!("could not start a thread for the request: {e}"),
            })?;
        #[cfg(test)]
        self.0.workers_started.fetch_add(1, Ordering::SeqCst);
        jobs.send(job).map_err(|_| ApiError::Transport {
            detail: "the request thread ended before the request".into(),
        })?;
        Ok(Worker { jobs })
    }

    /// How many request threads this cancellation started.
    #[cfg(test)]
    fn workers_started(&self) -> usize {
        self.0.workers_started.load(Ordering::SeqCst)
    }
}

fn cancelled() -> ApiError {
    ApiError::Transport {
        detail: "cancelled".into(),
    }
}

/// Work for a request thread.
type Job = Box<dyn FnOnce() + Send>;

/// A request thread, through which it takes its next job; dropping it ends the thread once its
/// current job (if any) is done.
#[derive(Debug)]
struct Worker {
    jobs: mpsc::Sender<Job>,
}

/// Wakes every wait when dropped.
struct WakeOnDrop(Cancellation);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.wake();
    }
}

/// Sleeps the current thread until the time is up or the run is cancelled.
pub struct CancellableSleeper {
    cancellation: Cancellation,
}

impl CancellableSleeper {
    pub fn new(cancellation: &Cancellation) -> CancellableSleeper {
        CancellableSleeper {
            cancellation: cancellation.clone(),
        }
    }
}

impl Sleeper for CancellableSleeper {
    fn sleep(&mut self, duration: Duration) {
        self.cancellation
            .wait_until(Instant::now() + duration, || false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_ends_early_on_cancellation() {
        let c = Cancellation::new();
        let other = c.clone();
        let started = Instant::now();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.cancel(15);
        });
        CancellableSleeper::new(&c).sleep(Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(c.signal(), Some(15));
        // The first signal is kept.
        c.cancel(2);
        assert_eq!(c.signal(), Some(15));
    }

    #[test]
    fn a_sleep_lasts_its_time_without_cancellation() {
        let c = Cancellation::new();
        let started = Instant::now();
        CancellableSleeper::new(&c).sleep(Duration::from_millis(120));
        assert!(started.elapsed() >= Duration::from_millis(120));
        assert_eq!(c.signal(), None);
    }

    #[test]
    fn a_request_in_flight_is_abandoned_on_cancellation() {
        let c = Cancellation::new();
        let other = c.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.cancel(2);
        });
        let started = Instant::now();
        let reply: Result<(), ApiError> = c.interruptible(|| {
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        });
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(reply, Err(ApiError::Transport { ref detail }) if detail == "cancelled"));
    }

    #[test]
    fn a_quick_request_returns_its_reply() {
        let c = Cancellation::new();
        let started = Instant::now();
        assert_eq!(c.interruptible(|| Ok(7)), Ok(7));
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn requests_share_one_long_lived_thread() {
        let c = Cancellation::new();
        let ids: Vec<_> = (0..20)
            .map(|i| {
                let (n, id) = c
                    .interruptible(move || Ok((i, std::thread::current().id())))
                    .unwrap();
                assert_eq!(n, i);
                id
            })
            .collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_ne!(ids[0], std::thread::current().id());
        assert_eq!(c.workers_started(), 1);
    }

    #[test]
    fn a_busy_request_thread_is_not_waited_for() {
        let c = Cancellation::new();
        let other = c.clone();
        let slow = std::thread::spawn(move || {
            other.interruptible(|| {
                std::thread::sleep(Duration::from_millis(400));
                Ok("slow")
            })
        });
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        assert_eq!(c.interruptible(|| Ok("quick")), Ok("quick"));
        assert!(started.elapsed() < Duration::from_millis(300));
        assert_eq!(slow.join().unwrap(), Ok("slow"));
        assert_eq!(c.workers_started(), 2);
        // Both threads are idle again and serve what follows.
        for _ in 0..5 {
            assert_eq!(c.interruptible(|| Ok(1)), Ok(1));
        }
        assert_eq!(c.workers_started(), 2);
    }

    #[test]
    fn a_panicking_request_answers_and_the_next_gets_a_fresh_thread() {
        let c = Cancellation::new();
        // No time bound: with RUST_BACKTRACE set, the panic message alone can take a while.
        let reply: Result<(), ApiError> = c.interruptible(|| panic!("request failed"));
        assert!(
            matches!(reply, Err(ApiError::Transport { ref detail }) if detail.contains("without an answer"))
        );
        assert_eq!(c.interruptible(|| Ok(2)), Ok(2));
        assert_eq!(c.workers_started(), 2);
    }

    #[test]
    fn nothing_starts_once_cancelled() {
        let c = Cancellation::new();
        c.cancel(2);
        let ran = Arc::new(AtomicUsize::new(0));
        let counter = ran.clone();
        let reply = c.interruptible(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        assert!(matches!(reply, Err(ApiError::Transport { ref detail }) if detail == "cancelled"));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(c.workers_started(), 0);
    }

    #[test]
    fn an_abandoned_request_thread_is_not_reused() {
        let c = Cancellation::new();
        let other = c.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.cancel(15);
        });
        let _: Result<(), ApiError> = c.interruptible(|| {
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        });
        assert!(c.idle().is_empty());
    }
}
