//! Turns a JSON value into a validated `Config`, collecting every error on the way.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::str::FromStr;

use regex::Regex;
use serde_json::Value;

use super::reader::{Ctx, Obj};
use super::*;
use super::{idle, login, manager};

pub fn parse_value(v: &Value, base_dir: PathBuf) -> Result<Config, Vec<ConfigError>> {
    let mut ctx = Ctx { base_dir: base_dir.clone(), ..Ctx::default() };
    let root = read_root(&mut ctx, v);
    match root {
        Some((connectors, Some(operations), Some(login))) if ctx.errors.is_empty() => {
            Ok(Config { connectors, operations, login, base_dir })
        }
        _ => Err(ctx.errors),
    }
}

type Root = (Vec<ConnectorConfig>, Option<Operations>, Option<login::LoginRouting>);

fn read_root(ctx: &mut Ctx, v: &Value) -> Option<Root> {
    let mut root = Obj::new(ctx, "", v)?;
    let list = root.req(ctx, "connectors", "a list of connectors");
    let operations = match root.opt("operations") {
        Some((p, v)) => read_operations(ctx, &p, v),
        None => Some(Operations::default()),
    };
    let login = root.opt("login");
    root.finish(ctx);
    let (path, list) = list?;
    let items = ctx.array(&path, list)?;
    if items.is_empty() {
        ctx.err(&path, "needs at least one connector");
    }
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        if let Some(id) = item.get("id").and_then(Value::as_str) {
            if !ids.insert(id.to_string()) {
                ctx.err(&format!("{p}.id"), format!("duplicate connector id '{id}'"));
            }
        }
        out.extend(read_connector(ctx, &p, item));
    }
    // The token says which connector a SCIM push is for: two connectors cannot share one.
    let mut tokens: Vec<(&str, usize)> = Vec::new();
    for (i, c) in out.iter().enumerate() {
        if let SourceSettings::ScimInbound(s) = &c.source {
            match tokens.iter().find(|(t, _)| *t == s.bearer_token.expose()) {
                Some((_, first)) => ctx.err(
                    &format!("{path}[{i}].source.bearer_token"),
                    format!("the same token as {path}[{first}]; each scim-inbound connector needs its own"),
                ),
                None => tokens.push((s.bearer_token.expose(), i)),
            }
        }
    }
    let known: Vec<String> = ids.into_iter().collect();
    let login = match login {
        Some((p, v)) => login::read_login(ctx, &p, v, &known),
        None => Some(login::LoginRouting::default()),
    };
    Some((out, operations, login))
}

fn read_operations(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Operations> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = Operations::default();
    let lease_seconds = ctx.opt_whole(&mut o, "lease_seconds", d.lease_seconds, 2, 3600);
    let history = match o.opt("history") {
        Some((p, v)) => read_retention(ctx, &p, v),
        None => Some(d.history),
    };
    let time_zone = match o.opt("time_zone") {
        Some((p, v)) => ctx.string(&p, v).and_then(|name| match name.parse::<chrono_tz::Tz>() {
            Ok(zone) => Some(zone),
            Err(_) => {
                ctx.err(&p, format!("unknown time zone '{name}' (an IANA name such as 'Europe/Berlin' or 'UTC')"));
                None
            }
        }),
        None => Some(d.time_zone),
    };
    o.finish(ctx);
    Some(Operations { lease_seconds: lease_seconds?, history: history?, time_zone: time_zone? })
}

fn read_retention(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Retention> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = Retention::default();
    let keep_runs = ctx.opt_whole(&mut o, "keep_runs", d.keep_runs, 1, 1_000_000);
    let keep_days = ctx.opt_whole(&mut o, "keep_days", d.keep_days, 1, 36_500);
    o.finish(ctx);
    Some(Retention { keep_runs: keep_runs?, keep_days: keep_days? })
}

