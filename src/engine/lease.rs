//! Run leases and the connector lock. A running run renews a heartbeat in the state store every
//! third of `operations.lease_seconds`; a run whose heartbeat is older than the lease is taken for
//! dead (its process was killed, or lost the store): the next run of its connector marks it
//! FAILED ("interrupted") and, as the one that marked it, releases the lock it held. So a node
//! that dies mid-run never blocks syncing for longer than the lease.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::{lock, EngineError, RunControl, Shared};

/// How long a lock lives in the directory if nobody releases it. Far longer than any lease, so a
/// lock never lapses while its run is alive; a dead run's lock is released through its lease.
pub(super) const LOCK_TTL_SECONDS: u64 = 6 * 3600;

/// Takes the connector's lock (`lock_name`) for a run that writes, after marking the connector's
/// runs whose lease expired as interrupted. `false` when a live run holds the lock.
pub(super) fn acquire(
    shared: &Shared,
    connector: &str,
    lock_name: &str,
    lease_seconds: u32,
    writes: bool,
) -> Result<bool, EngineError> {
    let now = (shared.clock)();
    let expired_before = now - chrono::Duration::seconds(lease_seconds.into());
    let interrupted = shared.store.interrupt_expired(connector, expired_before, now)?;
    for run in &interrupted {
        tracing::warn!(
            run = run.id,
            "run {} of connector '{}' was interrupted: its lease expired (no heartbeat for {lease_seconds} s)",
            run.id,
            connector
        );
    }
    if !writes {
        return Ok(true);
    }
    let dir = shared.directory.as_ref();
    if dir.try_lock(lock_name, LOCK_TTL_SECONDS)? {
        return Ok(true);
    }
    // Only the caller that marked a dead writing run may release the lock that run left behind:
    // two callers can never both do it.
    if interrupted.iter().any(|r| !r.simulate) {
        tracing::warn!("releasing the lock of connector '{connector}' that the interrupted run held");
        dir.unlock(lock_name)?;
        return Ok(dir.try_lock(lock_name, LOCK_TTL_SECONDS)?);
    }
    Ok(false)
}

/// Renews one run's lease until stopped.
#[derive(Default)]
pub(super) struct Keeper {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// Another process marked the run interrupted: it has been told to stop, and the lock it held
    /// is no longer its own to release.
    lost: AtomicBool,
}

impl Keeper {
    /// Runs on its own thread for the life of the run.
    pub fn keep(&self, shared: &Shared, run_id: i64, lease_seconds: u32, control: &RunControl) {
        let every = Duration::from_millis(u64::from(lease_seconds) * 1000 / 3);
        let mut stopped = lock(&self.stopped);
        loop {
            // Checked before waiting too: `stop` may come before this thread first waits.
            if *stopped {
                return;
            }
            stopped = self.wake.wait_timeout(stopped, every).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
            if *stopped {
                return;
            }
            match shared.store.heartbeat(run_id, (shared.clock)()) {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(
                        run = run_id,
                        "run {run_id} lost its lease: another process found it expired and marked it interrupted; stopping"
                    );
                    self.lost.store(true, Ordering::SeqCst);
                    control.cancel.store(true, Ordering::SeqCst);
                    return;
                }
                // The next beat may get through; a store that stays away ends the lease.
                Err(e) => tracing::warn!(run = run_id, "run {run_id} could not renew its lease: {e}"),
            }
        }
    }

    pub fn stop(&self) {
        *lock(&self.stopped) = true;
        self.wake.notify_all();
    }

    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}
