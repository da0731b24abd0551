//! Apply: executes a plan through the Directory, one user at a time. One user's failure never
//! stops the run; each operation's outcome is recorded, and the anchor facts follow what
//! actually happened, not what was planned. Also the helpers of the run's chunk loop (in
//! `runner.rs`): directory batches, photo prefetch, counting.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::connector;
use crate::directory::{DirError, Directory, FieldWrite, NewUser};
use crate::model::{Identity, Target};
use crate::reconcile::{Disposition, Op, UserPlan};
use crate::store::{Counts, OpResult, UserResult};

pub struct Applied {
    pub result: UserResult,
    /// The anchor to keep (`None` with `forget` false: nothing to store).
    pub identity: Option<Identity>,
    /// The user was deleted: drop the anchor.
    pub forget: Option<String>,
    pub writes: u64,
}

/// `apply_user`, with a panic (a bug, or a host directory that failed badly) turned into this
/// user's failure so the run goes on. What was written before the panic stays unrecorded here,
/// but the directory keeps the external id, so the next run re-adopts such a user.
pub fn apply_guarded(
    dir: &dyn Directory,
    plan: UserPlan,
    simulate: bool,
    now: DateTime<Utc>,
    photos: &mut PhotoSource,
) -> Applied {
    let (idp_id, username, key, location) =
        (plan.idp_id.clone(), plan.username.clone(), plan.key.clone(), plan.location.clone());
    let identity = plan.identity.as_deref().cloned();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply_user(dir, plan, simulate, now, photos)))
        .unwrap_or_else(|_| Applied {
            result: UserResult {
                idp_id,
                username,
                key,
                outcomes: vec!["failed".into()],
                ops: Vec::new(),
                held: Vec::new(),
                reason: None,
                error: Some("internal error while applying this user; the run went on".into()),
                location,
            },
            identity,
            forget: None,
            writes: 0,
        })
}

/// Downloads a user's photo by source id: `Ok(None)` when the source has none.
pub type PhotoSource<'a> = dyn FnMut(&str) -> Result<Option<Vec<u8>>, String> + 'a;

/// The op as a `write_fields` write, if it is one (core fields go through `update_core`).
fn field_write(op: &Op) -> Option<FieldWrite<'_>> {
    match op {
        Op::Set { target, after, .. } if !target.is_core() => Some(FieldWrite::Set(target, after.as_deref())),
        Op::AddGroup { group } => Some(FieldWrite::AddGroup(group)),
        Op::RemoveGroup { group, .. } => Some(FieldWrite::RemoveGroup(group)),
        _ => None,
    }
}

/// A write the directory left without a result (it answered fewer than it was sent).
fn no_result() -> Result<(), DirError> {
    Err(DirError::Failed("the directory gave no result".into()))
}