/// `"schedule": "<cron>"` (full runs) or `{"full": "<cron>", "incremental": "<cron>"}`.
fn read_schedule(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Schedule> {
    let cron = |ctx: &mut Ctx, p: &str, v: &Value| -> Option<String> {
        let s = ctx.string(p, v)?;
        match crate::schedule::Cron::parse(&s) {
            Ok(_) => Some(s),
            Err(e) => {
                ctx.err(p, e);
                None
            }
        }
    };
    if v.is_string() {
        return cron(ctx, path, v).map(|full| Schedule { full: Some(full), incremental: None });
    }
    let mut o = Obj::new(ctx, path, v)?;
    let full = o.opt("full").map(|(p, v)| cron(ctx, &p, v));
    let incremental = o.opt("incremental").map(|(p, v)| cron(ctx, &p, v));
    o.finish(ctx);
    if full.is_none() && incremental.is_none() {
        ctx.err(path, "expected \"full\" and/or \"incremental\" cron expressions, e.g. {\"full\": \"0 0 2 * * ?\", \"incremental\": \"0 */15 * * * ?\"}");
        return None;
    }
    // An invalid expression was reported already.
    if full == Some(None) || incremental == Some(None) {
        return None;
    }
    Some(Schedule { full: full.flatten(), incremental: incremental.flatten() })
}

fn read_connector(ctx: &mut Ctx, path: &str, v: &Value) -> Option<ConnectorConfig> {
    let mut o = Obj::new(ctx, path, v)?;
    let id = o.req(ctx, "id", "a connector id").and_then(|(p, v)| ctx.nonempty(&p, v));
    if let Some(id) = &id {
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            ctx.err(&o.at("id"), "use only letters, digits, '-', '_' and '.'");
        }
    }
    let kind = o.req(ctx, "type", "the connector type").and_then(|(p, v)| ctx.word(&p, v, &ConnectorKind::CHOICES));
    let source = match (kind, o.req(ctx, "source", "the source settings")) {
        (Some(kind), Some((p, v))) => read_source(ctx, &p, v, kind),
        _ => None,
    };
    let preset = o.opt("preset").and_then(|(p, v)| ctx.word(&p, v, &super::presets::NAMES).map(|n| (p, n)));
    let mapping = match (&preset, o.opt("mapping")) {
        (None, None) => {
            ctx.err(&o.at("mapping"), "missing; expected a list of mapping rules (or a preset)");
            None
        }
        (None, Some((p, v))) => read_mapping(ctx, &p, v, true),
        (Some((pp, name)), own) => {
            let base = read_mapping(ctx, &format!("{pp}({name})"), &super::presets::rules(name), true);
            let own = match own {
                Some((p, v)) => read_mapping(ctx, &p, v, false),
                None => Some(Vec::new()),
            };
            base.zip(own).map(|(base, own)| {
                let mut rules: Vec<MappingRule> =
                    base.into_iter().filter(|r| !own.iter().any(|o| o.target == r.target)).collect();
                rules.extend(own);
                rules
            })
        }
    };
    let groups = match o.opt("groups") {
        Some((p, v)) => read_groups(ctx, &p, v),
        None => Some(GroupRules::default()),
    };
    let lifecycle = match o.opt("lifecycle") {
        Some((p, v)) => read_lifecycle(ctx, &p, v),
        None => Some(Lifecycle::default()),
    };
    let safety = match o.opt("safety") {
        Some((p, v)) => read_safety(ctx, &p, v),
        None => Some(Safety::default()),
    };
    let schedule = match o.opt("schedule") {
        Some((p, v)) => read_schedule(ctx, &p, v),
        None => Some(Schedule::default()),
    };
    let link_existing = match o.opt("link_existing") {
        Some((p, v)) => read_link_existing(ctx, &p, v),
        None => Some(LinkExisting::default()),
    };
    let provision_on_login = match o.opt("provision_on_login") {
        Some((p, v)) => ctx.boolean(&p, v),
        None => Some(false),
    };
    let photos = match o.opt("photos") {
        Some((p, v)) => ctx.boolean(&p, v),
        None => Some(false),
    };
    let full_reconcile = match o.opt("full_reconcile") {
        Some((p, v)) => read_full_reconcile(ctx, &p, v),
        None => Some(FullReconcile::default()),
    };
    let priority = ctx.opt_whole(&mut o, "priority", 0, 0, 1000);
    let manager = match o.opt("manager") {
        Some((p, v)) => manager::read_manager(ctx, &p, v).map(Some),
        None => Some(None),
    };
    o.finish(ctx);
    let mut mapping = mapping?;
    let manager = manager?;
    if let Some(m) = &manager {
        // The resolved manager replaces a rule that writes the raw reference to the same target.
        mapping.retain(|r| r.target != m.target);
    }
    if let Some(link) = &link_existing {
        for key in &link.0 {
            let needs = match key {
                LinkKey::Username => continue,
                LinkKey::Email => Target::Email,
                LinkKey::Value(t) => t.clone(),
            };
            if !mapping.iter().any(|r| r.target == needs) {
                let name = key.name();
                ctx.err(
                    &format!("{path}.link_existing"),
                    format!("linking by {name} needs a mapping rule for '{name}'"),
                );
            }
        }
    }
    Some(ConnectorConfig {
        id: id?,
        kind: kind?,
        source: source?,
        mapping,
        groups: groups?,
        lifecycle: lifecycle?,
        safety: safety?,
        schedule: schedule?,
        link_existing: link_existing?,
        provision_on_login: provision_on_login?,
        photos: photos?,
        full_reconcile: full_reconcile?,
        priority: priority?,
        manager,
    })
}

