//! Which process a run lives in, and whether that process is still there. A run records its
//! owner as `host:pid`; another process on the same host that finds the run RUNNING but its pid
//! gone marks it dead at once (a `kill -9`, an OOM kill) rather than waiting out the lease.
//! A pid on another host, or one that exists (perhaps reused), proves nothing: the lease decides.

use std::sync::OnceLock;

fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is writable for its length; gethostname NUL-terminates on success.
        let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
        let end = buf.iter().position(|b| *b == 0).unwrap_or(0);
        if ok && end > 0 {
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            "localhost".into()
        }
    })
}

/// This process, as a run records it.
pub fn owner() -> String {
    format!("{}:{}", host(), std::process::id())
}

/// True when `owner` names a process on this host that no longer exists.
pub fn is_gone(owner: &str) -> bool {
    let Some((h, pid)) = owner.rsplit_once(':') else { return false };
    let Ok(pid) = pid.parse::<i32>() else { return false };
    if h != host() || pid <= 0 || pid as u32 == std::process::id() {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is delivered.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    !alive && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_gone_and_a_finished_child_is() {
        assert!(!is_gone(&owner()));
        let mut child = std::process::Command::new("true").spawn().expect("spawn true");
        let pid = child.id();
        child.wait().unwrap();
        assert!(is_gone(&format!("{}:{pid}", host())));
        assert!(!is_gone(&format!("another-host:{pid}")), "another host's pids prove nothing");
        assert!(!is_gone("garbage"));
    }
}
