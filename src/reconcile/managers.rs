//! Managers: each user's manager reference (the source's id of the manager, an e-mail, a
//! username) resolved to the manager's user — among this run's users first, so a manager created
//! in the same run is found, then among the directory's — and written to the rule's target as the
//! manager's username, display name, e-mail or directory key. A reference that finds nobody leaves
//! the target as it is and says so; a chain of managers that loops back is reported for every user
//! on the loop. The key of a manager this run creates (or links) exists only after apply: those
//! reports are returned as pending, and the runner writes the key then.
//! Linear in the number of users: no chain is walked twice.

use crate::config::{ManagerField, ManagerRule};
use crate::fastmap::FastMap as HashMap;
use crate::model::{DesiredUser, DirectoryUser, Identity, Target};

fn norm(rule: &ManagerRule, reference: &str) -> String {
    match rule.by {
        ManagerField::Id => reference.to_string(),
        _ => reference.trim().to_lowercase(),
    }
}

/// How a user is found by the rule's `match`.
fn desired_key(rule: &ManagerRule, d: &DesiredUser) -> Option<String> {
    match rule.by {
        ManagerField::Id => Some(d.idp_id.clone()),
        ManagerField::Email => d.values.get(&Target::Email).cloned().flatten().map(|e| e.to_lowercase()),
        ManagerField::Username | ManagerField::DisplayName | ManagerField::Key => Some(d.username.to_lowercase()),
    }
}

fn desired_value(field: ManagerField, d: &DesiredUser) -> Option<String> {
    match field {
        ManagerField::Email => d.values.get(&Target::Email).cloned().flatten(),
        ManagerField::DisplayName => d.values.get(&Target::DisplayName).cloned().flatten().or(Some(d.username.clone())),
        ManagerField::Username | ManagerField::Id | ManagerField::Key => Some(d.username.clone()),
    }
}

fn directory_value(field: ManagerField, u: &DirectoryUser) -> Option<String> {
    match field {
        ManagerField::Email => u.value(&Target::Email).map(str::to_string),
        ManagerField::DisplayName => u.value(&Target::DisplayName).map(str::to_string),
        ManagerField::Key => Some(u.key.to_string()),
        ManagerField::Username | ManagerField::Id => Some(u.username.to_string()),
    }
}

/// The users on loops of the manager graph (each user points at most at one manager).
fn on_loops(next: &[Option<usize>]) -> Vec<bool> {
    // 0: not seen, 1: on the path being walked, 2: finished.
    let mut state = vec![0u8; next.len()];
    let mut looped = vec![false; next.len()];
    for start in 0..next.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                0 => {
                    state[i] = 1;
                    path.push(i);
                    at = next[i];
                }
                1 => {
                    // Back on the path: from `i` on, the path is a loop.
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    for &p in &path[from..] {
                        looped[p] = true;
                    }
                    break;
                }
                _ => break,
            }
        }
        for p in path {
            state[p] = 2;
        }
    }
    looped
}

/// What `resolve` leaves to say and to do: a note per user (by source id) whose manager could
/// not be resolved or whose chain of managers loops, and the reports whose manager's key is known
/// only after apply.
#[derive(Default)]
pub(super) struct Resolved {
    pub notes: HashMap<String, String>,
    pub pending_keys: Vec<(String, String)>,
}

/// Writes each user's resolved manager into their values.
pub(super) fn resolve(
    rule: &ManagerRule,
    desired: &mut [DesiredUser],
    directory: &[DirectoryUser],
    identities: &[Identity],
) -> Resolved {
    let mut in_run: HashMap<String, usize> = HashMap::default();
    for (i, d) in desired.iter().enumerate() {
        if let Some(k) = desired_key(rule, d) {
            in_run.entry(k).or_insert(i);
        }
    }
    let next: Vec<Option<usize>> =
        desired.iter().map(|d| d.manager.as_ref().and_then(|m| in_run.get(&norm(rule, m)).copied())).collect();
    let looped = on_loops(&next);
    // The directory, for managers outside this run (a single-user run, another connector's user).
    let by_key: HashMap<&str, &DirectoryUser> = directory.iter().map(|u| (u.key.as_str(), u)).collect();
    let anchors: HashMap<&str, &str> = identities.iter().map(|i| (i.idp_id.as_str(), i.key.as_str())).collect();
    let mut by_name: HashMap<String, &DirectoryUser> = HashMap::default();
    if rule.by != ManagerField::Id {
        for u in directory {
            let k = match rule.by {
                ManagerField::Email => u.value(&Target::Email).map(str::to_lowercase),
                _ => Some(u.username.as_str().to_lowercase()),
            };
            if let Some(k) = k {
                by_name.entry(k).or_insert(u);
            }
        }
    }
    let mut notes = HashMap::default();
    let mut pending_keys = Vec::new();
    for i in 0..desired.len() {
        let value = match (&desired[i].manager, next[i]) {
            // No manager in the source: the target is cleared.
            (None, _) => Some(None),
            // The key of a manager in this run: theirs if they are anchored already, otherwise
            // known once apply created or linked them.
            (Some(_), Some(j)) if rule.write == ManagerField::Key => {
                match anchors.get(desired[j].idp_id.as_str()).filter(|key| by_key.contains_key(*key)) {
                    Some(key) => Some(Some(key.to_string())),
                    None => {
                        pending_keys.push((desired[i].idp_id.clone(), desired[j].idp_id.clone()));
                        None
                    }
                }
            }
            (Some(_), Some(j)) => Some(desired_value(rule.write, &desired[j])),
            (Some(m), None) => {
                let k = norm(rule, m);
                let found = match rule.by {
                    ManagerField::Id => anchors.get(k.as_str()).and_then(|key| by_key.get(key)).copied(),
                    _ => by_name.get(&k).copied(),
                };
                match found {
                    Some(u) => Some(directory_value(rule.write, u)),
                    None => {
                        notes.insert(
                            desired[i].idp_id.clone(),
                            format!("manager '{m}' is not among the synced users: {} left as it is", rule.target),
                        );
                        None
                    }
                }
            }
        };
        if looped[i] {
            let mut chain = vec![desired[i].username.clone()];
            let mut at = next[i];
            while let Some(j) = at.filter(|&j| j != i && chain.len() <= desired.len()) {
                chain.push(desired[j].username.clone());
                at = next[j];
            }
            chain.push(desired[i].username.clone());
            notes.insert(desired[i].idp_id.clone(), format!("the chain of managers loops: {}", chain.join(" → ")));
        }
        if let Some(v) = value {
            desired[i].values.insert(rule.target.clone(), v);
        }
    }
    Resolved { notes, pending_keys }
}
