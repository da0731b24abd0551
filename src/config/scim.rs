//! The `scim` connector's source settings: the service's base URL, one way to authenticate, how
//! memberships and pages are read.

use super::parse::{read_http_opt, read_membership, read_url, MEMBERSHIP};
use super::reader::{Ctx, Obj};
use super::{ScimAuth, ScimGroupsFrom, ScimInboundSource, ScimPaging, ScimSource};

pub(super) fn read_scim(ctx: &mut Ctx, o: &mut Obj) -> Option<ScimSource> {
    let base_url = read_url(ctx, o, "base_url", None);
    let bearer = o.opt("bearer_token").and_then(|(p, v)| ctx.secret(&p, v));
    let username = o.opt("username").and_then(|(p, v)| ctx.nonempty(&p, v));
    let password = o.opt("password").and_then(|(p, v)| ctx.secret(&p, v));
    let token_url = match o.opt("token_url") {
        Some(_) => read_url(ctx, o, "token_url", None),
        None => None,
    };
    let client_id = o.opt("client_id").and_then(|(p, v)| ctx.nonempty(&p, v));
    let client_secret = o.opt("client_secret").and_then(|(p, v)| ctx.secret(&p, v));
    let scope = o.opt("scope").and_then(|(p, v)| ctx.nonempty(&p, v));
    let auth = match (bearer, username, password, token_url, client_id, client_secret) {
        (Some(t), None, None, None, None, None) => Some(ScimAuth::Bearer { bearer_token: t }),
        (None, Some(username), Some(password), None, None, None) => Some(ScimAuth::Basic { username, password }),
        (None, None, None, Some(token_url), Some(client_id), Some(client_secret)) => {
            Some(ScimAuth::ClientCredentials { token_url, client_id, client_secret, scope })
        }
        _ => {
            ctx.err(
                &o.at("bearer_token"),
                "missing or mixed; expected one of: bearer_token; username and password; token_url, client_id and client_secret",
            );
            None
        }
    };
    let groups = read_membership(ctx, o, &MEMBERSHIP);
    let groups_from = match o.opt("groups_from") {
        Some((p, v)) => ctx.word(&p, v, &[("groups", ScimGroupsFrom::Groups), ("users", ScimGroupsFrom::Users)]),
        None => Some(ScimGroupsFrom::Groups),
    };
    let paging = match o.opt("paging") {
        Some((p, v)) => {
            ctx.word(&p, v, &[("auto", ScimPaging::Auto), ("index", ScimPaging::Index), ("cursor", ScimPaging::Cursor)])
        }
        None => Some(ScimPaging::Auto),
    };
    let page_size = ctx.opt_whole(o, "page_size", 100, 1, 1000);
    let http = read_http_opt(ctx, o);
    Some(ScimSource {
        base_url: base_url?,
        auth: auth?,
        groups: groups?,
        groups_from: groups_from?,
        paging: paging?,
        page_size: page_size?,
        http: http?,
    })
}

pub(super) fn read_scim_inbound(ctx: &mut Ctx, o: &mut Obj) -> Option<ScimInboundSource> {
    let token = o.req(ctx, "bearer_token", "the token the IdP sends").and_then(|(p, v)| ctx.secret(&p, v));
    let token = token.and_then(|t| {
        // A guessable token would open the directory to anyone who can reach the endpoint.
        if t.expose().chars().count() < 20 {
            ctx.err(&o.at("bearer_token"), "too short; use at least 20 random characters (e.g. openssl rand -hex 24)");
            None
        } else {
            Some(t)
        }
    });
    let window = ctx.opt_whole(o, "deactivation_window_seconds", 60, 0, 3600);
    let groups = read_membership(ctx, o, &MEMBERSHIP);
    Some(ScimInboundSource { bearer_token: token?, deactivation_window_seconds: window?, groups: groups? })
}
