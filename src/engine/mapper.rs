//! Maps source users one at a time as a run reads them, so that a large listing is never held in
//! full next to its mapped users, and times the work for the run report.

use crate::fastmap::FastMap as HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::thread_cpu;
use crate::config::ConnectorConfig;
use crate::mapping::{map_unchanged, map_user_owned, Mapped, Takes};
use crate::model::{Identity, SourceUser};
use crate::reconcile::Planner;

/// Users mapped per batch.
const BATCH: usize = 8;

pub(super) struct Mapper<'a> {
    connector: &'a ConnectorConfig,
    /// A version is only comparable under the same mapping: the configuration is part of it.
    config_hash: u64,
    /// Versions expire with each `full_reconcile.max_age_hours` window, so every user is mapped
    /// in full at least that often and local edits of mapped fields are corrected.
    window: i64,
    identities: &'a [Identity],
    /// The anchors by source id, built when a first record carries a version (no connector
    /// sets one yet: most runs never need this map of every anchor).
    known: std::cell::OnceCell<HashMap<&'a str, &'a Identity>>,
    takes: Takes,
    pub mapped: Vec<Mapped>,
    /// A full run's plan in the making: users it finds in step are not kept in `mapped`.
    pub planner: Option<Planner<'a>>,
    /// Users waiting to be mapped: mapped in small batches, so timing them costs little.
    waiting: Vec<(SourceUser, bool)>,
    /// Time spent mapping (not reading), and the CPU time of it.
    pub elapsed: Duration,
    pub cpu: Duration,
}

impl<'a> Mapper<'a> {
    pub fn new(connector: &'a ConnectorConfig, identities: &'a [Identity], now: DateTime<Utc>) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_string(connector).unwrap_or_default().hash(&mut h);
        let hours = i64::from(connector.full_reconcile.max_age_hours.max(1));
        Mapper {
            connector,
            config_hash: h.finish(),
            window: now.timestamp() / (hours * 3600),
            identities,
            known: std::cell::OnceCell::new(),
            takes: Takes::new(connector),
            mapped: Vec::new(),
            planner: None,
            waiting: Vec::with_capacity(BATCH),
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
        let version = u.version.as_ref().map(|v| format!("{:x}:{}:{v}", self.config_hash, self.window));
        let unchanged = version.as_ref().and_then(|v| {
            // Only for a user in the ordinary state: a leaver coming back is mapped in full.
            let known = self.known.get_or_init(|| self.identities.iter().map(|i| (i.idp_id.as_str(), i)).collect());
            let identity = known
                .get(u.id.as_str())
                .filter(|i| i.source_version.as_ref() == Some(v) && !i.anonymised && i.gone_since.is_none())?;
            map_unchanged(self.connector, &self.takes, &u, &identity.username, groups_read)
        });
        let mut m = match unchanged {
            Some(m) => m,
            None => map_user_owned(self.connector, &self.takes, u, groups_read),
        };
        if let Mapped::User(d) = &mut m {
            d.source_version = version;
        }
        m
    }
}