/// Runs one user's operations. With `simulate`, every operation counts as done and nothing is
/// written; the result is what the real run would report.
pub fn apply_user(
    dir: &dyn Directory,
    plan: UserPlan,
    simulate: bool,
    now: DateTime<Utc>,
    photos: &mut PhotoSource,
) -> Applied {
    let mut identity = plan.identity.as_deref().cloned();
    let mut key = plan.key.clone();
    let mut username = plan.username.clone();
    let mut results: Vec<OpResult> = Vec::with_capacity(plan.ops.len());
    let mut writes = 0;
    let mut forget = None;
    let mut blocked: Option<String> = None;

    // Core fields go in one update call, as a host would write them.
    let core: Vec<(Target, Option<String>)> = plan
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Set { target, after, .. } if target.is_core() => Some((target.clone(), after.clone())),
            _ => None,
        })
        .collect();
    let mut core_result: Option<Option<String>> = None;
    // Results of field and membership writes sent ahead together (`Directory::write_fields`),
    // taken in order by the ops they belong to.
    let mut written: std::collections::VecDeque<Result<(), DirError>> = Default::default();

    for (i, op) in plan.ops.iter().enumerate() {
        if let Some(why) = &blocked {
            results.push(OpResult { op: op.clone(), error: Some(format!("not attempted: {why}")) });
            continue;
        }
        let outcome: Result<(), DirError> = if simulate {
            Ok(())
        } else {
            let k = key.clone().unwrap_or_default();
            match op {
                Op::Create { username: name, display_name, email, active } => {
                    let new = NewUser {
                        username: name.clone(),
                        display_name: display_name.clone(),
                        email: email.clone(),
                        active: *active,
                        external_id: plan.idp_id.clone().unwrap_or_default(),
                    };
                    // The field writes right after the creation go with it (one result each).
                    let run: Vec<FieldWrite> = plan.ops[i + 1..].iter().map_while(field_write).collect();
                    let (created, mut results) = dir.create_user_with(&new, &run);
                    created.map(|k| {
                        key = Some(k);
                        results.resize_with(run.len(), no_result);
                        written.extend(results);
                    })
                }
                Op::Link { .. } | Op::Handover { .. } => Ok(()),
                Op::Rename { to, .. } => dir.rename(&k, to),
                Op::Set { target, .. } if target.is_core() => match &core_result {
                    Some(done) => done.clone().map_or(Ok(()), |e| Err(DirError::Failed(e))),
                    None => {
                        let r = dir.update_core(&k, &core);
                        core_result = Some(r.as_ref().err().map(|e| e.to_string()));
                        if r.is_ok() {
                            writes += 1;
                        }
                        r.map_err(|e| DirError::Failed(e.to_string()))
                    }
                },
                Op::Set { .. } | Op::AddGroup { .. } | Op::RemoveGroup { .. } => {
                    if written.is_empty() {
                        // This op and the field writes right after it, in one call: they need
                        // nothing from each other, and a failure of one stops none of the others.
                        let run: Vec<FieldWrite> = plan.ops[i..].iter().map_while(field_write).collect();
                        let mut results = dir.write_fields(&k, &run);
                        // Exactly one result per write, whatever the directory answered.
                        results.resize_with(run.len(), no_result);
                        written.extend(results);
                    }
                    written.pop_front().unwrap_or_else(no_result)
                }
                Op::Reactivate { .. } => dir.set_active(&k, true),
                Op::Disable { .. } => dir.set_active(&k, false),
                Op::Delete { .. } => dir.delete_user(&k),
                Op::Anonymise { .. } => dir.anonymise(&k).map(|placeholder| username = placeholder),
                Op::SetAvatar { etag: None } => dir.set_avatar(&k, &[]),
                Op::SetAvatar { etag: Some(_) } => match photos(plan.idp_id.as_deref().unwrap_or_default()) {
                    Ok(Some(image)) => dir.set_avatar(&k, &image),
                    Ok(None) => dir.set_avatar(&k, &[]),
                    Err(e) => Err(DirError::Failed(format!("downloading the photo: {e}"))),
                },
            }
        };
        let counted_elsewhere = matches!(op, Op::Set { target, .. } if target.is_core());
        match outcome {
            Ok(()) => {
                if !simulate && op.writes() && !counted_elsewhere {
                    writes += 1;
                }
                follow(op, &mut identity, &key, &plan, &mut username, now, &mut forget);
                results.push(OpResult { op: op.clone(), error: None });
            }
            Err(e) => {
                if matches!(op, Op::Create { .. } | Op::Delete { .. }) {
                    blocked = Some(format!("{} failed", op.kind()));
                }
                results.push(OpResult { op: op.clone(), error: Some(e.to_string()) });
            }
        }
    }

    let errors: Vec<String> =
        results.iter().filter_map(|r| r.error.as_ref().map(|e| format!("{}: {e}", r.op.kind()))).collect();
    let error = match plan.disposition {
        Disposition::Failed => plan.reason.clone(),
        _ if !errors.is_empty() => Some(errors.join("; ")),
        _ => None,
    };
    let reason = match plan.disposition {
        Disposition::Failed => None,
        _ => plan.reason.clone(),
    };
    let outcomes = outcomes(&plan, &results, error.is_some());
    // Remember the source version only for a user applied cleanly; otherwise the next run maps
    // them in full again.
    if let Some(i) = identity.as_mut() {
        i.source_version = if error.is_none() && plan.disposition == Disposition::Sync && plan.held.is_empty() {
            plan.source_version.clone()
        } else {
            None
        };
    }
    Applied {
        result: UserResult {
            idp_id: plan.idp_id.clone(),
            username,
            key,
            outcomes,
            ops: results,
            held: plan.held.clone(),
            reason,
            error,
            location: plan.location.clone(),
        },
        identity,
        forget,
        writes,
    }
}

/// Keeps the anchor facts in step with an operation that succeeded.
fn follow(
    op: &Op,
    identity: &mut Option<Identity>,
    key: &Option<String>,
    plan: &UserPlan,
    username: &mut String,
    now: DateTime<Utc>,
    forget: &mut Option<String>,
) {
    match op {
        Op::Create { username: name, .. } => {
            *identity = Some(Identity {
                idp_id: plan.idp_id.as_deref().unwrap_or_default().into(),
                key: key.as_deref().unwrap_or_default().into(),
                username: name.as_str().into(),
                gone_since: None,
                disabled_by_sync_at: None,
                anonymised: false,
                photo_etag: None,
                source_version: None,
            });
        }
        Op::Rename { to, .. } => {
            *username = to.clone();
            if let Some(i) = identity {
                i.username = to.as_str().into();
            }
        }
        Op::Disable { .. } => {
            if let Some(i) = identity {
                i.disabled_by_sync_at = Some(now);
            }
        }
        Op::Reactivate { .. } => {
            if let Some(i) = identity {
                i.disabled_by_sync_at = None;
            }
        }
        Op::Anonymise { .. } => {
            if let Some(i) = identity {
                i.anonymised = true;
                i.username = username.as_str().into();
            }
        }
        Op::Delete { .. } => {
            *forget = plan.idp_id.clone();
            *identity = None;
        }
        Op::SetAvatar { etag } => {
            if let Some(i) = identity {
                i.photo_etag = etag.clone();
            }
        }
        _ => {}
    }
}

