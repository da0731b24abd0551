//! The state store (DESIGN §8): anchors and lifecycle facts, managed groups, run records with
//! per-user results, and the imported configuration. SQLite is the embedded default; the trait
//! stays narrow so a host (the Java shim) can back it with the application database later.

pub mod contract;
mod result_json;
pub mod sqlite;
pub mod table_store;
pub mod tables;

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::Identity;
use crate::reconcile::Op;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Running,
    Done,
    PartiallyFailed,
    Failed,
    Held,
    Cancelled,
    /// Not run: another run of the connector held its lock. Nothing was read or written.
    Skipped,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Done => "DONE",
            RunStatus::PartiallyFailed => "PARTIALLY_FAILED",
            RunStatus::Failed => "FAILED",
            RunStatus::Held => "HELD",
            RunStatus::Cancelled => "CANCELLED",
            RunStatus::Skipped => "SKIPPED",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [Self::Running, Self::Done, Self::PartiallyFailed, Self::Failed, Self::Held, Self::Cancelled, Self::Skipped]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub renamed: u64,
    pub disabled: u64,
    pub reactivated: u64,
    pub deleted: u64,
    pub anonymised: u64,
    pub unchanged: u64,
    pub filtered: u64,
    pub failed: u64,
    pub held: u64,
    /// Users whose ownership passed to or from this connector (no directory write).
    #[serde(default)]
    pub handed_over: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    pub connector: String,
    /// What started it: manual, schedule, login, api, approve.
    pub trigger: String,
    /// full, single_user or approve.
    pub mode: String,
    pub simulate: bool,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub counts: Counts,
    pub writes: u64,
    /// Photos downloaded from the source (only those whose etag changed).
    pub photo_downloads: u64,
    pub error: Option<String>,
    pub hold_reason: Option<String>,
    pub notes: Vec<String>,
    /// For an approval run: the held run it approves.
    pub approves: Option<i64>,
    /// For a held run: the run that approved it.
    pub approved_by: Option<i64>,
    /// The connector configuration it ran with, secrets left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

/// One operation and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    #[serde(flatten)]
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What happened to one user in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResult {
    pub idp_id: Option<String>,
    pub username: String,
    pub key: Option<String>,
    /// created, updated, renamed, disabled, reactivated, deleted, anonymised, unchanged,
    /// filtered, failed, held — the same words the run counts use.
    pub outcomes: Vec<String>,
    pub ops: Vec<OpResult>,
    pub held: Vec<Op>,
    pub reason: Option<String>,
    pub error: Option<String>,
    pub location: Option<String>,
}

/// Anchor and group bookkeeping to commit with a finished run.
#[derive(Debug, Clone, Default)]
pub struct StateChanges {
    pub upsert: Vec<Identity>,
    pub remove: Vec<String>,
    pub managed_groups: Option<BTreeSet<String>>,
    /// `Some(Some(t))` stores the next delta token, `Some(None)` forgets it.
    pub delta_token: Option<Option<String>>,
}