/// `"none"`, one key (`"username"`, `"email"`, a field target such as `"property:employee_id"`)
/// or a list of keys tried in order.
fn read_link_existing(ctx: &mut Ctx, path: &str, v: &Value) -> Option<LinkExisting> {
    let key = |ctx: &mut Ctx, p: &str, name: &str| -> Option<LinkKey> {
        match name {
            "username" => Some(LinkKey::Username),
            "email" => Some(LinkKey::Email),
            other => match Target::from_str(other) {
                Ok(t) if !t.is_core() && t != Target::Groups => Some(LinkKey::Value(t)),
                _ => {
                    ctx.err(p, format!("cannot link by '{other}' (expected none, username, email or a field such as 'property:employee_id')"));
                    None
                }
            },
        }
    };
    match v {
        Value::String(s) if s == "none" => Some(LinkExisting::default()),
        Value::String(s) => key(ctx, path, s).map(|k| LinkExisting(vec![k])),
        _ => {
            let names = ctx.strings(path, v)?;
            // ["none"] is "none" (the admin page's form writes a list).
            let keys: Vec<Option<LinkKey>> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_str() != "none")
                .map(|(i, n)| key(ctx, &format!("{path}[{i}]"), n))
                .collect();
            keys.into_iter().collect::<Option<Vec<_>>>().map(LinkExisting)
        }
    }
}

