//! Maps source users one at a time as a run reads them, so that a large listing is never held in
//! full next to its mapped users, and times the work for the run report.

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::thread_cpu;
use crate::config::ConnectorConfig;
use crate::mapping::{map_unchanged, map_user_owned, rules_skippable, Mapped, Takes};
use crate::model::SourceUser;
use crate::reconcile::{version, Planner};

/// Users mapped per batch. Each batch reads the thread's CPU clock twice, a system call (no
/// vDSO for it): at 8 users a batch that was 25,000 calls a 100,000-user run.
const BATCH: usize = 64;

pub(super) struct Mapper<'a> {
    connector: &'a ConnectorConfig,
    /// A version is only comparable under the same mapping: the configuration is part of it.
    config_hash: u64,
    /// Versions expire with each `full_reconcile.max_age_hours` window, so every user is mapped
    /// in full at least that often.
    window: i64,
    takes: Takes,
    pub mapped: Vec<Mapped>,
    /// A full run's plan in the making: users it finds in step are not kept in `mapped`.
    pub planner: Option<Planner<'a>>,
    /// Users waiting to be mapped: mapped in small batches, so timing them costs little.
    waiting: Vec<(SourceUser, bool)>,
    /// Whether the mapping lets a user's rules be skipped (`mapping::rules_skippable`).
    skippable: bool,
    /// Users whose rules were not run again (`reconcile::version`).
    pub skipped: std::cell::Cell<u64>,
    /// Time spent mapping (not reading), and the CPU time of it.
    pub elapsed: Duration,
    pub cpu: Duration,
}

impl<'a> Mapper<'a> {
    pub fn new(connector: &'a ConnectorConfig, now: DateTime<Utc>) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_string(connector).unwrap_or_default().hash(&mut h);
        let hours = i64::from(connector.full_reconcile.max_age_hours.max(1));
        Mapper {
            connector,
            config_hash: h.finish(),
            window: now.timestamp() / (hours * 3600),
            takes: Takes::new(connector),
            mapped: Vec::new(),
            planner: None,
            waiting: Vec::with_capacity(BATCH),
            skippable: rules_skippable(connector),
            skipped: std::cell::Cell::new(0),
            elapsed: Duration::ZERO,
            cpu: Duration::ZERO,
        }
    }

    /// Maps one user (`groups_read`: the source read memberships this time) and drops its record,
    /// soon: users are mapped a small batch at a time.
    pub fn push(&mut self, user: SourceUser, groups_read: bool) {
        self.waiting.push((user, groups_read));
        if self.waiting.len() >= BATCH {
            self.flush();
        }
    }

    /// Maps every waiting user; `mapped` is complete after this.
    pub fn flush(&mut self) {
        let (started, cpu) = (Instant::now(), thread_cpu());
        // The buffer is reused: a fresh large allocation per batch made the allocator consolidate
        // its free lists each time (seen in profiles as a fifth of mapping's CPU).
        let mut waiting = std::mem::take(&mut self.waiting);
        self.mapped.reserve(waiting.len());
        for (user, groups_read) in waiting.drain(..) {
            let m = self.map_one(user, groups_read);
            let kept = match self.planner.as_mut() {
                Some(planner) => planner.offer(m),
                None => Some(m),
            };
            self.mapped.extend(kept);
        }
        self.waiting = waiting;
        self.elapsed += started.elapsed();
        self.cpu += thread_cpu().saturating_sub(cpu);
    }

    /// Drops what was made of users the source took back after handing them over (a duplicate
    /// id further down a file); the source's row errors say why.
    pub fn retract(&mut self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let gone: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        self.mapped.retain(|m| !gone.contains(m.idp_id()));
        if let Some(planner) = &mut self.planner {
            planner.retract(ids);
        }
    }

    /// Users mapped and kept for the plan: here, or held by the planner.
    pub fn kept(&self) -> usize {
        self.mapped.len() + self.planner.as_ref().map_or(0, Planner::held)
    }

    /// Maps and consumes one record.
    fn map_one(&self, u: SourceUser, groups_read: bool) -> Mapped {
        let mut version = String::with_capacity(40);
        version::push_hex(&mut version, version::record_version(self.config_hash, self.window, &u));
        let skip = self.planner.as_ref().filter(|_| self.skippable).and_then(|planner| {
            let (identity, digest) = planner.anchored_digest(&u.id)?;
            // Only for a user in the ordinary state: a leaver coming back is mapped in full. The
            // same record under the same mapping onto the same directory record: the rules would
            // give what that record holds already.
            let ordinary = !identity.anonymised && identity.gone_since.is_none();
            (ordinary && version::is(identity.source_version.as_deref(), &version, digest)).then_some(identity)
        });
        // A user whose rules were skipped carries the stored version itself, digest and all:
        // the planner finds it in step without digesting the directory record again.
        let (mut m, version) = match skip {
            Some(identity) => {
                self.skipped.set(self.skipped.get() + 1);
                let m = map_unchanged(self.connector, &self.takes, u, &identity.username, groups_read);
                (m, identity.source_version.clone())
            }
            None => (map_user_owned(self.connector, &self.takes, u, groups_read), Some(version)),
        };
        if let Mapped::User(d) = &mut m {
            d.source_version = version;
        }
        m
    }
}
