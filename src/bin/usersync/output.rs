//! What the CLI prints: summaries for people, JSON for scripts, a progress line on terminals.

use std::cell::Cell;
use std::io::Write;

use usersync::engine::{MappingTest, Phase, Progress, RunReport};
use usersync::model::DirectoryUser;
use usersync::store::{Counts, RunRecord, UserResult};

/// A progress bar on a terminal; one plain line per phase otherwise.
pub struct ProgressLine {
    terminal: bool,
    last_phase: Cell<Option<Phase>>,
    drawn: Cell<bool>,
}

impl ProgressLine {
    pub fn new(terminal: bool) -> Self {
        ProgressLine { terminal, last_phase: Cell::new(None), drawn: Cell::new(false) }
    }

    pub fn show(&self, p: &Progress) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let line = match p.total {
                Some(total) if total > 0 => {
                    let width = 30;
                    let filled = (p.done.min(total) * width / total) as usize;
                    format!(
                        "\r{:<9} [{}{}] {}/{}",
                        p.phase.name(),
                        "#".repeat(filled),
                        " ".repeat(width as usize - filled),
                        p.done,
                        total
                    )
                }
                _ => format!("\r{:<9} ...{:30}", p.phase.name(), ""),
            };
            let _ = write!(err, "{line}");
            self.drawn.set(true);
        } else if self.last_phase.get() != Some(p.phase) {
            let _ = writeln!(err, "run {}: {}", p.run_id, p.phase.name());
        }
        self.last_phase.set(Some(p.phase));
    }

    pub fn finish(&self) {
        if self.drawn.get() {
            let _ = write!(std::io::stderr().lock(), "\r{:60}\r", "");
        }
    }
}

pub fn counts_line(c: &Counts) -> String {
    format!(
        "created {}, updated {}, renamed {}, disabled {}, reactivated {}, deleted {}, anonymised {}, unchanged {}, filtered {}, failed {}, held {}",
        c.created, c.updated, c.renamed, c.disabled, c.reactivated, c.deleted, c.anonymised, c.unchanged, c.filtered, c.failed, c.held
    )
}

pub fn print_report(r: &RunReport, json: bool) {
    if json {
        out!("{}", serde_json::to_string(r).expect("serialises"));
        return;
    }
    let sim = if r.simulate { " — simulation, nothing written" } else { "" };
    out!("run {} {} ({}, connector '{}'){sim}", r.run_id, r.status, r.mode, r.connector);
    out!("  {}", counts_line(&r.counts));
    out!("  directory writes: {}", r.writes);
    if let Some(e) = &r.error {
        out!("  error: {e}");
    }
    for n in &r.notes {
        out!("  note: {n}");
    }
    if !r.failures.is_empty() {
        out!("failures:");
        for f in &r.failures {
            match &f.location {
                Some(l) => out!("  {} ({l}): {}", f.user, f.error),
                None => out!("  {}: {}", f.user, f.error),
            }
        }
    }
    if let Some(reason) = &r.hold_reason {
        out!("held: {reason}");
        for h in &r.held {
            out!("  {}: {}", h.username, h.operations.join(", "));
        }
        out!("review with 'usersync run show {}', then apply with 'usersync approve {}'", r.run_id, r.run_id);
    }
}

pub fn print_users(users: &[DirectoryUser]) {
    out!("{:<28} {:<28} {:<34} {:<8} groups", "username", "display name", "email", "active");
    for u in users {
        let v = |t: &str| u.value(&t.parse().expect("known target")).unwrap_or("").to_string();
        out!(
            "{:<28} {:<28} {:<34} {:<8} {}",
            u.username,
            v("display_name"),
            v("email"),
            if u.active { "yes" } else { "no" },
            u.groups.iter().collect::<Vec<_>>().join(", ")
        );
    }
    out!("{} user(s)", users.len());
}

pub fn print_history(runs: &[RunRecord]) {
    out!("{:>5}  {:<25} {:<14} {:<12} {:<17} counts", "run", "started", "connector", "mode", "status");
    for r in runs {
        let mode = if r.simulate { format!("{} (sim)", r.mode) } else { r.mode.clone() };
        out!(
            "{:>5}  {:<25} {:<14} {:<12} {:<17} {}",
            r.id,
            r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            r.connector,
            mode,
            r.status.as_str(),
            counts_line(&r.counts)
        );
    }
}

pub fn print_run(r: &RunRecord, results: &[UserResult]) {
    out!("run {} {} ({}, connector '{}', trigger {})", r.id, r.status, r.mode, r.connector, r.trigger);
    out!(
        "  started {}, ended {}",
        r.started_at.to_rfc3339(),
        r.ended_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into())
    );
    out!("  {}", counts_line(&r.counts));
    out!("  directory writes: {}", r.writes);
    if let Some(e) = &r.error {
        out!("  error: {e}");
    }
    if let Some(h) = &r.hold_reason {
        out!("  held: {h}");
    }
    if let Some(by) = r.approved_by {
        out!("  approved by run {by}");
    }
    for u in results {
        let name = if u.username.is_empty() { u.idp_id.clone().unwrap_or_default() } else { u.username.clone() };
        out!("{name} [{}]", u.outcomes.join(", "));
        for op in &u.ops {
            let body = serde_json::to_string(&op.op).expect("serialises");
            match &op.error {
                Some(e) => out!("    {body}  FAILED: {e}"),
                None => out!("    {body}"),
            }
        }
        for op in &u.held {
            out!("    HELD {}", serde_json::to_string(op).expect("serialises"));
        }
        if let Some(reason) = &u.reason {
            out!("    reason: {reason}");
        }
        if let Some(e) = &u.error {
            out!("    error: {e}{}", u.location.as_ref().map(|l| format!(" ({l})")).unwrap_or_default());
        }
    }
}

pub fn print_mapping_test(t: &MappingTest) {
    out!("source user {} ({}){}", t.source.id, t.source.location, if t.source.active { "" } else { ", inactive" });
    out!("attributes:");
    for (k, v) in t.source.attributes.iter() {
        out!("  {k}: {v}");
    }
    out!("rules:");
    for (i, r) in t.trace.rules.iter().enumerate() {
        out!(
            "  [{i}] {} ← read {}",
            r.target,
            r.read.as_deref().map(|v| format!("'{v}'")).unwrap_or_else(|| "nothing".into())
        );
        for (step, value) in &r.steps {
            out!("        {step} → {}", value.as_deref().map(|v| format!("'{v}'")).unwrap_or_else(|| "(empty)".into()));
        }
        out!("      = {}", r.outcome);
    }
    if let Some(g) = &t.trace.groups {
        out!("groups:");
        out!("  source: {}", g.source.join(", "));
        out!("  kept: {}", g.kept.join(", "));
        for (name, why) in &g.dropped {
            out!("  dropped {name}: {why}");
        }
        if !g.always.is_empty() {
            out!("  always: {}", g.always.join(", "));
        }
    }
    out!("result: {}", t.result);
}