fn read_source(ctx: &mut Ctx, path: &str, v: &Value, kind: ConnectorKind) -> Option<SourceSettings> {
    let mut o = Obj::new(ctx, path, v)?;
    let out = match kind {
        ConnectorKind::Csv | ConnectorKind::Xlsx => read_file_source(ctx, &mut o, kind).map(SourceSettings::File),
        ConnectorKind::Entra => {
            let tenant_id = o.req(ctx, "tenant_id", "the Entra tenant id").and_then(|(p, v)| ctx.nonempty(&p, v));
            let client_id =
                o.req(ctx, "client_id", "the app registration's client id").and_then(|(p, v)| ctx.nonempty(&p, v));
            let client_secret = o.req(ctx, "client_secret", "the client secret").and_then(|(p, v)| ctx.secret(&p, v));
            let authority_url = read_url(ctx, &mut o, "authority_url", Some(ENTRA_AUTHORITY));
            let graph_url = read_url(ctx, &mut o, "graph_url", Some(ENTRA_GRAPH));
            let groups = read_membership(ctx, &mut o, &MEMBERSHIP);
            let http = read_http_opt(ctx, &mut o);
            Some(SourceSettings::Entra(EntraSource {
                tenant_id: tenant_id?,
                client_id: client_id?,
                client_secret: client_secret?,
                authority_url: authority_url?,
                graph_url: graph_url?,
                groups: groups?,
                http: http?,
            }))
        }
        ConnectorKind::Google => {
            let credentials_file = o
                .req(ctx, "credentials_file", "the service account's JSON key file")
                .and_then(|(p, v)| ctx.nonempty(&p, v))
                .map(PathBuf::from);
            let subject = o
                .req(ctx, "subject", "the administrator the service account acts as")
                .and_then(|(p, v)| ctx.nonempty(&p, v));
            let customer =
                o.opt("customer").and_then(|(p, v)| ctx.nonempty(&p, v)).unwrap_or_else(|| "my_customer".into());
            let custom_schemas = match o.opt("custom_schemas") {
                Some((p, v)) => ctx.strings(&p, v),
                None => Some(Vec::new()),
            };
            let api_url = read_url(ctx, &mut o, "api_url", Some(GOOGLE_API));
            let token_url = match o.opt("token_url") {
                Some(_) => read_url(ctx, &mut o, "token_url", None).map(Some),
                None => Some(None),
            };
            let groups = read_membership(ctx, &mut o, &MEMBERSHIP);
            let http = read_http_opt(ctx, &mut o);
            Some(SourceSettings::Google(GoogleSource {
                credentials_file: credentials_file?,
                subject: subject?,
                customer,
                custom_schemas: custom_schemas?,
                api_url: api_url?,
                token_url: token_url?,
                groups: groups?,
                http: http?,
            }))
        }
        ConnectorKind::Okta => {
            let org_url = read_url(ctx, &mut o, "org_url", None);
            let api_token = o.opt("api_token").and_then(|(p, v)| ctx.secret(&p, v));
            let client_id = o.opt("client_id").and_then(|(p, v)| ctx.nonempty(&p, v));
            let key_file = o.opt("private_key_file").and_then(|(p, v)| ctx.nonempty(&p, v));
            let auth = match (api_token, client_id, key_file) {
                (Some(t), None, None) => Some(OktaAuth::ApiToken { api_token: t }),
                (None, Some(client_id), Some(f)) => {
                    Some(OktaAuth::PrivateKeyJwt { client_id, private_key_file: PathBuf::from(f) })
                }
                _ => {
                    ctx.err(
                        &o.at("api_token"),
                        "missing; expected an Okta API token, or client_id and private_key_file for an OAuth service app",
                    );
                    None
                }
            };
            // Okta groups do not nest.
            let groups = read_membership(ctx, &mut o, &[MEMBERSHIP[0], MEMBERSHIP[2]]);
            let inactive_statuses = match o.opt("inactive_statuses") {
                Some((p, v)) => ctx.strings(&p, v).and_then(|list| {
                    let unknown: Vec<&String> = list.iter().filter(|s| !OKTA_STATUSES.contains(&s.as_str())).collect();
                    if unknown.is_empty() {
                        Some(list.clone())
                    } else {
                        let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
                        ctx.err(
                            &p,
                            format!(
                                "unknown Okta status {} (expected: {})",
                                names.join(", "),
                                OKTA_STATUSES.join(", ")
                            ),
                        );
                        None
                    }
                }),
                None => Some(OKTA_INACTIVE_STATUSES.iter().map(|s| s.to_string()).collect()),
            };
            let http = read_http_opt(ctx, &mut o);
            Some(SourceSettings::Okta(OktaSource {
                org_url: org_url?,
                auth: auth?,
                groups: groups?,
                inactive_statuses: inactive_statuses?,
                http: http?,
            }))
        }
        ConnectorKind::Scim => super::scim::read_scim(ctx, &mut o).map(SourceSettings::Scim),
        ConnectorKind::ScimInbound => super::scim::read_scim_inbound(ctx, &mut o).map(SourceSettings::ScimInbound),
        ConnectorKind::Keycloak => super::keycloak::read_keycloak(ctx, &mut o).map(SourceSettings::Keycloak),
        ConnectorKind::OneLogin => super::keycloak::read_onelogin(ctx, &mut o).map(SourceSettings::OneLogin),
        ConnectorKind::Rest => super::rest::read_rest(ctx, &mut o).map(|r| SourceSettings::Rest(Box::new(r))),
        ConnectorKind::Ldap => super::ldap::read_ldap(ctx, &mut o).map(|l| SourceSettings::Ldap(Box::new(l))),
    };
    o.finish(ctx);
    out
}

/// A service URL: https, or http on loopback only. Trailing slashes are dropped. Without a
/// default the URL is required.
pub(super) fn read_url(ctx: &mut Ctx, o: &mut Obj, key: &'static str, default: Option<&str>) -> Option<String> {
    let (p, v) = match (o.opt(key), default) {
        (Some(found), _) => found,
        (None, Some(d)) => return Some(d.to_string()),
        (None, None) => {
            ctx.err(&o.at(key), "missing; expected an https:// URL");
            return None;
        }
    };
    let url = ctx.nonempty(&p, v)?;
    match crate::connector::http::check_url(&url) {
        Ok(()) => Some(url.trim_end_matches('/').to_string()),
        Err(e) => {
            ctx.err(&p, e);
            None
        }
    }
}

pub(super) const MEMBERSHIP: [(&str, GroupMembership); 3] =
    [("direct", GroupMembership::Direct), ("transitive", GroupMembership::Transitive), ("none", GroupMembership::None)];

pub(super) fn read_membership(
    ctx: &mut Ctx,
    o: &mut Obj,
    choices: &[(&str, GroupMembership)],
) -> Option<GroupMembership> {
    match o.opt("groups") {
        Some((p, v)) => ctx.word(&p, v, choices),
        None => Some(GroupMembership::Direct),
    }
}

