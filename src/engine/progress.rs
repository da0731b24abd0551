//! Progress reports for long runs: the CLI draws a bar from them, hosts show them on a page.

use serde::Serialize;

use crate::store::Counts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Begun: locked and recorded, not yet reading.
    Starting,
    Fetching,
    Mapping,
    Planning,
    Applying,
    Recording,
    /// Ended; `counts` are the run's final counts.
    Finished,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Fetching => "fetching",
            Phase::Mapping => "mapping",
            Phase::Planning => "planning",
            Phase::Applying => "applying",
            Phase::Recording => "recording",
            Phase::Finished => "finished",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub run_id: i64,
    pub phase: Phase,
    /// Users processed in this phase, and how many there are when known.
    pub done: u64,
    pub total: Option<u64>,
    /// The run's counts so far (while applying).
    pub counts: Counts,
}

impl Progress {
    pub fn starting(run_id: i64) -> Self {
        Progress { run_id, phase: Phase::Starting, done: 0, total: None, counts: Counts::default() }
    }
}
