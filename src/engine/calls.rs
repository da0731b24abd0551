//! Calls in flight. `close()` (and so `usersync_engine_free` and Java's `Engine.close()`)
//! cancels every run and then waits here until no call is inside the engine, so a host never
//! destroys its directory while a blocking sync on another thread still calls it.

use std::cell::Cell;
use std::sync::{Condvar, Mutex};

use super::lock;

#[derive(Default)]
pub(crate) struct Calls {
    count: Mutex<usize>,
    idle: Condvar,
}

thread_local! {
    /// Engine calls this thread is inside (of any engine): a host callback that closes the
    /// engine from within a run must not wait for that run, which is waiting for it.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// This thread is inside an engine call (a host callback from a run, or a run's own thread).
pub fn inside() -> bool {
    DEPTH.with(Cell::get) > 0
}

/// One call inside the engine; dropping it ends the call.
pub struct Call<'a> {
    calls: &'a Calls,
}

impl Calls {
    pub fn enter(&self) -> Call<'_> {
        *lock(&self.count) += 1;
        DEPTH.with(|d| d.set(d.get() + 1));
        Call { calls: self }
    }

    /// Waits until no call is in flight, unless this thread is itself inside one.
    pub fn wait_idle(&self) {
        if inside() {
            return;
        }
        let mut count = lock(&self.count);
        while *count > 0 {
            count = self.idle.wait(count).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        let mut count = lock(&self.calls.count);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.calls.idle.notify_all();
        }
    }
}
