//! The `ldap` connector's settings.

use std::path::PathBuf;

use super::parse::{read_membership, MEMBERSHIP};
use super::reader::{Ctx, Obj};
use super::{LdapFlavor, LdapSource};

pub(super) fn read_ldap(ctx: &mut Ctx, o: &mut Obj) -> Option<LdapSource> {
    let url = o.req(ctx, "url", "ldaps://host:636 or ldap://host:389").and_then(|(p, v)| {
        let u = ctx.nonempty(&p, v)?;
        let lower = u.to_ascii_lowercase();
        if !(lower.starts_with("ldaps://") || lower.starts_with("ldap://")) {
            ctx.err(&p, format!("'{u}' is not an ldap:// or ldaps:// URL"));
            return None;
        }
        Some(u.trim_end_matches('/').to_string())
    });
    let starttls = match o.opt("starttls") {
        Some((p, v)) => ctx.boolean(&p, v),
        None => Some(false),
    };
    let ca_file = o.opt("ca_file").and_then(|(p, v)| ctx.nonempty(&p, v)).map(PathBuf::from);
    let bind_dn = o.req(ctx, "bind_dn", "the DN to bind as").and_then(|(p, v)| ctx.nonempty(&p, v));
    let bind_password = o.req(ctx, "bind_password", "its password").and_then(|(p, v)| ctx.secret(&p, v));
    let base_dn = o.req(ctx, "base_dn", "where users are searched").and_then(|(p, v)| ctx.nonempty(&p, v));
    let flavor = match o.opt("flavor") {
        Some((p, v)) => {
            ctx.word(&p, v, &[("openldap", LdapFlavor::Openldap), ("active_directory", LdapFlavor::ActiveDirectory)])
        }
        None => Some(LdapFlavor::Openldap),
    };
    let ad = flavor == Some(LdapFlavor::ActiveDirectory);
    let default_users = if ad { "(&(objectCategory=person)(objectClass=user))" } else { "(objectClass=inetOrgPerson)" };
    let default_groups =
        if ad { "(objectClass=group)" } else { "(|(objectClass=groupOfNames)(objectClass=posixGroup))" };
    let text = |ctx: &mut Ctx, o: &mut Obj, key: &'static str, default: Option<&str>| match o.opt(key) {
        Some((p, v)) => ctx.nonempty(&p, v),
        None => default.map(str::to_string),
    };
    let user_filter = text(ctx, o, "user_filter", Some(default_users));
    let groups = read_membership(ctx, o, &MEMBERSHIP);
    let group_base_dn = text(ctx, o, "group_base_dn", None).or_else(|| base_dn.clone());
    let group_filter = text(ctx, o, "group_filter", Some(default_groups));
    let page_size = ctx.opt_whole(o, "page_size", 500, 1, 5000);
    let timeout_seconds = ctx.opt_whole(o, "timeout_seconds", 30, 1, 600);
    if let (Some(u), Some(false)) = (&url, starttls) {
        let loopback = u.contains("://127.0.0.1") || u.contains("://localhost") || u.contains("://[::1]");
        if u.to_ascii_lowercase().starts_with("ldap://") && !loopback {
            // A bind password must not cross the network in the clear.
            ctx.err(&o.at("url"), "ldap:// sends the bind password in the clear: use ldaps://, or set starttls");
        }
    }
    Some(LdapSource {
        url: url?,
        starttls: starttls?,
        ca_file,
        bind_dn: bind_dn?,
        bind_password: bind_password?,
        base_dn: base_dn?,
        user_filter: user_filter?,
        flavor: flavor?,
        groups: groups?,
        group_base_dn: group_base_dn?,
        group_filter: group_filter?,
        page_size: page_size?,
        timeout_seconds: timeout_seconds?,
    })
}
