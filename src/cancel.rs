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

    /// Runs a blocking request on its own thread, so a cancellation can abandon it at once
    /// instead of waiting up to its whole time budget.
    pub fn interruptible<T: Send + 'static>(
        &self,
        request: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (sender, receiver) = mpsc::channel();
        let waker = self.clone();
        std::thread::spawn(move || {
            let _ = sender.send(request());
            waker.wake();
        });
        let mut reply = None;
        loop {
            self.wait_until(Instant::now() + RECHECK_EVERY, || {
                match receiver.try_recv() {
                    Ok(r) => reply = Some(r),
                    Err(TryRecvError::Disconnected) => {
                        reply = Some(Err(ApiError::Transport {
                            detail: "the request ended without an answer".into(),
                        }))
                    }
                    Err(TryRecvError::Empty) => {}
                }
                reply.is_some()
            });
            if let Some(reply) = reply.take() {
                return reply;
            }
            if self.signal().is_some() {
                return Err(ApiError::Transport {
                    detail: "cancelled".into(),
                });
            }
        }
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
}
