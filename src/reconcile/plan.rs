//! The plan: per user, the operations that make the directory match the source.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::model::{Identity, Target};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Create {
        username: String,
        display_name: String,
        email: Option<String>,
        active: bool,
    },
    /// Anchors an existing directory user to the source id; writes nothing to the directory.
    Link {
        by: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Set {
        target: Target,
        before: Option<String>,
        after: Option<String>,
    },
    Reactivate {
        reason: String,
    },
    Disable {
        reason: String,
    },
    AddGroup {
        group: String,
    },
    /// `strip` marks a lifecycle strip (destructive) as opposed to a membership the source dropped.
    RemoveGroup {
        group: String,
        strip: bool,
    },
    Delete {
        reason: String,
    },
    Anonymise {
        reason: String,
    },
    /// Writes the source's photo as the avatar (`etag: None` clears it).
    SetAvatar {
        etag: Option<String>,
    },
    /// Ownership of the user passes between connectors (a connector that outranks the owner
    /// takes it, or the owner lost the user and another connector still has them); writes
    /// nothing to the directory.
    Handover {
        from: String,
        to: String,
    },
}

impl Op {
    /// Counted by the guard (DESIGN §6.2, §6.9): a membership the source dropped counts like a
    /// disable, since a group renamed or emptied at the IdP strips it from everyone at once.
    pub fn is_destructive(&self) -> bool {
        matches!(self, Op::Disable { .. } | Op::Delete { .. } | Op::Anonymise { .. } | Op::RemoveGroup { .. })
    }

    /// What an approval names: the kind, and for a membership the group, so that approving the
    /// removal of one group does not approve the removal of another.
    pub fn approval_id(&self) -> String {
        match self {
            Op::RemoveGroup { group, .. } => format!("{}:{}", self.kind(), group.to_lowercase()),
            _ => self.kind().to_string(),
        }
    }

    /// Short name used for approvals and results.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Link { .. } => "link",
            Op::Rename { .. } => "rename",
            Op::Set { .. } => "set",
            Op::Reactivate { .. } => "reactivate",
            Op::Disable { .. } => "disable",
            Op::AddGroup { .. } => "add_group",
            Op::RemoveGroup { strip: false, .. } => "remove_group",
            Op::RemoveGroup { strip: true, .. } => "strip_group",
            Op::Delete { .. } => "delete",
            Op::Anonymise { .. } => "anonymise",
            Op::SetAvatar { .. } => "set_avatar",
            Op::Handover { .. } => "handover",
        }
    }

    pub fn writes(&self) -> bool {
        !matches!(self, Op::Link { .. } | Op::Handover { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Synced: `ops` may be empty (unchanged).
    Sync,
    Filtered,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPlan {
    pub idp_id: Option<String>,
    /// Directory key of an existing user; `None` until a `Create` succeeds.
    pub key: Option<String>,
    pub username: String,
    pub disposition: Disposition,
    pub ops: Vec<Op>,
    /// Destructive operations the guard held back; applied only after approval.
    pub held: Vec<Op>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// The source version to remember when every op succeeds (see `SourceUser::version`).
    #[serde(skip)]
    pub source_version: Option<String>,
    /// The anchor and facts to keep if every op succeeds; `None` with a `Create` (the key is not
    /// known yet) or for users without an anchor.
    /// Boxed: a plan holds one `UserPlan` per user, moved several times.
    #[serde(skip)]
    pub identity: Option<Box<Identity>>,
}

impl UserPlan {
    pub fn failed(idp_id: Option<String>, username: String, location: Option<String>, reason: String) -> Self {
        UserPlan {
            idp_id,
            key: None,
            username,
            disposition: Disposition::Failed,
            ops: Vec::new(),
            held: Vec::new(),
            reason: Some(reason),
            location,
            identity: None,
            source_version: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub users: Vec<UserPlan>,
    pub create_groups: Vec<String>,
    /// Why destructive operations were held, when they were.
    pub hold: Option<String>,
    /// Groups this connector manages after the run (folded to lower case).
    #[serde(skip)]
    pub managed_groups: BTreeSet<String>,
    /// Anchors whose directory user is gone and that the source no longer lists.
    #[serde(skip)]
    pub forget: Vec<String>,
    /// Why no absence-based cleanup ran, when it did not.
    pub notes: Vec<String>,
    /// Users this connector managed when the run started.
    pub managed_users: usize,
    /// Synced users with nothing to change or record (not in `users`).
    pub unchanged: usize,
    /// Reports whose manager's directory key is known only once this run has created or linked
    /// the manager: (report's source id, manager's source id), written after apply.
    #[serde(skip)]
    pub manager_keys: Vec<(String, String)>,
}