pub trait StateStore: Send + Sync {
    fn identities(&self, connector: &str) -> Result<Vec<Identity>, StoreError>;
    fn managed_groups(&self, connector: &str) -> Result<BTreeSet<String>, StoreError>;
    /// The delta token (or watermark) the last successful incremental round left.
    fn delta_token(&self, connector: &str) -> Result<Option<String>, StoreError>;
    /// Records a run as RUNNING and returns its id.
    fn begin_run(&self, record: &RunRecord) -> Result<i64, StoreError>;
    /// Commits the run record, its results and the state changes in one transaction.
    fn finish_run(&self, record: &RunRecord, results: &[UserResult], changes: &StateChanges) -> Result<(), StoreError>;
    /// Part of a running run's results and anchor changes, written as it applies so that neither
    /// is held in memory for a whole run, and a run that dies keeps the anchors of what it wrote.
    /// `finish_run` appends the rest.
    fn record_progress(
        &self,
        record: &RunRecord,
        results: &[UserResult],
        changes: &StateChanges,
    ) -> Result<(), StoreError>;
    /// The newest runs first, of one connector or of all.
    fn runs(&self, connector: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError>;
    fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError>;
    fn results(&self, run_id: i64) -> Result<Vec<UserResult>, StoreError>;
    fn mark_approved(&self, held_run: i64, by_run: i64) -> Result<(), StoreError>;
    /// Renews a running run's lease. `false` when the run is no longer RUNNING: another process
    /// found its lease expired and marked it interrupted, so it must stop.
    fn heartbeat(&self, run_id: i64, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Marks FAILED ("interrupted") the RUNNING runs of `connector` whose lease was last renewed
    /// before `expired_before`, and returns them. Each run is returned to one caller only: the
    /// one whose update marked it.
    fn interrupt_expired(
        &self,
        connector: &str,
        expired_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>, StoreError>;
    /// Claims one fire time of a connector's schedule: `true` for the first claimant only, so that
    /// engines sharing this store start one run per fire time.
    fn claim_fire(&self, connector: &str, kind: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
    /// The latest fire time claimed for a connector, for catching up after downtime.
    fn last_fire(&self, connector: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// Deletes runs (with their results) beyond the newest `keep_runs` of each connector or
    /// started before `older_than`, a few thousand rows per transaction so that a running sync
    /// and readers of the history are never held up for long. Running runs, held runs awaiting
    /// approval and each connector's last full run are kept. Returns how many runs went.
    fn prune(&self, keep_runs: usize, older_than: DateTime<Utc>) -> Result<usize, StoreError>;
    /// The imported configuration: its JSON text and the directory relative paths resolve against.
    fn config(&self) -> Result<Option<(String, String)>, StoreError>;
    fn put_config(&self, json: &str, base_dir: &str) -> Result<(), StoreError>;
    /// The SCIM resources an IdP pushed to a `scim-inbound` connector (`kind` is `User` or
    /// `Group`), as JSON, in id order.
    fn scim_resources(&self, connector: &str, kind: &str) -> Result<Vec<String>, StoreError>;
    fn scim_resource(&self, connector: &str, kind: &str, id: &str) -> Result<Option<String>, StoreError>;
    /// Stores a resource (`None` deletes it).
    fn put_scim_resource(&self, connector: &str, kind: &str, id: &str, json: Option<&str>) -> Result<(), StoreError>;
}

/// Fire times as keys: one fixed format, so that two engines claiming the same instant collide
/// (and keys sort as times).
pub(crate) fn fire_key(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Marks a RUNNING run interrupted when its process is gone from this host or its lease ran out
/// (last renewed at `heartbeat_ms`, before `cutoff_ms`); false when it is alive.
pub(crate) fn interrupt(
    run: &mut RunRecord,
    owner: Option<&str>,
    heartbeat_ms: i64,
    cutoff_ms: i64,
    now: DateTime<Utc>,
) -> bool {
    let since = DateTime::from_timestamp_millis(heartbeat_ms).unwrap_or(run.started_at);
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let reason = if let Some(owner) = owner.filter(|o| crate::process::is_gone(o)) {
        format!("interrupted: the process that ran it ({owner}) is gone (last heartbeat {since})")
    } else if heartbeat_ms < cutoff_ms {
        format!(
            "interrupted: the run stopped renewing its lease at {since} (its process ended or lost the state store)"
        )
    } else {
        return false;
    };
    run.status = RunStatus::Failed;
    run.ended_at = Some(now.max(run.started_at));
    run.error = Some(format!("{reason}; what it applied before is kept, the next run completes the rest"));
    true
}

/// Which runs retention removes (`StateStore::prune`), whatever the store.
pub(crate) mod retention {
    use chrono::{DateTime, Utc};

    use super::{RunRecord, RunStatus};

    pub struct Row {
        pub id: i64,
        pub connector: String,
        pub started_at: Option<DateTime<Utc>>,
        pub status: RunStatus,
        pub simulate: bool,
        pub approved_by: Option<i64>,
        pub mode: String,
    }

    impl Row {
        pub fn of(r: &RunRecord) -> Row {
            Row {
                id: r.id,
                connector: r.connector.clone(),
                started_at: Some(r.started_at),
                status: r.status,
                simulate: r.simulate,
                approved_by: r.approved_by,
                mode: r.mode.clone(),
            }
        }
    }

    /// The doomed runs' ids, oldest first: beyond the newest `keep_runs` of their connector or
    /// started before `older_than`; never a running run, a held run awaiting approval, or a
    /// connector's last finished full run (incremental cadence counts from it).
    pub fn doomed(mut rows: Vec<Row>, keep_runs: usize, older_than: DateTime<Utc>) -> Vec<i64> {
        rows.sort_by(|a, b| a.connector.cmp(&b.connector).then(b.id.cmp(&a.id)));
        let mut doomed = Vec::new();
        let (mut connector, mut newer, mut full_kept) = (String::new(), 0usize, false);
        for r in rows {
            if r.connector != connector {
                (connector, newer, full_kept) = (r.connector.clone(), 0, false);
            }
            newer += 1;
            let awaiting = r.status == RunStatus::Held && r.approved_by.is_none() && !r.simulate;
            let last_full = !full_kept
                && !r.simulate
                && matches!(r.status, RunStatus::Done | RunStatus::PartiallyFailed)
                && matches!(r.mode.as_str(), "full" | "approve");
            full_kept |= last_full;
            if r.status == RunStatus::Running || awaiting || last_full {
                continue;
            }
            let old = r.started_at.is_some_and(|t| t < older_than);
            if newer > keep_runs || old {
                doomed.push(r.id);
            }
        }
        doomed.sort_unstable();
        doomed
    }
}
