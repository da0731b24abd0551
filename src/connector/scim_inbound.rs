//! The `scim-inbound` connector's source: the SCIM resources an IdP pushed to the endpoint, as
//! the state store keeps them. A run reads them like any listing — complete, since the store
//! holds everything the IdP sent — so a deleted user is simply absent and `lifecycle.missing`
//! applies, through the guard.

use serde_json::Value;

use super::scim::{members_by_user, parse_group, source_user};
use super::{Connector, Listing, SourceError};
use crate::config::{GroupMembership, GroupRules};

/// Reads stored resources: `(kind, Some(id))` one, `(kind, None)` all.
pub type Loader = Box<dyn Fn(&str, Option<&str>) -> Result<Vec<Value>, String> + Send>;

pub struct InboundConnector {
    load: Loader,
    membership: GroupMembership,
    rules: GroupRules,
}

impl InboundConnector {
    pub fn new(load: Loader, membership: GroupMembership, rules: GroupRules) -> Self {
        InboundConnector { load, membership, rules }
    }

    fn read(&self, one: Option<&str>) -> Result<Listing, SourceError> {
        let users = (self.load)("User", one).map_err(SourceError::Unreadable)?;
        let groups = (self.load)("Group", None).map_err(SourceError::Unreadable)?;
        let groups: Vec<_> = groups.iter().filter_map(parse_group).collect();
        let by_user = members_by_user(&groups, self.membership, &self.rules);
        let mut listing = Listing { complete: true, ..Listing::default() };
        for v in users {
            match source_user(v, self.membership, false) {
                Ok(mut u) => {
                    u.location = format!("scim-inbound user {}", u.id);
                    u.groups = by_user.get(&u.id).cloned().unwrap_or_default();
                    listing.users.push(u);
                }
                Err(e) => {
                    listing.incomplete(e);
                }
            }
        }
        Ok(listing)
    }
}

impl Connector for InboundConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        self.read(None)
    }

    fn fetch_one(&mut self, id: &str) -> Result<Option<Listing>, SourceError> {
        self.read(Some(id)).map(Some)
    }

    fn check(&mut self) -> Vec<super::CheckStep> {
        let count = (self.load)("User", None).map(|u| format!("{} users pushed so far", u.len()));
        vec![super::CheckStep::new("read the pushed resources", count)]
    }
}
