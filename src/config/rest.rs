//! The declarative `rest` connector's settings: how to authenticate, which request lists the
//! users, how its pages follow one another, where the records sit in an answer and where each
//! field is in a record (JSON Pointers, RFC 6901, where `*` stands for every item of a list).

use serde::Serialize;
use serde_json::Value;

use super::parse::{read_http_opt, read_url};
use super::reader::{Ctx, Obj};
use super::{HttpSettings, Secret};

#[derive(Debug, Clone, Serialize)]
pub struct RestSource {
    pub base_url: String,
    pub auth: RestAuth,
    pub users: RestList,
    pub paging: RestPaging,
    pub rate_limit: RestRateLimit,
    pub http: HttpSettings,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RestAuth {
    None,
    Bearer {
        token: Secret,
    },
    Basic {
        username: String,
        password: Secret,
    },
    /// A header of the API's own (`X-API-Key`, Okta's `Authorization: SSWS ...`): `prefix` goes
    /// before the secret.
    Header {
        name: String,
        prefix: String,
        value: Secret,
    },
    /// OAuth 2.0 client credentials, the client authenticated in the form body or by HTTP Basic.
    Oauth {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
        client_auth: OauthClientAuth,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OauthClientAuth {
    Body,
    Basic,
}

/// The request that lists users, and where things are in its answers.
#[derive(Debug, Clone, Serialize)]
pub struct RestList {
    /// Appended to `base_url` (`/api/v1/users?limit=200`).
    pub path: String,
    /// The list of records in an answer (`""`: the answer is the list).
    pub records: String,
    /// Each record's immutable id.
    pub id: String,
    /// Where the record says active or not; absent: every record is active.
    pub active: Option<String>,
    /// Values of `active` that mean inactive (a boolean `false` always does).
    pub inactive_values: Vec<String>,
    pub manager: Option<String>,
    /// Group names (`/groups/*/name`).
    pub groups: Option<String>,
    /// Attributes for mapping rules, by name; without any, the record itself is the attributes.
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum RestPaging {
    /// One request.
    None,
    /// RFC 8288 `Link: <...>; rel="next"` headers.
    LinkHeader,
    /// The next page's URL in the body.
    NextUrl { pointer: String },
    /// An opaque cursor in the body, sent back as a query parameter.
    Cursor { pointer: String, param: String },
    /// `offset`/`limit` (or `first`/`max`): ends at a page shorter than `limit`.
    Offset { offset_param: String, limit_param: String, limit: u32, start: u32 },
    /// Page numbers: ends at a page shorter than `size`.
    Page { page_param: String, size_param: String, size: u32, first: u32 },
}

/// Rate-limit headers to pace by: when `remaining` reaches 0, wait for `reset`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RestRateLimit {
    pub remaining_header: Option<String>,
    pub reset_header: Option<String>,
    /// `seconds` until the reset, or the reset's `epoch` second.
    pub reset_is_epoch: bool,
}

fn pointer(ctx: &mut Ctx, path: &str, v: &Value) -> Option<String> {
    let p = ctx.string(path, v)?;
    if !p.is_empty() && !p.starts_with('/') {
        ctx.err(
            path,
            format!("'{p}' is not a JSON Pointer (RFC 6901): it starts with '/', or is \"\" for the whole value"),
        );
        return None;
    }
    Some(p)
}

fn opt_pointer(ctx: &mut Ctx, o: &mut Obj, key: &'static str) -> Option<Option<String>> {
    match o.opt(key) {
        Some((p, v)) => pointer(ctx, &p, v).map(Some),
        None => Some(None),
    }
}

fn text(ctx: &mut Ctx, o: &mut Obj, key: &'static str, default: &str) -> Option<String> {
    match o.opt(key) {
        Some((p, v)) => ctx.nonempty(&p, v),
        None => Some(default.to_string()),
    }
}

fn read_auth(ctx: &mut Ctx, path: &str, v: &Value) -> Option<RestAuth> {
    let mut o = Obj::new(ctx, path, v)?;
    let kind = o
        .req(ctx, "type", "none, bearer, basic, header or oauth")
        .and_then(|(p, v)| ctx.word(&p, v, &[("none", 0), ("bearer", 1), ("basic", 2), ("header", 3), ("oauth", 4)]));
    let secret = |ctx: &mut Ctx, o: &mut Obj, key: &'static str| {
        o.req(ctx, key, "a secret").and_then(|(p, v)| ctx.secret(&p, v))
    };
    let out = match kind? {
        0 => Some(RestAuth::None),
        1 => secret(ctx, &mut o, "token").map(|token| RestAuth::Bearer { token }),
        2 => {
            let username = o.req(ctx, "username", "the user").and_then(|(p, v)| ctx.nonempty(&p, v));
            let password = secret(ctx, &mut o, "password");
            Some(RestAuth::Basic { username: username?, password: password? })
        }
        3 => {
            let name = o.req(ctx, "name", "the header's name").and_then(|(p, v)| ctx.nonempty(&p, v));
            let prefix = match o.opt("prefix") {
                Some((p, v)) => ctx.string(&p, v),
                None => Some(String::new()),
            };
            let value = secret(ctx, &mut o, "value");
            Some(RestAuth::Header { name: name?, prefix: prefix?, value: value? })
        }
        _ => {
            let token_url = read_url(ctx, &mut o, "token_url", None);
            let client_id = o.req(ctx, "client_id", "the client id").and_then(|(p, v)| ctx.nonempty(&p, v));
            let client_secret = secret(ctx, &mut o, "client_secret");
            let scope = o.opt("scope").and_then(|(p, v)| ctx.nonempty(&p, v));
            let client_auth = match o.opt("client_auth") {
                Some((p, v)) => ctx.word(&p, v, &[("body", OauthClientAuth::Body), ("basic", OauthClientAuth::Basic)]),
                None => Some(OauthClientAuth::Body),
            };
            Some(RestAuth::Oauth {
                token_url: token_url?,
                client_id: client_id?,
                client_secret: client_secret?,
                scope,
                client_auth: client_auth?,
            })
        }
    };
    o.finish(ctx);
    out
}

fn read_list(ctx: &mut Ctx, path: &str, v: &Value) -> Option<RestList> {
    let mut o = Obj::new(ctx, path, v)?;
    let list_path = o.req(ctx, "path", "the request path, e.g. /api/v1/users").and_then(|(p, v)| {
        let s = ctx.string(&p, v)?;
        if !s.starts_with('/') {
            ctx.err(&p, "starts with '/' (it is appended to base_url)");
            return None;
        }
        Some(s)
    });
    let records = match o.opt("records") {
        Some((p, v)) => pointer(ctx, &p, v),
        None => Some(String::new()),
    };
    let id = o.req(ctx, "id", "the JSON Pointer of each record's immutable id").and_then(|(p, v)| pointer(ctx, &p, v));
    let active = opt_pointer(ctx, &mut o, "active");
    let inactive_values = match o.opt("inactive_values") {
        Some((p, v)) => ctx.strings(&p, v),
        None => Some(vec!["false".into()]),
    };
    let manager = opt_pointer(ctx, &mut o, "manager");
    let groups = opt_pointer(ctx, &mut o, "groups");
    let fields = match o.opt("fields") {
        Some((p, Value::Object(map))) => {
            let mut out = Vec::new();
            let mut ok = true;
            for (name, v) in map {
                match pointer(ctx, &format!("{p}.{name}"), v) {
                    Some(ptr) => out.push((name.clone(), ptr)),
                    None => ok = false,
                }
            }
            ok.then_some(out)
        }
        Some((p, _)) => {
            ctx.err(&p, "expected an object of attribute names to JSON Pointers");
            None
        }
        None => Some(Vec::new()),
    };
    o.finish(ctx);
    Some(RestList {
        path: list_path?,
        records: records?,
        id: id?,
        active: active?,
        inactive_values: inactive_values?,
        manager: manager?,
        groups: groups?,
        fields: fields?,
    })
}

fn read_paging(ctx: &mut Ctx, path: &str, v: &Value) -> Option<RestPaging> {
    let mut o = Obj::new(ctx, path, v)?;
    let style = o.req(ctx, "style", "none, link_header, next_url, cursor, offset or page").and_then(|(p, v)| {
        ctx.word(&p, v, &[("none", 0), ("link_header", 1), ("next_url", 2), ("cursor", 3), ("offset", 4), ("page", 5)])
    });
    let out = match style? {
        0 => Some(RestPaging::None),
        1 => Some(RestPaging::LinkHeader),
        2 => o
            .req(ctx, "pointer", "where the next page's URL is")
            .and_then(|(p, v)| pointer(ctx, &p, v))
            .map(|pointer| RestPaging::NextUrl { pointer }),
        3 => {
            let ptr = o.req(ctx, "pointer", "where the next cursor is").and_then(|(p, v)| pointer(ctx, &p, v));
            let param = text(ctx, &mut o, "param", "cursor");
            Some(RestPaging::Cursor { pointer: ptr?, param: param? })
        }
        4 => {
            let offset_param = text(ctx, &mut o, "offset_param", "offset");
            let limit_param = text(ctx, &mut o, "limit_param", "limit");
            let limit = ctx.opt_whole(&mut o, "limit", 100, 1, 10_000);
            let start = ctx.opt_whole(&mut o, "start", 0, 0, 1);
            Some(RestPaging::Offset {
                offset_param: offset_param?,
                limit_param: limit_param?,
                limit: limit?,
                start: start?,
            })
        }
        _ => {
            let page_param = text(ctx, &mut o, "page_param", "page");
            let size_param = text(ctx, &mut o, "size_param", "per_page");
            let size = ctx.opt_whole(&mut o, "size", 100, 1, 10_000);
            let first = ctx.opt_whole(&mut o, "first", 1, 0, 1);
            Some(RestPaging::Page { page_param: page_param?, size_param: size_param?, size: size?, first: first? })
        }
    };
    o.finish(ctx);
    out
}

fn read_rate_limit(ctx: &mut Ctx, path: &str, v: &Value) -> Option<RestRateLimit> {
    let mut o = Obj::new(ctx, path, v)?;
    let remaining_header = o.opt("remaining_header").and_then(|(p, v)| ctx.nonempty(&p, v));
    let reset_header = o.opt("reset_header").and_then(|(p, v)| ctx.nonempty(&p, v));
    let reset_is_epoch = match o.opt("reset") {
        Some((p, v)) => ctx.word(&p, v, &[("seconds", false), ("epoch", true)]),
        None => Some(false),
    };
    o.finish(ctx);
    Some(RestRateLimit { remaining_header, reset_header, reset_is_epoch: reset_is_epoch? })
}

pub(super) fn read_rest(ctx: &mut Ctx, o: &mut Obj) -> Option<RestSource> {
    let base_url = read_url(ctx, o, "base_url", None);
    let auth = o.req(ctx, "auth", "how to authenticate").and_then(|(p, v)| read_auth(ctx, &p, v));
    let users = o.req(ctx, "users", "the request that lists users").and_then(|(p, v)| read_list(ctx, &p, v));
    let paging = match o.opt("paging") {
        Some((p, v)) => read_paging(ctx, &p, v),
        None => Some(RestPaging::None),
    };
    let rate_limit = match o.opt("rate_limit") {
        Some((p, v)) => read_rate_limit(ctx, &p, v),
        None => Some(RestRateLimit::default()),
    };
    let http = read_http_opt(ctx, o);
    Some(RestSource {
        base_url: base_url?,
        auth: auth?,
        users: users?,
        paging: paging?,
        rate_limit: rate_limit?,
        http: http?,
    })
}
