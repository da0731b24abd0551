//! The directory a run reconciles against. A full listing needs the whole directory: whoever is
//! not in the source may have to go. A partial one (a login's single-user run, an incremental
//! round) needs only the users it touches, so it reads those — by anchor key in one call, plus
//! the holder of each name a new or renamed user wants and any user carrying a new user's
//! external id — and its cost follows the change, not the directory's size (100,000 users in
//! Jira Data Center). Linking by e-mail has no look-up in the directory contract: such a
//! connector's partial runs still read everything.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::Shared;
use crate::config::Config;
use crate::config::ConnectorConfig;
use crate::directory::{DirError, Directory};
use crate::fastmap::FastMap;
use crate::mapping::Mapped;
use crate::model::{DirectoryUser, Identity};
use crate::reconcile::{Claim, Context, Scope};
use crate::store::{RunRecord, StateStore, StoreError};

/// What a plan is made against: the directory's users (all, or those a partial run touches),
/// its groups, the groups this connector manages, and other connectors' claims.
pub(super) struct DirState {
    pub users: Vec<DirectoryUser>,
    pub groups: BTreeSet<String>,
    pub managed_groups: BTreeSet<String>,
    pub others: FastMap<String, Claim>,
}

impl DirState {
    /// Reads it: the users `read` says, the groups, and the engine's state about them.
    pub fn read(
        engine: &Shared,
        config: &Config,
        connector: &ConnectorConfig,
        scope: Scope,
        mapped: &[Mapped],
        removed: &[String],
        identities: &[Identity],
    ) -> Result<DirState, String> {
        let dir = engine.directory.as_ref();
        let users = read(dir, connector, scope, mapped, removed, identities)
            .map_err(|e| format!("reading the directory: {e}"))?;
        let groups = dir.list_groups().map_err(|e| format!("listing the directory's groups: {e}"))?;
        let managed_groups = engine.store.managed_groups(&connector.id).map_err(|e| e.to_string())?;
        let others = other_claims(engine.store.as_ref(), config, connector)
            .map_err(|e| format!("reading the other connectors' anchors: {e}"))?;
        Ok(DirState { users, groups, managed_groups, others })
    }

    pub fn context<'a>(
        &'a self,
        connector: &'a ConnectorConfig,
        scope: Scope,
        identities: &'a [Identity],
        record: &RunRecord,
    ) -> Context<'a> {
        Context {
            connector,
            scope,
            directory: &self.users,
            groups: &self.groups,
            identities,
            managed_groups: &self.managed_groups,
            others: &self.others,
            now: record.started_at,
        }
    }
}

/// The directory users reconcile must see for this run.
pub(super) fn read(
    dir: &dyn Directory,
    connector: &ConnectorConfig,
    scope: Scope,
    mapped: &[Mapped],
    removed: &[String],
    identities: &[Identity],
) -> Result<Vec<DirectoryUser>, DirError> {
    if scope == Scope::Full || connector.link_existing.reads_values() {
        return dir.list_users();
    }
    let anchors: HashMap<&str, &Identity> = identities.iter().map(|i| (i.idp_id.as_str(), i)).collect();
    let ids = mapped.iter().map(Mapped::idp_id).chain(removed.iter().map(String::as_str));
    let mut keys: Vec<String> = ids.filter_map(|id| anchors.get(id)).map(|i| i.key.to_string()).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut users = if keys.is_empty() { Vec::new() } else { dir.users_by_keys(&keys)? };
    let mut seen: HashSet<String> = users.iter().map(|u| u.key.to_string()).collect();
    let by_key: HashMap<String, String> =
        users.iter().map(|u| (u.key.to_string(), u.username.as_str().to_lowercase())).collect();
    let mut more = Vec::new();
    for m in mapped {
        let Mapped::User(d) = m else { continue };
        let anchored_name = anchors.get(d.idp_id.as_str()).and_then(|i| by_key.get(i.key.as_str()));
        match anchored_name {
            // In the directory under the name it wants: nothing else to look at.
            Some(name) if *name == d.username.to_lowercase() => {}
            // A rename: whoever holds the new name.
            Some(_) => more.extend(dir.find_user(&d.username)?),
            // New, or its directory user is gone: a user left by a lost anchor, and the name.
            None => {
                more.extend(dir.find_by_external_id(&d.idp_id)?);
                more.extend(dir.find_user(&d.username)?);
            }
        }
    }
    for u in more {
        if seen.insert(u.key.to_string()) {
            users.push(u);
        }
    }
    Ok(users)
}

/// The other connectors' claims on directory users, the strongest per user (see
/// `reconcile::Claim`). Anchors of connectors no longer configured claim nothing: switching a
/// connector off keeps its users as they are.
fn other_claims(
    store: &dyn StateStore,
    config: &Config,
    connector: &ConnectorConfig,
) -> Result<FastMap<String, Claim>, StoreError> {
    let mut claims: FastMap<String, Claim> = Default::default();
    let me = config.connectors.iter().position(|c| c.id == connector.id).unwrap_or(usize::MAX);
    for (i, other) in config.connectors.iter().enumerate().filter(|(_, c)| c.id != connector.id) {
        let outranks = (other.priority, std::cmp::Reverse(i)) > (connector.priority, std::cmp::Reverse(me));
        for identity in store.identities(&other.id)? {
            let claim = Claim {
                connector: other.id.clone(),
                live: identity.gone_since.is_none() && !identity.anonymised,
                outranks,
            };
            match claims.entry(identity.key.to_string()) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(claim);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    if claim.beats(o.get()) {
                        o.insert(claim);
                    }
                }
            }
        }
    }
    Ok(claims)
}
