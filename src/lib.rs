//! dts-gate: gate a CI/CD pipeline on a Tencent Cloud DTS migration check.
//!
//! `config` reads the environment, `sign` and `api` talk to DTS, `poll` waits, `outcome`
//! decides, `report` tells, `gate` wires one run together and `demo` simulates the service.
pub mod api;
pub mod app;
pub mod cancel;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod dry_run;
pub mod dts;
pub mod duration;
pub mod fresh;
pub mod gate;
pub mod hints;
pub mod invocation;
pub mod outcome;
pub mod pace;
pub mod poll;
pub mod proxy;
pub mod regions;
pub mod report;
// The runner's parsing rules live with the test kit; the unit tests of `report` share that one copy.
#[cfg(test)]
#[path = "../tests/common/runner.rs"]
mod runner;
pub mod sign;
pub mod stage;
pub mod stage_gate;
pub mod tls;