pub(super) fn read_http_opt(ctx: &mut Ctx, o: &mut Obj) -> Option<HttpSettings> {
    match o.opt("http") {
        Some((p, v)) => read_http(ctx, &p, v),
        None => Some(HttpSettings::default()),
    }
}

fn read_full_reconcile(ctx: &mut Ctx, path: &str, v: &Value) -> Option<FullReconcile> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = FullReconcile::default();
    let every_runs = ctx.opt_whole(&mut o, "every_runs", d.every_runs, 0, 100_000);
    let max_age_hours = ctx.opt_whole(&mut o, "max_age_hours", d.max_age_hours, 0, 24 * 365);
    o.finish(ctx);
    Some(FullReconcile { every_runs: every_runs?, max_age_hours: max_age_hours? })
}

fn read_http(ctx: &mut Ctx, path: &str, v: &Value) -> Option<HttpSettings> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = HttpSettings::default();
    let timeout_seconds = ctx.opt_whole(&mut o, "timeout_seconds", d.timeout_seconds, 1, 3600);
    let max_attempts = ctx.opt_whole(&mut o, "max_attempts", d.max_attempts, 1, 100);
    let retry_base_ms = ctx.opt_whole(&mut o, "retry_base_ms", d.retry_base_ms, 1, 60_000);
    let concurrency = ctx.opt_whole(&mut o, "concurrency", d.concurrency, 1, 16);
    let max_body_mb = ctx.opt_whole(&mut o, "max_body_mb", d.max_body_mb, 1, 4096);
    let proxy_url = o.opt("proxy_url").and_then(|(p, v)| ctx.nonempty(&p, v));
    let ca_file = o.opt("ca_file").and_then(|(p, v)| ctx.nonempty(&p, v)).map(PathBuf::from);
    o.finish(ctx);
    Some(HttpSettings {
        timeout_seconds: timeout_seconds?,
        max_attempts: max_attempts?,
        retry_base_ms: retry_base_ms?,
        concurrency: concurrency?,
        proxy_url,
        ca_file,
        max_body_mb: max_body_mb?,
    })
}

fn read_file_source(ctx: &mut Ctx, o: &mut Obj, kind: ConnectorKind) -> Option<FileSource> {
    let path = o.req(ctx, "path", "the file's path").and_then(|(p, v)| ctx.nonempty(&p, v));
    let one_char = |ctx: &mut Ctx, key: &'static str, o: &mut Obj| -> Option<Option<char>> {
        let (p, v) = o.opt(key)?;
        if kind != ConnectorKind::Csv {
            ctx.err(&p, "only CSV sources have this setting");
            return None;
        }
        let s = ctx.string(&p, v)?;
        let s = if s == "\\t" { "\t".to_string() } else { s };
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii() => Some(Some(c)),
            _ => {
                ctx.err(&p, "expected a single ASCII character (use \"\\t\" for tab)");
                None
            }
        }
    };
    let delimiter = one_char(ctx, "delimiter", o).flatten();
    let quote = one_char(ctx, "quote", o).flatten();
    let sheet = o.opt("sheet").and_then(|(p, v)| {
        if kind != ConnectorKind::Xlsx {
            ctx.err(&p, "only XLSX sources have a sheet");
            return None;
        }
        ctx.nonempty(&p, v)
    });
    let id_column =
        o.req(ctx, "id_column", "the column holding the immutable user id").and_then(|(p, v)| ctx.nonempty(&p, v));
    let mut opt_str = |ctx: &mut Ctx, key: &'static str| o.opt(key).and_then(|(p, v)| ctx.nonempty(&p, v));
    let active_column = opt_str(ctx, "active_column");
    let groups_column = opt_str(ctx, "groups_column");
    let manager_column = opt_str(ctx, "manager_column");
    let list_separator = opt_str(ctx, "list_separator").unwrap_or_else(|| ";".to_string());
    let inactive_values = match o.opt("inactive_values") {
        Some((p, v)) => ctx.strings(&p, v)?.into_iter().map(|s| s.to_lowercase()).collect(),
        None => DEFAULT_INACTIVE_VALUES.iter().map(|s| s.to_string()).collect(),
    };
    let mut list_columns = match o.opt("list_columns") {
        Some((p, v)) => ctx.strings(&p, v)?,
        None => Vec::new(),
    };
    if let Some(g) = &groups_column {
        if !list_columns.contains(g) {
            list_columns.push(g.clone());
        }
    }
    let limits = match o.opt("limits") {
        Some((p, v)) => super::limits::read_file_limits(ctx, &p, v)?,
        None => FileLimits::default(),
    };
    Some(FileSource {
        path: path?,
        sheet,
        delimiter,
        quote,
        id_column: id_column?,
        active_column,
        inactive_values,
        groups_column,
        manager_column,
        list_columns,
        list_separator,
        limits,
    })
}

