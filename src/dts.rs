//! The seam between a run and the DTS service: the actions a run takes, as a trait. The real
//! client implements it ([`LiveDts`]); orchestration tests script a fake, so the order of
//! create, wait and start is tested without a network, a clock or a thread. A new action is
//! one more method here, on the client, and on the fakes.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::{
    ApiError, ApiVersion, CheckAnswer, Client, CompareOptions, CompareReport, CompareTask,
    MigrationDetail,
};
use crate::cancel::Cancellation;
use crate::credentials::{FetchError, Keyring, MAX_FETCH_TIME};

/// The DTS actions a run takes on one job. `budget` caps one request's time.
pub trait Dts {
    /// The job's current check result (`DescribeMigrateCheckJob` / `DescribeMigrationCheckJob`).
    fn describe_check(&self, job: &str, budget: Duration) -> Result<CheckAnswer, ApiError>;
    /// Creates a new check of the job (`CreateMigrateCheckJob`); returns its `RequestId`.
    fn create_check(&self, job: &str, budget: Duration) -> Result<String, ApiError>;
    /// Starts the job's migration (`StartMigrateJob`); returns its `RequestId`.
    fn start_migration(&self, job: &str, budget: Duration) -> Result<String, ApiError>;
    /// The job's state for the later stages: a migration's `DescribeMigrationDetail`, a sync
    /// job's `DescribeSyncJobs` item (2021-12-06).
    fn describe_job(&self, job: &str, budget: Duration) -> Result<MigrationDetail, ApiError>;
    /// Completes the migration (`CompleteMigrateJob` with `CompleteMode` `mode`); returns its
    /// `RequestId`.
    fn complete_migration(
        &self,
        job: &str,
        mode: &str,
        budget: Duration,
    ) -> Result<String, ApiError>;
    /// Creates a compare task of every migrated object (`CreateCompareTask`, `ObjectMode`
    /// `sameAsMigrate`); returns its `CompareTaskId`.
    fn create_compare(
        &self,
        job: &str,
        options: &CompareOptions,
        budget: Duration,
    ) -> Result<String, ApiError>;
    /// Starts the compare task (`StartCompare`); returns its `RequestId`.
    fn start_compare(&self, job: &str, task: &str, budget: Duration) -> Result<String, ApiError>;
    /// The compare task's state (`DescribeCompareTasks`).
    fn describe_compare(
        &self,
        job: &str,
        task: &str,
        budget: Duration,
    ) -> Result<CompareTask, ApiError>;
    /// The finished compare task's report (`DescribeCompareReport`).
    fn compare_report(
        &self,
        job: &str,
        task: &str,
        budget: Duration,
    ) -> Result<CompareReport, ApiError>;
    /// Stops the compare task (`StopCompare`); returns its `RequestId`. Sent when the gate
    /// stops early, so also after a cancellation: it is the one request that is.
    fn stop_compare(&self, job: &str, task: &str, budget: Duration) -> Result<String, ApiError>;
    /// Seconds the runner's clock is behind the service's, as learned from the service so far
    /// (requests are signed with the corrected time); 0 when nothing was learned.
    fn clock_offset(&self) -> i64 {
        0
    }
    /// Secrets obtained since the last call (temporary keys and tokens, identity tokens), for
    /// the reporter to mask before anything could print them.
    fn new_secrets(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The real service: signed requests through [`Client`], each one abandoned at once when the
/// run is cancelled. Each request is signed with the keyring's current credentials, refreshed
/// there before they expire (on the request thread, so a refresh is cancellable too).
pub struct LiveDts {
    client: Client,
    api: ApiVersion,
    cancellation: Cancellation,
    keyring: Arc<Mutex<Keyring>>,
}

impl LiveDts {
    pub fn new(
        client: Client,
        api: ApiVersion,
        cancellation: Cancellation,
        keyring: Keyring,
    ) -> LiveDts {
        LiveDts {
            client,
            api,
            cancellation,
            keyring: Arc::new(Mutex::new(keyring)),
        }
    }

    fn send<T: Send + 'static>(
        &self,
        job: &str,
        budget: Duration,
        request: impl FnOnce(&Client, ApiVersion, &str, i64) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (client, api, job) = (self.client.clone(), self.api, job.to_string());
        let keyring = self.keyring.clone();
        self.cancellation.interruptible(move || {
            let now = unix_now();
            let client = {
                let mut keyring = lock(&keyring);
                let credentials = keyring
                    .current(now + client.clock_offset(), budget)
                    .map_err(|e| e.into_api_error())?;
                client.with_credentials(credentials, keyring.secrets())
            };
            request(&client, api, &job, now)
        })
    }

    /// [`LiveDts::send`] on the calling thread, whether or not the run was cancelled: for the
    /// clean-up after an early end (the request's own budget bounds it).
    fn send_now<T>(
        &self,
        job: &str,
        budget: Duration,
        request: impl FnOnce(&Client, &str, i64) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let now = unix_now();
        let client = {
            let mut keyring = lock(&self.keyring);
            let credentials = keyring
                .current(now + self.client.clock_offset(), budget)
                .map_err(|e| e.into_api_error())?;
            self.client.with_credentials(credentials, keyring.secrets())
        };
        request(&client, job, now)
    }
}

impl LiveDts {
    /// Fetches the first credentials now (cancellably), so a source that cannot give any is
    /// known before the first request; a cancelled fetch is left to the wait.
    pub fn resolve(&self) -> Result<(), FetchError> {
        let keyring = self.keyring.clone();
        let offset = self.client.clock_offset();
        let fetched = self.cancellation.interruptible(move || {
            Ok(lock(&keyring)
                .current(unix_now() + offset, MAX_FETCH_TIME)
                .map(|_| ()))
        });
        fetched.unwrap_or(Ok(()))
    }
}

fn lock(keyring: &Mutex<Keyring>) -> MutexGuard<'_, Keyring> {
    keyring
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Dts for LiveDts {
    fn describe_check(&self, job: &str, budget: Duration) -> Result<CheckAnswer, ApiError> {
        self.send(job, budget, move |client, api, job, now| {
            client.describe_check(api, job, now, budget)
        })
    }

    fn create_check(&self, job: &str, budget: Duration) -> Result<String, ApiError> {
        self.send(job, budget, move |client, api, job, now| {
            client.create_check(api, job, now, budget)
        })
    }

    fn start_migration(&self, job: &str, budget: Duration) -> Result<String, ApiError> {
        self.send(job, budget, move |client, api, job, now| {
            client.start_migration(api, job, now, budget)
        })
    }

    fn describe_job(&self, job: &str, budget: Duration) -> Result<MigrationDetail, ApiError> {
        self.send(job, budget, move |client, api, job, now| match api {
            ApiVersion::Sync => client.describe_sync_job(job, now, budget),
            ApiVersion::V2018 | ApiVersion::V2021 => client.describe_migration(job, now, budget),
        })
    }

    fn complete_migration(
        &self,
        job: &str,
        mode: &str,
        budget: Duration,
    ) -> Result<String, ApiError> {
        let mode = mode.to_string();
        self.send(job, budget, move |client, _, job, now| {
            client.complete_migration(job, &mode, now, budget)
        })
    }

    fn create_compare(
        &self,
        job: &str,
        options: &CompareOptions,
        budget: Duration,
    ) -> Result<String, ApiError> {
        let options = options.clone();
        self.send(job, budget, move |client, _, job, now| {
            client.create_compare(job, &options, now, budget)
        })
    }

    fn start_compare(&self, job: &str, task: &str, budget: Duration) -> Result<String, ApiError> {
        let task = task.to_string();
        self.send(job, budget, move |client, _, job, now| {
            client.compare_action("StartCompare", job, &task, now, budget)
        })
    }

    fn describe_compare(
        &self,
        job: &str,
        task: &str,
        budget: Duration,
    ) -> Result<CompareTask, ApiError> {
        let task = task.to_string();
        self.send(job, budget, move |client, _, job, now| {
            client.describe_compare(job, &task, now, budget)
        })
    }

    fn compare_report(
        &self,
        job: &str,
        task: &str,
        budget: Duration,
    ) -> Result<CompareReport, ApiError> {
        let task = task.to_string();
        self.send(job, budget, move |client, _, job, now| {
            client.compare_report(job, &task, now, budget)
        })
    }

    fn stop_compare(&self, job: &str, task: &str, budget: Duration) -> Result<String, ApiError> {
        self.send_now(job, budget, |client, job, now| {
            client.compare_action("StopCompare", job, task, now, budget)
        })
    }

    fn clock_offset(&self) -> i64 {
        self.client.clock_offset()
    }

    fn new_secrets(&self) -> Vec<String> {
        // A fetch still running on the request thread (after a cancellation) holds the keyring:
        // its secrets are taken next time rather than waited for.
        match self.keyring.try_lock() {
            Ok(mut keyring) => keyring.take_unmasked(),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                poisoned.into_inner().take_unmasked()
            }
            Err(std::sync::TryLockError::WouldBlock) => Vec::new(),
        }
    }
}

/// Seconds since the Unix epoch, for `X-TC-Timestamp`.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
