//! The fault suite (DESIGN §9): one named scenario per way the world goes wrong. Each asserts
//! the final status (and the exit code where a process runs), that nobody was wrongly disabled
//! or deleted, that a rerun converges, that no secret reached any output, and that the lock was
//! released. `fault_suite` runs them all and prints `fault suite: N passed, N failed`;
//! docs/RELIABILITY.md lists them.

pub(crate) mod directory;
mod files;
mod http;
mod runs;

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use usersync::engine::RunReport;
use usersync::store::RunStatus;

use crate::support::Harness;

pub struct Scenario {
    pub name: &'static str,
    pub run: fn(),
}

fn scenarios() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend(http::scenarios());
    all.extend(files::scenarios());
    all.extend(runs::scenarios());
    all.extend(directory::scenarios());
    all
}

#[test]
fn fault_suite() {
    let all = scenarios();
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    // Two at a time: the scenarios wait on retries and processes more than they compute.
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(sc) = all.get(i) else { break };
                let ok = catch_unwind(AssertUnwindSafe(sc.run)).is_ok();
                // Straight to the process's stdout, past the test harness's capture, so that CI
                // shows each scenario.
                let _ = writeln!(std::io::stdout(), "fault {} ... {}", sc.name, if ok { "ok" } else { "FAILED" });
                if !ok {
                    failed.lock().unwrap().push(sc.name);
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    let _ = writeln!(std::io::stdout(), "fault suite: {} passed, {} failed", all.len() - failed.len(), failed.len());
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
    assert!(all.len() >= 25, "the suite has {} scenarios; the issue asks for at least 25", all.len());
}

/// The connector's lock is free: a run that ended, however, released it.
pub fn lock_released(h: &Harness, connector: &str) {
    let dir = h.engine.directory();
    let name = format!("usersync:{connector}");
    assert!(dir.try_lock(&name, 60).unwrap(), "the lock of connector '{connector}' was left held");
    dir.unlock(&name).unwrap();
}

/// The run ended as expected, left its lock, and disabled or deleted nobody.
pub fn settled(h: &Harness, report: &RunReport, status: RunStatus, active_before: usize) {
    assert_eq!(report.status, status, "{:?} {:?}", report.error, report.hold_reason);
    assert_eq!((report.counts.disabled, report.counts.deleted), (0, 0), "nobody is disabled or deleted by a fault");
    assert_eq!(h.active_usernames().len(), active_before, "every active user stays active");
    lock_released(h, &report.connector);
}

/// No secret in any of `texts`, nor anywhere in the harness's state store and directory files.
pub fn no_secret(h: &Harness, secrets: &[&str], texts: &[&str]) {
    for text in texts {
        for s in secrets {
            assert!(!text.contains(s), "a secret leaked: {text}");
        }
    }
    let mut dirs = vec![h.dir.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_none_or(|e| e != "json") {
                // (Configuration files hold secrets by design.)
                file_has_no_secret(&path, secrets);
            }
        }
    }
}

fn file_has_no_secret(path: &std::path::Path, secrets: &[&str]) {
    {
        let bytes = std::fs::read(path).unwrap_or_default();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a secret is in {} ({} bytes)",
                path.display(),
                bytes.len()
            );
        }
    }
}
