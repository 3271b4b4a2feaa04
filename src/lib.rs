//! dts-gate: gate a CI/CD pipeline on a Tencent Cloud DTS migration check.
pub mod sign;