/// The words the run counts use, from what succeeded.
fn outcomes(plan: &UserPlan, results: &[OpResult], failed: bool) -> Vec<String> {
    let mut out: Vec<&str> = Vec::new();
    let mut push = |w| {
        if !out.contains(&w) {
            out.push(w)
        }
    };
    let created = results.iter().any(|r| r.error.is_none() && matches!(r.op, Op::Create { .. }));
    for r in results.iter().filter(|r| r.error.is_none()) {
        match &r.op {
            Op::Create { .. } => push("created"),
            Op::Rename { .. } => push("renamed"),
            Op::Set { .. } | Op::AddGroup { .. } | Op::RemoveGroup { strip: false, .. } | Op::SetAvatar { .. }
                if !created =>
            {
                push("updated")
            }
            Op::Reactivate { .. } => push("reactivated"),
            Op::Disable { .. } => push("disabled"),
            Op::Delete { .. } => push("deleted"),
            Op::Anonymise { .. } => push("anonymised"),
            Op::RemoveGroup { strip: true, .. } => push("updated"),
            Op::Handover { .. } => push("handed_over"),
            _ => {}
        }
    }
    if !plan.held.is_empty() {
        push("held");
    }
    if plan.disposition == Disposition::Filtered {
        push("filtered");
    }
    if failed {
        push("failed");
    }
    let mut out: Vec<String> = out.into_iter().map(str::to_string).collect();
    if out.is_empty() {
        out.push("unchanged".into());
    }
    out
}

/// Unchanged users with nothing to say are counted, not stored: a 50,000-user directory would
/// otherwise add 50,000 rows of history per run.
pub(super) fn worth_keeping(r: &UserResult) -> bool {
    !r.ops.is_empty() || !r.held.is_empty() || r.reason.is_some() || r.error.is_some()
}

/// A directory batch around one chunk of users. A directory that cannot batch is written one
/// change at a time, which is slower but the same.
pub(super) struct Batch<'d> {
    dir: Option<&'d dyn crate::directory::Directory>,
}

impl<'d> Batch<'d> {
    pub fn begin(dir: &'d dyn crate::directory::Directory, simulate: bool, notes: &mut Vec<String>) -> Batch<'d> {
        if simulate {
            return Batch { dir: None };
        }
        match dir.begin_batch() {
            Ok(()) => Batch { dir: Some(dir) },
            Err(e) => {
                notes.push(format!("the directory could not start a batch; writing change by change: {e}"));
                Batch { dir: None }
            }
        }
    }

    /// Commits the batch. A failed commit lost the chunk's writes: the run must stop there.
    pub fn end(self) -> Result<(), String> {
        match self.dir {
            Some(dir) => dir.end_batch().map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

/// Downloads, in parallel where the source can, the photos these users' plans will write. A
/// panicking download (a bug) leaves the photos out; those users' avatars then fail alone.
/// The user's plan writes a photo that must be downloaded first.
pub(super) fn wants_photo(u: &UserPlan) -> bool {
    u.ops.iter().any(|op| matches!(op, Op::SetAvatar { etag: Some(_) }))
}

pub(super) fn prefetch_photos(
    source: &mut dyn connector::Connector,
    users: &[UserPlan],
) -> HashMap<String, Result<Option<Vec<u8>>, String>> {
    let ids: Vec<String> = users.iter().filter(|u| wants_photo(u)).filter_map(|u| u.idp_id.clone()).collect();
    if ids.is_empty() {
        return HashMap::new();
    }
    let photos = source.photos(&ids);
    ids.into_iter().zip(photos.into_iter().map(|p| p.map_err(|e| e.to_string()))).collect()
}

/// Adds one user's outcomes to the run's counts.
pub(super) fn tally(c: &mut Counts, r: &UserResult) {
    for o in &r.outcomes {
        let slot = match o.as_str() {
            "created" => &mut c.created,
            "updated" => &mut c.updated,
            "renamed" => &mut c.renamed,
            "disabled" => &mut c.disabled,
            "reactivated" => &mut c.reactivated,
            "deleted" => &mut c.deleted,
            "anonymised" => &mut c.anonymised,
            "unchanged" => &mut c.unchanged,
            "filtered" => &mut c.filtered,
            "failed" => &mut c.failed,
            "held" => &mut c.held,
            "handed_over" => &mut c.handed_over,
            _ => continue,
        };
        *slot += 1;
    }
}