fn read_mapping(ctx: &mut Ctx, path: &str, v: &Value, require_username: bool) -> Option<Vec<MappingRule>> {
    let items = ctx.array(path, v)?;
    let mut rules = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("{path}[{i}]");
        if let Some(rule) = read_rule(ctx, &p, item) {
            if !seen.insert(rule.target.clone()) {
                ctx.err(&format!("{p}.target"), format!("'{}' is mapped twice", rule.target));
            }
            rules.push(rule);
        }
    }
    if require_username && !seen.contains(&Target::Username) && ctx.errors.iter().all(|e| !e.path.starts_with(path)) {
        ctx.err(path, "needs a rule for 'username'");
    }
    Some(rules)
}

fn read_rule(ctx: &mut Ctx, path: &str, v: &Value) -> Option<MappingRule> {
    let mut o = Obj::new(ctx, path, v)?;
    let target = o.req(ctx, "target", "a target such as 'email' or 'property:department'").and_then(|(p, v)| {
        let s = ctx.string(&p, v)?;
        match Target::from_str(&s) {
            Ok(Target::Groups) => {
                ctx.err(&p, "groups come from the source's groups column; configure them under 'groups'");
                None
            }
            Ok(t) => Some(t),
            Err(e) => {
                ctx.err(&p, e);
                None
            }
        }
    });
    let source = o
        .req(ctx, "source", "an attribute name or {\"template\"|\"literal\"|\"first_of\": ...}")
        .and_then(|(p, v)| read_value_source(ctx, &p, v));
    let transforms = match o.opt("transforms") {
        Some((p, v)) => read_transforms(ctx, &p, v),
        None => Some(Vec::new()),
    };
    let no_match = match o.opt("no_match") {
        Some((p, v)) => ctx.word(
            &p,
            v,
            &[
                ("keep", NoMatch::Keep),
                ("ignore", NoMatch::Ignore),
                ("clear", NoMatch::Clear),
                ("filter", NoMatch::Filter),
            ],
        ),
        None => Some(NoMatch::Keep),
    };
    o.finish(ctx);
    let target = target?;
    let no_match = no_match?;
    if target == Target::Username && matches!(no_match, NoMatch::Ignore | NoMatch::Clear) {
        ctx.err(&format!("{path}.no_match"), "a username cannot be left alone or cleared; use 'keep' or 'filter'");
    }
    Some(MappingRule { target, source: source?, transforms: transforms?, no_match })
}

fn read_value_source(ctx: &mut Ctx, path: &str, v: &Value) -> Option<ValueSource> {
    if let Value::String(s) = v {
        if s.is_empty() {
            ctx.err(path, "attribute name must not be empty");
            return None;
        }
        return Some(ValueSource::Attribute(s.clone()));
    }
    let mut o = Obj::new(ctx, path, v)?;
    let mut found = Vec::new();
    if let Some((p, v)) = o.opt("attribute") {
        found.push(ctx.nonempty(&p, v).map(ValueSource::Attribute));
    }
    if let Some((p, v)) = o.opt("literal") {
        found.push(ctx.string(&p, v).map(ValueSource::Literal));
    }
    if let Some((p, v)) = o.opt("template") {
        found.push(ctx.string(&p, v).and_then(|t| match parse_template(&t) {
            Ok(t) => Some(ValueSource::Template(t)),
            Err(e) => {
                ctx.err(&p, e);
                None
            }
        }));
    }
    if let Some((p, v)) = o.opt("first_of") {
        let list = ctx.array(&p, v).map(|items| {
            if items.is_empty() {
                ctx.err(&p, "needs at least one source");
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| read_value_source(ctx, &format!("{p}[{i}]"), item))
                .collect::<Option<Vec<_>>>()
        });
        found.push(list.flatten().map(ValueSource::FirstOf));
    }
    let n = found.len();
    o.finish(ctx);
    if n != 1 {
        ctx.err(path, "expected exactly one of: attribute, literal, template, first_of");
        return None;
    }
    found.pop().flatten()
}

