//! Which connector answers for a login when several are configured: the first of
//! `login.routes` whose conditions hold; otherwise the connector that manages the directory user
//! (the highest-priority one of those that anchor them); for a user nobody manages, the
//! highest-priority connector that provisions at login. `on_login` without a connector asks
//! here, and so can an administrator ("which connector would answer for alice@example.com").

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Engine, EngineError, Shared};
use crate::config::{Config, ConnectorConfig, LoginRoute};
use crate::model::{DirectoryUser, Target};

/// The answer: the connector (none when no connector answers) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub connector: Option<String>,
    pub why: String,
}

fn route_to(connector: &str, why: impl Into<String>) -> Route {
    Route { connector: Some(connector.to_string()), why: why.into() }
}

impl Engine {
    /// Which connector answers for `username`; `attributes` are what the host passes with the
    /// login (`header:X-Idp` and the like).
    pub fn route_login(
        &self,
        config: &Config,
        username: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<Route, EngineError> {
        let _call = self.enter()?;
        route(&self.shared, config, username, attributes)
    }
}

impl Engine {
    /// The login hook when the host does not name a connector: an active user logs in without a
    /// look-up; otherwise the routed connector decides (`on_login`). When no connector answers,
    /// a disabled or unknown user stays out.
    pub fn on_login_routed(
        &self,
        config: &Config,
        username: &str,
        attributes: &BTreeMap<String, String>,
    ) -> Result<super::LoginDecision, EngineError> {
        let decide = |allow: bool, reason: String| super::LoginDecision { allow, reason, run_id: None };
        {
            let _call = self.enter()?;
            if let Some(u) = self.shared.directory.find_user(username)?.filter(|u| u.active) {
                self.logged_in(&u.key);
                return Ok(decide(true, "active".into()));
            }
        }
        let route = self.route_login(config, username, attributes)?;
        match route.connector {
            Some(c) if config.connectors.len() == 1 => self.on_login(config, &c, username),
            Some(c) => {
                let mut d = self.on_login(config, &c, username)?;
                d.reason = format!("connector '{c}' ({}): {}", route.why, d.reason);
                Ok(d)
            }
            None => Ok(decide(false, format!("no connector answers: {}", route.why))),
        }
    }
}

/// Connectors, highest priority first; equal priorities in the configuration's order.
fn by_priority(config: &Config) -> Vec<&ConnectorConfig> {
    let mut list: Vec<&ConnectorConfig> = config.connectors.iter().collect();
    list.sort_by_key(|c| std::cmp::Reverse(c.priority));
    list
}

fn domain_of(address: &str) -> Option<String> {
    address.rsplit_once('@').map(|(_, d)| d.to_lowercase()).filter(|d| !d.is_empty())
}

/// Whether every condition of `route` holds; what held, for the answer's why.
fn holds(
    route: &LoginRoute,
    username: &str,
    user: Option<&DirectoryUser>,
    attributes: &BTreeMap<String, String>,
) -> Option<String> {
    let mut why = Vec::new();
    if !route.email_domain.is_empty() {
        let email = user.and_then(|u| u.value(&Target::Email));
        let domain = domain_of(username).or_else(|| email.and_then(domain_of))?;
        if !route.email_domain.contains(&domain) {
            return None;
        }
        why.push(format!("e-mail domain {domain}"));
    }
    if let Some(pattern) = &route.username_pattern {
        if !pattern.0.is_match(username) {
            return None;
        }
        why.push(format!("username matches {}", pattern.0.as_str()));
    }
    if let (Some(name), Some(want)) = (&route.attribute, &route.equals) {
        let value = attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)?;
        if !value.eq_ignore_ascii_case(want) {
            return None;
        }
        // The configured value, not the request's: a header's text stays out of the answer.
        why.push(format!("{name} is {want}"));
    }
    Some(why.join(", "))
}

pub(super) fn route(
    shared: &Shared,
    config: &Config,
    username: &str,
    attributes: &BTreeMap<String, String>,
) -> Result<Route, EngineError> {
    match config.connectors.as_slice() {
        [] => return Ok(Route { connector: None, why: "no connector is configured".into() }),
        [only] => return Ok(route_to(&only.id, "the only connector")),
        _ => {}
    }
    let user = shared.directory.find_user(username)?;
    for (i, r) in config.login.routes.iter().enumerate() {
        if let Some(why) = holds(r, username, user.as_ref(), attributes) {
            return Ok(route_to(&r.connector, format!("login.routes[{i}]: {why}")));
        }
    }
    let ordered = by_priority(config);
    if let Some(u) = &user {
        for c in &ordered {
            if shared.store.identities(&c.id)?.iter().any(|i| i.key == u.key) {
                return Ok(route_to(&c.id, "it manages the user"));
            }
        }
        return Ok(Route {
            connector: None,
            why: "the user is in the directory, and no connector manages them".into(),
        });
    }
    Ok(match ordered.iter().find(|c| c.provision_on_login) {
        Some(c) => route_to(&c.id, "unknown user: the highest-priority connector that provisions at login"),
        None => Route { connector: None, why: "unknown user, and no connector provisions at login".into() },
    })
}
