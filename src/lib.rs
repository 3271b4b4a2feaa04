//! dts-gate: gate a CI/CD pipeline on a Tencent Cloud DTS migration check.
pub mod api;
pub mod config;
pub mod duration;
pub mod outcome;
pub mod poll;
pub mod report;
pub mod runner;
pub mod sign;
