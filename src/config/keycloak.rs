//! The `keycloak` and `onelogin` connectors' source settings.

use super::parse::{read_http_opt, read_membership, read_url, MEMBERSHIP};
use super::reader::{Ctx, Obj};
use super::{KeycloakGroupNames, KeycloakSource, OneLoginGroups, OneLoginSource};

pub(super) fn read_keycloak(ctx: &mut Ctx, o: &mut Obj) -> Option<KeycloakSource> {
    let base_url = read_url(ctx, o, "base_url", None);
    let realm = o.req(ctx, "realm", "the realm whose users are read").and_then(|(p, v)| ctx.nonempty(&p, v));
    let token_realm = o.opt("token_realm").and_then(|(p, v)| ctx.nonempty(&p, v));
    let client_id = o
        .req(ctx, "client_id", "a confidential client with service accounts enabled")
        .and_then(|(p, v)| ctx.nonempty(&p, v));
    let client_secret = o.req(ctx, "client_secret", "the client's secret").and_then(|(p, v)| ctx.secret(&p, v));
    let groups = read_membership(ctx, o, &MEMBERSHIP);
    let group_names = match o.opt("group_names") {
        Some((p, v)) => ctx.word(&p, v, &[("name", KeycloakGroupNames::Name), ("path", KeycloakGroupNames::Path)]),
        None => Some(KeycloakGroupNames::Name),
    };
    let roles = match o.opt("roles") {
        Some((p, v)) => ctx.boolean(&p, v),
        None => Some(false),
    };
    let manager_attribute = o.opt("manager_attribute").and_then(|(p, v)| ctx.nonempty(&p, v));
    let page_size = ctx.opt_whole(o, "page_size", 100, 1, 1000);
    let http = read_http_opt(ctx, o);
    Some(KeycloakSource {
        base_url: base_url?,
        realm: realm?,
        token_realm,
        client_id: client_id?,
        client_secret: client_secret?,
        groups: groups?,
        group_names: group_names?,
        roles: roles?,
        manager_attribute,
        page_size: page_size?,
        http: http?,
    })
}

pub(super) fn read_onelogin(ctx: &mut Ctx, o: &mut Obj) -> Option<OneLoginSource> {
    let base_url = read_url(ctx, o, "base_url", None);
    let client_id = o.req(ctx, "client_id", "an API credential's client id").and_then(|(p, v)| ctx.nonempty(&p, v));
    let client_secret = o.req(ctx, "client_secret", "the API credential's secret").and_then(|(p, v)| ctx.secret(&p, v));
    let choices = [
        ("roles", OneLoginGroups::Roles),
        ("group", OneLoginGroups::Group),
        ("both", OneLoginGroups::Both),
        ("none", OneLoginGroups::None),
    ];
    let groups_from = match o.opt("groups_from") {
        Some((p, v)) => ctx.word(&p, v, &choices),
        None => Some(OneLoginGroups::Roles),
    };
    let api_budget_percent = ctx.opt_whole(o, "api_budget_percent", 50, 1, 100);
    let http = read_http_opt(ctx, o);
    Some(OneLoginSource {
        base_url: base_url?,
        client_id: client_id?,
        client_secret: client_secret?,
        groups_from: groups_from?,
        api_budget_percent: api_budget_percent?,
        http: http?,
    })
}
