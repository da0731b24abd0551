//! The directory a run reconciles against. A full listing needs the whole directory: whoever is
//! not in the source may have to go. A partial one (a login's single-user run, an incremental
//! round) needs only the users it touches, so it reads those — by anchor key in one call, plus
//! the holder of each name a new or renamed user wants and any user carrying a new user's
//! external id — and its cost follows the change, not the directory's size (100,000 users in
//! Jira Data Center). Linking by e-mail has no look-up in the directory contract: such a
//! connector's partial runs still read everything.

use std::collections::{HashMap, HashSet};

use crate::config::ConnectorConfig;
use crate::directory::{DirError, Directory};
use crate::mapping::Mapped;
use crate::model::{DirectoryUser, Identity};
use crate::reconcile::Scope;

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
    let ids = mapped.iter().map(id_of).chain(removed.iter().map(String::as_str));
    let mut keys: Vec<String> = ids.filter_map(|id| anchors.get(id)).map(|i| i.key.clone()).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut users = if keys.is_empty() { Vec::new() } else { dir.users_by_keys(&keys)? };
    let mut seen: HashSet<String> = users.iter().map(|u| u.key.clone()).collect();
    let by_key: HashMap<String, String> = users.iter().map(|u| (u.key.clone(), u.username.to_lowercase())).collect();
    let mut more = Vec::new();
    for m in mapped {
        let Mapped::User(d) = m else { continue };
        let anchored_name = anchors.get(d.idp_id.as_str()).and_then(|i| by_key.get(&i.key));
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
        if seen.insert(u.key.clone()) {
            users.push(u);
        }
    }
    Ok(users)
}

fn id_of(m: &Mapped) -> &str {
    match m {
        Mapped::User(d) => &d.idp_id,
        Mapped::Filtered { idp_id, .. } | Mapped::Invalid { idp_id, .. } => idp_id,
    }
}