pub(crate) fn parse_template(text: &str) -> Result<Template, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(format!("unclosed '{{' at character {}", i + 1));
                }
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err(format!("empty placeholder '{{}}' at character {}", i + 1));
                }
                if !lit.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut lit)));
                }
                parts.push(TemplatePart::Attribute(name));
            }
            '}' => return Err(format!("unmatched '}}' at character {} (write '}}}}' for a literal brace)", i + 1)),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(TemplatePart::Text(lit));
    }
    if !parts.iter().any(|p| matches!(p, TemplatePart::Attribute(_))) {
        return Err("a template needs at least one {attribute} placeholder (use 'literal' for fixed text)".into());
    }
    Ok(Template { text: text.to_string(), parts })
}

fn read_transforms(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Vec<Transform>> {
    let items = ctx.array(path, v)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read_transform(ctx, &format!("{path}[{i}]"), item))
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

const TRANSFORM_NAMES: &str =
    "lowercase, uppercase, trim, regex_replace, replace, strip_domain, entra_guest_upn, default";

fn read_transform(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Transform> {
    let simple = |name: &str| match name {
        "lowercase" => Some(Transform::Lowercase),
        "uppercase" => Some(Transform::Uppercase),
        "trim" => Some(Transform::Trim),
        "strip_domain" => Some(Transform::StripDomain),
        "entra_guest_upn" => Some(Transform::EntraGuestUpn),
        _ => None,
    };
    if let Value::String(name) = v {
        return simple(name).or_else(|| {
            ctx.err(path, format!("unknown transform '{name}' (parameterless ones: lowercase, uppercase, trim, strip_domain, entra_guest_upn; others are objects with \"type\")"));
            None
        });
    }
    let mut o = Obj::new(ctx, path, v)?;
    let name = o.req(ctx, "type", TRANSFORM_NAMES).and_then(|(p, v)| ctx.string(&p, v));
    let field = |ctx: &mut Ctx, o: &mut Obj, key: &'static str, allow_empty: bool| {
        // Not `nonempty`: searching for a single space is legitimate.
        o.req(ctx, key, "a string").and_then(|(p, v)| {
            let s = ctx.string(&p, v)?;
            if s.is_empty() && !allow_empty {
                ctx.err(&p, "must not be empty");
                return None;
            }
            Some(s)
        })
    };
    let out = match name.as_deref() {
        None => None,
        Some("regex_replace") => {
            let pattern = o.req(ctx, "pattern", "a regular expression").and_then(|(p, v)| {
                let s = ctx.string(&p, v)?;
                match Regex::new(&s) {
                    Ok(r) => Some(Pattern(r)),
                    Err(e) => {
                        ctx.err(&p, format!("invalid regex: {}", regex_message(&e)));
                        None
                    }
                }
            });
            let replacement = field(ctx, &mut o, "replacement", true);
            Some(Transform::RegexReplace { pattern: pattern?, replacement: replacement? })
        }
        Some("replace") => {
            let search = field(ctx, &mut o, "search", false);
            let with = field(ctx, &mut o, "with", true);
            Some(Transform::Replace { search: search?, with: with? })
        }
        Some("default") => field(ctx, &mut o, "value", false).map(|value| Transform::Default { value }),
        Some(n) => simple(n).or_else(|| {
            ctx.err(&o.at("type"), format!("unknown transform '{n}' (expected one of: {TRANSFORM_NAMES})"));
            None
        }),
    };
    o.finish(ctx);
    out
}

/// The last line of the regex crate's message says what is wrong ("unclosed group").
pub(super) fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("error: ").to_string())
        .unwrap_or(text)
}

