//! The seam between a run and the DTS service: the actions a run takes, as a trait. The real
//! client implements it ([`LiveDts`]); orchestration tests script a fake, so the order of
//! create, wait and start is tested without a network, a clock or a thread. A new action is
//! one more method here, on the client, and on the fakes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::{ApiError, ApiVersion, CheckAnswer, Client};
use crate::cancel::Cancellation;

/// The DTS actions a run takes on one job. `budget` caps one request's time.
pub trait Dts {
    /// The job's current check result (`DescribeMigrateCheckJob` / `DescribeMigrationCheckJob`).
    fn describe_check(&self, job: &str, budget: Duration) -> Result<CheckAnswer, ApiError>;
    /// Creates a new check of the job (`CreateMigrateCheckJob`); returns its `RequestId`.
    fn create_check(&self, job: &str, budget: Duration) -> Result<String, ApiError>;
    /// Starts the job's migration (`StartMigrateJob`); returns its `RequestId`.
    fn start_migration(&self, job: &str, budget: Duration) -> Result<String, ApiError>;
    /// Seconds the runner's clock is behind the service's, as learned from the service so far
    /// (requests are signed with the corrected time); 0 when nothing was learned.
    fn clock_offset(&self) -> i64 {
        0
    }
}

/// The real service: signed requests through [`Client`], each one abandoned at once when the
/// run is cancelled.
pub struct LiveDts {
    client: Client,
    api: ApiVersion,
    cancellation: Cancellation,
}

impl LiveDts {
    pub fn new(client: Client, api: ApiVersion, cancellation: Cancellation) -> LiveDts {
        LiveDts {
            client,
            api,
            cancellation,
        }
    }

    fn send<T: Send + 'static>(
        &self,
        job: &str,
        request: impl FnOnce(&Client, ApiVersion, &str, i64) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (client, api, job) = (self.client.clone(), self.api, job.to_string());
        self.cancellation
            .interruptible(move || request(&client, api, &job, unix_now()))
    }
}

impl Dts for LiveDts {
    fn describe_check(&self, job: &str, budget: Duration) -> Result<CheckAnswer, ApiError> {
        self.send(job, move |client, api, job, now| {
            client.describe_check(api, job, now, budget)
        })
    }

    fn create_check(&self, job: &str, budget: Duration) -> Result<String, ApiError> {
        self.send(job, move |client, api, job, now| {
            client.create_check(api, job, now, budget)
        })
    }

    fn start_migration(&self, job: &str, budget: Duration) -> Result<String, ApiError> {
        self.send(job, move |client, api, job, now| {
            client.start_migration(api, job, now, budget)
        })
    }

    fn clock_offset(&self) -> i64 {
        self.client.clock_offset()
    }
}

/// Seconds since the Unix epoch, for `X-TC-Timestamp`.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
