//! A clock that only moves when someone sleeps, for driving the poller without waiting.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use dts_gate::poll::{Clock, Sleeper};

/// Clones share one time: hand one to the poller as its clock and another as its sleeper.
#[derive(Clone, Default)]
pub struct FakeTime(Rc<Cell<Duration>>);

impl Clock for FakeTime {
    fn elapsed(&self) -> Duration {
        self.0.get()
    }
}

impl Sleeper for FakeTime {
    fn sleep(&mut self, duration: Duration) {
        self.0.set(self.0.get() + duration);
    }
}