fn read_groups(ctx: &mut Ctx, path: &str, v: &Value) -> Option<GroupRules> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = GroupRules::default();
    let list = |ctx: &mut Ctx, o: &mut Obj, key: &'static str| match o.opt(key) {
        Some((p, v)) => ctx.strings(&p, v),
        None => Some(Vec::new()),
    };
    let required = list(ctx, &mut o, "required");
    let always = list(ctx, &mut o, "always");
    let local = list(ctx, &mut o, "local");
    let include = match o.opt("include") {
        Some((p, v)) => ctx.strings(&p, v).and_then(|pats| {
            pats.iter()
                .enumerate()
                .map(|(i, s)| match Regex::new(s) {
                    Ok(r) => Some(Pattern(r)),
                    Err(e) => {
                        ctx.err(&format!("{p}[{i}]"), format!("invalid regex: {}", regex_message(&e)));
                        None
                    }
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect()
        }),
        None => Some(Vec::new()),
    };
    let transforms = match o.opt("transforms") {
        Some((p, v)) => read_transforms(ctx, &p, v),
        None => Some(Vec::new()),
    };
    let mut flag = |ctx: &mut Ctx, key: &'static str, default: bool| match o.opt(key) {
        Some((p, v)) => ctx.boolean(&p, v),
        None => Some(default),
    };
    let create_missing = flag(ctx, "create_missing", d.create_missing);
    let remove_unlisted = flag(ctx, "remove_unlisted", d.remove_unlisted);
    o.finish(ctx);
    Some(GroupRules {
        required: required?,
        always: always?,
        local: local?,
        include: include?,
        transforms: transforms?,
        create_missing: create_missing?,
        remove_unlisted: remove_unlisted?,
    })
}

fn read_lifecycle(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Lifecycle> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = Lifecycle::default();
    let actions = [
        ("disable", LifecycleAction::Disable),
        ("delete", LifecycleAction::Delete),
        ("anonymise", LifecycleAction::Anonymise),
        ("keep", LifecycleAction::Keep),
    ];
    let mut action = |ctx: &mut Ctx, key: &'static str, default| match o.opt(key) {
        Some((p, v)) => ctx.word(&p, v, &actions),
        None => Some(default),
    };
    let missing = action(ctx, "missing", d.missing);
    let inactive = action(ctx, "inactive", d.inactive);
    let filtered = action(ctx, "filtered", d.filtered);
    let strip_groups = match o.opt("strip_groups") {
        Some((p, v)) => ctx.boolean(&p, v),
        None => Some(d.strip_groups),
    };
    let grace_days = ctx.opt_whole(&mut o, "grace_days", d.grace_days, 0, 36_500);
    let delete_after_days = ctx.opt_whole(&mut o, "delete_after_days", d.delete_after_days, 0, 36_500);
    let reactivate = match o.opt("reactivate") {
        Some((p, v)) => ctx.word(
            &p,
            v,
            &[
                ("if_disabled_by_sync", Reactivate::IfDisabledBySync),
                ("always", Reactivate::Always),
                ("never", Reactivate::Never),
            ],
        ),
        None => Some(d.reactivate),
    };
    let protected_groups = match o.opt("protected_groups") {
        Some((p, v)) => ctx.strings(&p, v),
        None => Some(d.protected_groups),
    };
    let idle = match o.opt("idle") {
        Some((p, v)) => idle::read_idle(ctx, &p, v).map(Some),
        None => Some(None),
    };
    o.finish(ctx);
    Some(Lifecycle {
        missing: missing?,
        inactive: inactive?,
        filtered: filtered?,
        strip_groups: strip_groups?,
        grace_days: grace_days?,
        delete_after_days: delete_after_days?,
        reactivate: reactivate?,
        protected_groups: protected_groups?,
        idle: idle?,
    })
}

fn read_safety(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Safety> {
    let mut o = Obj::new(ctx, path, v)?;
    let d = Safety::default();
    let percent = match o.opt("max_destructive_percent") {
        Some((p, v)) => ctx.number(&p, v, 0.0, 100.0),
        None => Some(d.max_destructive_percent),
    };
    let count = ctx.opt_whole(&mut o, "max_destructive_count", d.max_destructive_count, 0, u32::MAX as u64);
    o.finish(ctx);
    Some(Safety { max_destructive_percent: percent?, max_destructive_count: count? })
}

impl Default for GroupRules {
    fn default() -> Self {
        GroupRules {
            required: Vec::new(),
            always: Vec::new(),
            local: Vec::new(),
            include: Vec::new(),
            transforms: Vec::new(),
            create_missing: true,
            remove_unlisted: true,
        }
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            missing: LifecycleAction::Disable,
            inactive: LifecycleAction::Disable,
            filtered: LifecycleAction::Disable,
            strip_groups: false,
            grace_days: 0,
            delete_after_days: 30,
            reactivate: Reactivate::IfDisabledBySync,
            protected_groups: Vec::new(),
            idle: None,
        }
    }
}

impl Default for Safety {
    fn default() -> Self {
        Safety { max_destructive_percent: 10.0, max_destructive_count: 500 }
    }
}
