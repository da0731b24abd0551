//! Runs the real `usersync` binary as a child process, as an administrator would, and measures
//! it from outside: wall time and CPU time (`wait4`'s rusage) and peak resident memory (the
//! child's `VmHWM`).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Measured {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_mb: f64,
    pub exit_code: i32,
    /// The run report (`sync --json`).
    pub report: Value,
}

// The child is reaped with `wait4`, which std's `Child::wait` cannot do (it returns no rusage).
#[allow(clippy::zombie_processes)]
pub fn run_sync(data_dir: &Path, config: &Path, incremental: bool) -> Measured {
    // USERSYNC_BENCH_WRAP runs the binary under a profiler, e.g. "valgrind --tool=massif".
    let wrap: Vec<String> =
        std::env::var("USERSYNC_BENCH_WRAP").unwrap_or_default().split_whitespace().map(str::to_string).collect();
    let mut cmd = match wrap.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(env!("CARGO_BIN_EXE_usersync"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_usersync")),
    };
    cmd.arg("--data-dir").arg(data_dir).arg("sync").arg("--config").arg(config).arg("--json");
    if incremental {
        cmd.arg("--incremental");
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("start the usersync binary");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    // rusage's ru_maxrss would start from this (large) process's RSS, inherited at fork: the
    // child's own high-water mark is sampled from /proc instead, until it exits. A reading counts
    // only if it is of the child after its exec: once, at 100,000 users, a `noop` reported this
    // process's own 480 MB through the child's pid.
    let program = if wrap.is_empty() { Some(comm_of(Path::new(env!("CARGO_BIN_EXE_usersync")))) } else { None };
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak_kib = 0u64;
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = high_water_kib(pid, program.as_deref()) {
                    peak_kib = peak_kib.max(kib);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            peak_kib
        })
    };
    let mut out = String::new();
    let _ = stdout.read_to_string(&mut out);
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; `status` and `usage` outlive the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = started.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait4 on the usersync child failed");
    done.store(true, Ordering::Relaxed);
    let peak_kib = sampler.join().unwrap_or(0);
    let errors = err_reader.join().unwrap_or_default();
    let exit_code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    // A run with no reading would pass every memory target with 0 MB.
    assert!(peak_kib > 0, "no reading of the usersync child's peak memory (/proc/{pid}/status), exit {exit_code}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!("usersync printed no JSON report (exit {exit_code}): {e}\nstdout: {out}\nstderr: {errors}")
    });
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Measured {
        wall_s,
        cpu_s: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_mb: peak_kib as f64 / 1024.0,
        exit_code,
        report,
    }
}

/// `VmHWM` (peak resident set) of a running child process, in KiB: `None` unless `pid` is a
/// process (not a thread: `/proc/<tid>/status` answers for threads too, with their process's
/// memory) whose parent is this process and, when `program` is given, whose name shows it has
/// exec'd that program (before the exec, it reports this process's memory).
fn high_water_kib(pid: libc::pid_t, program: Option<&str>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
    let ours = field("Tgid:")? == pid.to_string() && field("PPid:")? == std::process::id().to_string();
    if !ours || program.is_some_and(|p| field("Name:") != Some(p)) {
        return None;
    }
    field("VmHWM:")?.split_whitespace().next()?.parse().ok()
}

/// The name the kernel gives a process running `path` (its file name, cut to 15 bytes).
fn comm_of(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.chars()
        .scan(0, |len, c| {
            (*len + c.len_utf8() <= 15).then(|| {
                *len += c.len_utf8();
                c
            })
        })
        .collect()
}
