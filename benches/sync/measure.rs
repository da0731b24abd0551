//! Runs the real `usersync` binary as a child process, as an administrator would, and measures
//! it from outside: wall time, CPU time and peak resident memory (`wait4`'s rusage).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

pub struct Measured {
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_mb: f64,
    pub exit_code: i32,
    /// The run report (`sync --json`).
    pub report: Value,
}

pub fn run_sync(data_dir: &Path, config: &Path, incremental: bool) -> Measured {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_usersync"));
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
    let mut out = String::new();
    let _ = stdout.read_to_string(&mut out);
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; `status` and `usage` outlive the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall_s = started.elapsed().as_secs_f64();
    assert_eq!(waited, pid, "wait4 on the usersync child failed");
    let errors = err_reader.join().unwrap_or_default();
    let exit_code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!("usersync printed no JSON report (exit {exit_code}): {e}\nstdout: {out}\nstderr: {errors}")
    });
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Measured {
        wall_s,
        cpu_s: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        exit_code,
        report,
    }
}
