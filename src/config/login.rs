//! `login.routes`: which connector answers for a login when several are configured. Each route
//! names conditions (all must hold) and a connector; the first route whose conditions hold
//! answers. Without a matching route the connector that manages the directory user answers, and
//! for a user nobody manages yet the highest-priority connector that provisions at login
//! (engine/routing.rs).

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use super::reader::{Ctx, Obj};
use super::Pattern;

#[derive(Debug, Clone, Default, Serialize)]
pub struct LoginRouting {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<LoginRoute>,
}

impl LoginRouting {
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// One route: every condition it names must hold.
#[derive(Debug, Clone, Serialize)]
pub struct LoginRoute {
    /// The login name, or the directory user's e-mail, ends in `@` one of these (lower case).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub email_domain: Vec<String>,
    /// The login name matches this expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username_pattern: Option<Pattern>,
    /// An attribute the host passes with the login (`header:X-Idp`, ...) ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// ... equals this (ignoring case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    pub connector: String,
}

/// Reads `login`; `connectors` are the ids a route may name.
pub(super) fn read_login(ctx: &mut Ctx, path: &str, v: &Value, connectors: &[String]) -> Option<LoginRouting> {
    let mut o = Obj::new(ctx, path, v)?;
    let routes = match o.opt("routes") {
        Some((p, v)) => {
            let items = ctx.array(&p, v)?;
            let read: Vec<Option<LoginRoute>> = items
                .iter()
                .enumerate()
                .map(|(i, item)| read_route(ctx, &format!("{p}[{i}]"), item, connectors))
                .collect();
            read.into_iter().collect::<Option<Vec<_>>>()
        }
        None => Some(Vec::new()),
    };
    o.finish(ctx);
    Some(LoginRouting { routes: routes? })
}

fn read_route(ctx: &mut Ctx, path: &str, v: &Value, connectors: &[String]) -> Option<LoginRoute> {
    let mut o = Obj::new(ctx, path, v)?;
    let connector = o.req(ctx, "connector", "the connector that answers").and_then(|(p, v)| {
        let id = ctx.nonempty(&p, v)?;
        if connectors.contains(&id) {
            Some(id)
        } else {
            ctx.err(&p, format!("no connector with id '{id}' (configured: {})", connectors.join(", ")));
            None
        }
    });
    let email_domain = match o.opt("email_domain") {
        Some((p, Value::String(one))) => Some(vec![one.trim_start_matches('@').to_lowercase()]).filter(|_| {
            let ok = !one.trim_start_matches('@').is_empty();
            if !ok {
                ctx.err(&p, "an e-mail domain such as 'example.com'");
            }
            ok
        }),
        Some((p, v)) => {
            ctx.strings(&p, v).map(|l| l.iter().map(|d| d.trim_start_matches('@').to_lowercase()).collect())
        }
        None => Some(Vec::new()),
    };
    let username_pattern = match o.opt("username_pattern") {
        Some((p, v)) => ctx.string(&p, v).and_then(|s| match Regex::new(&s) {
            Ok(r) => Some(Some(Pattern(r))),
            Err(e) => {
                ctx.err(&p, format!("invalid regex: {}", super::parse::regex_message(&e)));
                None
            }
        }),
        None => Some(None),
    };
    let attribute = match o.opt("attribute") {
        Some((p, v)) => ctx.nonempty(&p, v).map(Some),
        None => Some(None),
    };
    let equals = match o.opt("equals") {
        Some((p, v)) => ctx.string(&p, v).map(Some),
        None => Some(None),
    };
    o.finish(ctx);
    let (email_domain, username_pattern, attribute, equals) = (email_domain?, username_pattern?, attribute?, equals?);
    match (&attribute, &equals) {
        (Some(_), None) => ctx.err(path, "'attribute' needs 'equals': the value that routes the login"),
        (None, Some(_)) => ctx.err(path, "'equals' needs 'attribute': what is compared"),
        (None, None) if email_domain.is_empty() && username_pattern.is_none() => {
            ctx.err(path, "a route needs a condition: email_domain, username_pattern, or attribute with equals")
        }
        _ => return Some(LoginRoute { email_domain, username_pattern, attribute, equals, connector: connector? }),
    }
    None
}
