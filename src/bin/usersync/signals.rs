//! SIGTERM and SIGINT: the handler only sets a flag (all a signal handler may safely do). The
//! daemon's main thread polls it and stops the scheduler; `sync` and `approve` watch it on a
//! second thread and cancel the run between users, so it ends CANCELLED with nothing
//! half-written and its lock released. A second signal ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use usersync::engine::Engine;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    // SAFETY: signal() is async-signal-safe; the next signal of this kind takes its default
    // action, so an administrator who presses Ctrl-C twice is not ignored.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
    }
}

/// Installs the handlers for SIGTERM and SIGINT.
pub fn install() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler is async-signal-safe and lives for the process.
    unsafe {
        libc::signal(libc::SIGTERM, handler);
        libc::signal(libc::SIGINT, handler);
    }
}

pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Blocks until SIGTERM or SIGINT arrives.
pub fn wait() {
    while !stopping() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `work` with a watcher that cancels the engine's runs when a signal arrives.
pub fn cancel_on_signal<T>(engine: &Engine, work: impl FnOnce() -> T) -> T {
    install();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if stopping() {
                    tracing::warn!("signal received: cancelling the run between users");
                    // Keep cancelling: the run may register after the first look.
                    while !done.load(Ordering::SeqCst) {
                        engine.cancel_all();
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let out = work();
        done.store(true, Ordering::SeqCst);
        out
    })
}
