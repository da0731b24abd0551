//! Diagnostics for the shim's benchmark (java-bridge/bench.sh, docs/PERFORMANCE.md): the same
//! directory calls and the same sync with and without the JNI crossing. Without it, the engine
//! talks to `MemoryDirectory`, the Rust twin of the Java tests' in-memory directory, so the
//! difference is what crossing costs and not what one directory or the other costs.

use std::time::Instant;

use super::boundary::JniError;
use crate::directory::memory::MemoryDirectory;
use crate::directory::Directory;
use crate::engine::host::HostEngine;

/// `times` calls of the read-only operation `op` (`find_user`, `capabilities` or `list_groups`)
/// with `arg`, made as a run makes them; the nanoseconds they took in all. The first failure ends
/// the timing.
pub(super) fn time_calls(dir: &dyn Directory, op: &str, arg: &str, times: i32) -> Result<u64, JniError> {
    let call: Box<dyn Fn() -> Result<(), crate::directory::DirError>> = match op {
        "find_user" => Box::new(|| dir.find_user(arg).map(|_| ())),
        "capabilities" => Box::new(|| dir.capabilities().map(|_| ())),
        "list_groups" => Box::new(|| dir.list_groups().map(|_| ())),
        other => return Err(JniError::illegal_argument(format!("'{other}' is not a read-only operation timed here"))),
    };
    let started = Instant::now();
    for _ in 0..times.max(0) {
        call().map_err(|e| JniError::state(e.to_string()))?;
    }
    Ok(started.elapsed().as_nanos() as u64)
}

/// `time_calls` on a fresh `MemoryDirectory`: the same calls with no crossing.
pub(super) fn time_rust_calls(op: &str, arg: &str, times: i32) -> Result<u64, JniError> {
    time_calls(&MemoryDirectory::new(), op, arg, times)
}

/// Runs the configured sync `runs` times (a full sync, then again with nothing to write) into a
/// fresh `MemoryDirectory`; answers one JSON object per run: wall and process CPU seconds (the
/// whole process, JVM threads included, as the Java side measures its own phase), the directory
/// operations, the seconds spent inside them, and the run's status.
pub(super) fn sync_rust_directory(
    state_path: &str,
    config_json: &str,
    base_dir: Option<&str>,
    runs: i32,
) -> Result<String, JniError> {
    let dir = MemoryDirectory::new();
    let host = HostEngine::new(state_path, config_json, base_dir, Box::new(dir.clone()))?;
    let mut out = Vec::new();
    for _ in 0..runs.max(0) {
        dir.reset_counters();
        let (cpu, started) = (process_cpu_seconds(), Instant::now());
        let report = host.run("")?;
        let wall = started.elapsed().as_secs_f64();
        let cpu = process_cpu_seconds() - cpu;
        let (operations, inside) = dir.counters();
        let status = serde_json::from_str::<serde_json::Value>(&report)
            .ok()
            .and_then(|r| r.get("status").and_then(|s| s.as_str()).map(str::to_string))
            .unwrap_or_default();
        out.push(serde_json::json!({
            "wall_s": wall,
            "process_cpu_s": cpu,
            "operations": operations,
            "inside_s": inside as f64 / 1e9,
            "status": status,
        }));
    }
    host.close();
    Ok(serde_json::Value::Array(out).to_string())
}

/// User and system CPU of the whole process so far.
fn process_cpu_seconds() -> f64 {
    // SAFETY: `usage` is a valid, writable rusage for the duration of the call.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
