//! What the writer takes from the machine it runs on: the wall clock, randomness and the host
//! name. They come in as a [`Surroundings`], so renderers stay pure and tests fix them.

use time::OffsetDateTime;

/// The clock, the random source and the host name the [`super::Reporter`] uses.
pub struct Surroundings {
    /// The wall clock: when the run ends (JUnit dates the run from it).
    pub now: Box<dyn Fn() -> OffsetDateTime>,
    /// Random numbers for the delimiters of `GITHUB_OUTPUT`.
    pub random: Box<dyn FnMut() -> u128>,
    /// The machine's name when `HOSTNAME` is not set (JUnit's `hostname`); `localhost` if `None`.
    pub hostname: Option<String>,
}

impl Surroundings {
    /// The real ones: the system clock, the operating system's randomness and the kernel's host
    /// name.
    pub fn system() -> Surroundings {
        Surroundings {
            now: Box::new(OffsetDateTime::now_utc),
            random: Box::new(os_random),
            hostname: system_hostname(),
        }
    }
}

/// A random 128-bit number from the operating system, for delimiters and jitter.
pub fn os_random() -> u128 {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // Uniqueness, not secrecy, is what matters here, and every delimiter is checked
        // against the value anyway; the clock is a sufficient fallback.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return nanos ^ (u128::from(std::process::id()) << 64);
    }
    u128::from_le_bytes(bytes)
}

/// The kernel's host name where there is one (Linux).
fn system_hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}
