//! Configuration: what each connector reads, how it maps, and how cautious it is.
//! Parsed by a validating walker (`parse.rs`) so that every error comes with its JSON path.

mod idle;
mod keycloak;
mod ldap;
mod limits;
mod login;
mod manager;
mod parse;
pub mod presets;
pub use rest::{OauthClientAuth, RestAuth, RestList, RestPaging, RestRateLimit, RestSource};
mod reader;
mod rest;
mod scim;
pub mod secrets;
pub mod strict_json;

use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::{Serialize, Serializer};

use crate::model::Target;

pub use idle::IdlePolicy;
pub use limits::FileLimits;
pub use login::{LoginRoute, LoginRouting};
pub use manager::{ManagerField, ManagerRule};
pub use parse::parse_value;
pub use secrets::{export_value, merge_secrets, Secret};

/// One problem in a configuration, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every error found in one configuration, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    pub source_name: String,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} configuration error(s)", self.source_name, self.errors.len())?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl ConfigErrors {
    pub fn one(source_name: &str, path: &str, message: impl Into<String>) -> Self {
        ConfigErrors {
            source_name: source_name.to_string(),
            errors: vec![ConfigError { path: path.to_string(), message: message.into() }],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub connectors: Vec<ConnectorConfig>,
    pub operations: Operations,
    #[serde(skip_serializing_if = "LoginRouting::is_empty")]
    pub login: LoginRouting,
    /// Relative source paths resolve against the directory the configuration came from.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let name = path.display().to_string();
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        check_size(&name, size)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors::one(&name, "", format!("cannot read the file: {e}")))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = std::fs::canonicalize(&base).unwrap_or(base);
        Config::from_json(&name, &text, base)
    }

    pub fn from_json(name: &str, text: &str, base_dir: PathBuf) -> Result<Config, ConfigErrors> {
        let value = parse_document(name, text)?;
        parse_value(&value, base_dir).map_err(|errors| ConfigErrors { source_name: name.to_string(), errors })
    }

    pub fn connector(&self, id: &str) -> Option<&ConnectorConfig> {
        self.connectors.iter().find(|c| c.id == id)
    }
}

/// The largest configuration document read, in bytes, unless `USERSYNC_MAX_CONFIG_BYTES` says
/// otherwise. Real configurations are a few kilobytes; each run records its connector's part.
pub(crate) const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn max_config_bytes() -> u64 {
    std::env::var("USERSYNC_MAX_CONFIG_BYTES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(MAX_CONFIG_BYTES)
}

fn check_size(name: &str, size: u64) -> Result<(), ConfigErrors> {
    let max = max_config_bytes();
    if size > max {
        return Err(ConfigErrors::one(
            name,
            "",
            format!(
                "the configuration is {size} bytes, more than the limit of {max} (raise it with the environment variable USERSYNC_MAX_CONFIG_BYTES)"
            ),
        ));
    }
    Ok(())
}

/// A configuration document as JSON: size-checked, duplicate keys refused with their path.
pub fn parse_document(name: &str, text: &str) -> Result<serde_json::Value, ConfigErrors> {
    check_size(name, text.len() as u64)?;
    strict_json::parse(text).map_err(|e| {
        ConfigErrors::one(name, "", format!("not valid JSON at line {}, column {}: {}", e.line, e.column, e.message))
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ConnectorConfig {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ConnectorKind,
    pub source: SourceSettings,
    pub mapping: Vec<MappingRule>,
    pub groups: GroupRules,
    pub lifecycle: Lifecycle,
    pub safety: Safety,
    #[serde(skip_serializing_if = "Schedule::is_empty")]
    pub schedule: Schedule,
    pub link_existing: LinkExisting,
    /// Create an unknown user at login when the source has them (just-in-time provisioning).
    pub provision_on_login: bool,
    /// Sync profile photos as avatars, downloading a photo only when its etag changed.
    pub photos: bool,
    /// When an incremental run reads everything instead, to catch what deltas miss.
    pub full_reconcile: FullReconcile,
    /// Higher answers first where connectors meet (a login nobody manages yet); 0 to 1000.
    pub priority: u32,
    /// The manager, resolved to their directory user and written to a target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<ManagerRule>,
}

impl ConnectorConfig {
    pub fn rule(&self, target: &Target) -> Option<&MappingRule> {
        self.mapping.iter().find(|r| &r.target == target)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorKind {
    Csv,
    Xlsx,
    Entra,
    Okta,
    Google,
    Scim,
    #[serde(rename = "scim-inbound")]
    ScimInbound,
    Keycloak,
    #[serde(rename = "onelogin")]
    OneLogin,
    Rest,
    Ldap,
}

impl ConnectorKind {
    pub const CHOICES: [(&'static str, ConnectorKind); 11] = [
        ("csv", ConnectorKind::Csv),
        ("xlsx", ConnectorKind::Xlsx),
        ("entra", ConnectorKind::Entra),
        ("okta", ConnectorKind::Okta),
        ("google", ConnectorKind::Google),
        ("scim", ConnectorKind::Scim),
        ("scim-inbound", ConnectorKind::ScimInbound),
        ("keycloak", ConnectorKind::Keycloak),
        ("onelogin", ConnectorKind::OneLogin),
        ("rest", ConnectorKind::Rest),
        ("ldap", ConnectorKind::Ldap),
    ];

    pub fn name(self) -> &'static str {
        Self::CHOICES.iter().find(|(_, k)| *k == self).map(|(n, _)| *n).unwrap_or("?")
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum SourceSettings {
    File(FileSource),
    Entra(EntraSource),
    Okta(OktaSource),
    Google(GoogleSource),
    Scim(ScimSource),
    ScimInbound(ScimInboundSource),
    Keycloak(KeycloakSource),
    OneLogin(OneLoginSource),
    // Boxed: the declarative source is several times the size of the others.
    Rest(Box<RestSource>),
    Ldap(Box<LdapSource>),
}

/// A CSV file or an Excel sheet: one row per user, header row = attribute names.
#[derive(Debug, Clone, Serialize)]
pub struct FileSource {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<char>,
    pub id_column: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_column: Option<String>,
    pub inactive_values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups_column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_column: Option<String>,
    pub list_columns: Vec<String>,
    pub list_separator: String,
    pub limits: FileLimits,
}

pub const DEFAULT_INACTIVE_VALUES: [&str; 6] = ["false", "0", "no", "inactive", "disabled", "suspended"];

#[derive(Debug, Clone, Serialize)]
pub struct EntraSource {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The token service; national clouds and emulators change it.
    pub authority_url: String,
    pub graph_url: String,
    pub groups: GroupMembership,
    pub http: HttpSettings,
}

pub const ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";
pub const ENTRA_GRAPH: &str = "https://graph.microsoft.com";

/// How group memberships are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMembership {
    /// Direct members only.
    Direct,
    /// Members of nested groups too, flattened.
    Transitive,
    /// Groups are not read.
    None,
}

/// When a connector's runs start by themselves: cron expressions (Quartz style, seconds first),
/// validated when the configuration is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schedule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental: Option<String>,
}

impl Schedule {
    pub fn is_empty(&self) -> bool {
        self.full.is_none() && self.incremental.is_none()
    }

    /// The parsed expressions (validated already, so parsing cannot fail here), read in `zone`.
    pub fn plan(&self, zone: chrono_tz::Tz) -> crate::schedule::Plan {
        let parse = |e: &Option<String>| e.as_deref().and_then(|e| crate::schedule::Cron::parse(e).ok());
        crate::schedule::Plan { full: parse(&self.full), incremental: parse(&self.incremental), zone }
    }
}

/// How runs behave in a cluster and how long their history stays (the configuration's
/// `operations`; the same for every connector).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operations {
    /// A running run renews its lease this often divided by three; a run whose lease is older is
    /// taken for dead (its process stopped): it is marked FAILED (interrupted) and no longer
    /// blocks new runs.
    pub lease_seconds: u32,
    pub history: Retention,
    /// The zone the schedules' cron expressions are read in (an IANA name; default UTC): "0 0 2
    /// * * ?" is 02:00 there, daylight saving time included.
    pub time_zone: chrono_tz::Tz,
}

impl Default for Operations {
    fn default() -> Self {
        Operations { lease_seconds: 120, history: Retention::default(), time_zone: chrono_tz::UTC }
    }
}

/// Run history kept per connector: the newest `keep_runs` runs, none older than `keep_days`.
/// Running runs, held runs awaiting approval and the last full run are always kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retention {
    pub keep_runs: u32,
    pub keep_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { keep_runs: 1000, keep_days: 90 }
    }
}

/// An incremental run becomes a full one after this many incremental runs, or when the last
/// full run is older than this, whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FullReconcile {
    pub every_runs: u32,
    pub max_age_hours: u32,
}

impl Default for FullReconcile {
    fn default() -> Self {
        FullReconcile { every_runs: 96, max_age_hours: 24 }
    }
}

/// Settings every HTTP connector shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpSettings {
    pub timeout_seconds: u32,
    pub max_attempts: u32,
    /// The first backoff step; later ones double, with jitter.
    pub retry_base_ms: u32,
    /// Requests a connector may have in flight at once where order does not matter (photo
    /// metadata batches, photo downloads); page chains are always sequential.
    pub concurrency: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// PEM file with extra CA certificates to trust besides the public roots (a corporate TLS
    /// proxy). Relative to the configuration file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The largest response body read, in MiB: a page, a token answer or a photo. A bigger
    /// answer fails the request before it is held in memory (DESIGN §6.8).
    pub max_body_mb: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout_seconds: 30,
            max_attempts: 6,
            retry_base_ms: 500,
            concurrency: 4,
            proxy_url: None,
            ca_file: None,
            max_body_mb: 64,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OktaSource {
    pub org_url: String,
    #[serde(flatten)]
    pub auth: OktaAuth,
    pub groups: GroupMembership,
    /// Okta statuses that make a user inactive; every other status is active.
    pub inactive_statuses: Vec<String>,
    pub http: HttpSettings,
}

/// Google Workspace through the Admin SDK Directory API, with a service account and domain-wide
/// delegation.
#[derive(Debug, Clone, Serialize)]
pub struct GoogleSource {
    /// The service account's JSON key file (it holds the private key; keep it out of exports and
    /// readable only by the service). Relative to the configuration file.
    pub credentials_file: PathBuf,
    /// The administrator the service account acts as.
    pub subject: String,
    pub customer: String,
    /// Custom schemas to read (`projection=custom&customFieldMask=...`); none: `projection=full`.
    pub custom_schemas: Vec<String>,
    pub api_url: String,
    /// Overrides the key file's `token_uri` (emulators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    pub groups: GroupMembership,
    pub http: HttpSettings,
}

pub const GOOGLE_API: &str = "https://admin.googleapis.com";

/// How the Okta connector authenticates.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum OktaAuth {
    /// An SSWS API token of an administrator.
    ApiToken { api_token: Secret },
    /// An OAuth service app with `private_key_jwt` client authentication.
    PrivateKeyJwt { client_id: String, private_key_file: PathBuf },
}

/// Any SCIM 2.0 service provider (RFC 7643/7644): `/Users` and `/Groups`.
#[derive(Debug, Clone, Serialize)]
pub struct ScimSource {
    /// The service's base URL, the one `/Users` is under (e.g. `https://idp.example/scim/v2`).
    pub base_url: String,
    #[serde(flatten)]
    pub auth: ScimAuth,
    pub groups: GroupMembership,
    /// Where memberships are read: the groups' `members` or the users' `groups` attribute.
    pub groups_from: ScimGroupsFrom,
    pub paging: ScimPaging,
    /// The `count` asked for per page; a server may answer fewer.
    pub page_size: u32,
    pub http: HttpSettings,
}

/// An LDAP directory: OpenLDAP or Active Directory.
#[derive(Debug, Clone, Serialize)]
pub struct LdapSource {
    /// `ldaps://host:636` or `ldap://host:389` (then `starttls`, unless on loopback).
    pub url: String,
    pub starttls: bool,
    /// PEM CA certificates to trust besides the public roots (a company CA). Relative to the
    /// configuration file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    pub bind_dn: String,
    pub bind_password: Secret,
    pub base_dn: String,
    pub user_filter: String,
    pub flavor: LdapFlavor,
    pub groups: GroupMembership,
    pub group_base_dn: String,
    pub group_filter: String,
    pub page_size: u32,
    pub timeout_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LdapFlavor {
    /// `entryUUID` ids, `groupOfNames`/`posixGroup` groups, `modifyTimestamp`.
    Openldap,
    /// `objectGUID` ids, `userAccountControl`, `member` with range retrieval, `uSNChanged`.
    ActiveDirectory,
}

/// OneLogin's API v2 with an API credential (client id and secret).
#[derive(Debug, Clone, Serialize)]
pub struct OneLoginSource {
    /// `https://<subdomain>.onelogin.com` (or the regional `https://api.us.onelogin.com`).
    pub base_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub groups_from: OneLoginGroups,
    /// The share of the account's hourly API budget a sync may take, 1 to 100.
    pub api_budget_percent: u32,
    pub http: HttpSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OneLoginGroups {
    /// The user's roles.
    Roles,
    /// The user's group (a OneLogin user is in at most one).
    Group,
    Both,
    None,
}

/// Keycloak's Admin REST API, as a confidential client's service account.
#[derive(Debug, Clone, Serialize)]
pub struct KeycloakSource {
    /// The server's URL (`https://sso.example.com`; with `/auth` for servers before Keycloak 17).
    pub base_url: String,
    pub realm: String,
    /// The realm the client lives in, when not `realm` (a client in `master`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_realm: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    pub groups: GroupMembership,
    pub group_names: KeycloakGroupNames,
    /// Realm roles as groups too.
    pub roles: bool,
    /// The user attribute holding the manager's id or username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_attribute: Option<String>,
    pub page_size: u32,
    pub http: HttpSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeycloakGroupNames {
    /// The group's own name (`platform`).
    Name,
    /// Its path in the tree (`/engineering/platform`): names unique across the realm.
    Path,
}

/// The SCIM endpoint an IdP pushes to (`/scim/v2`): the IdP is told the URL and this token.
#[derive(Debug, Clone, Serialize)]
pub struct ScimInboundSource {
    /// The bearer token the IdP sends; it also says which connector a request is for.
    pub bearer_token: Secret,
    /// Deactivations and deletions wait this long and are applied together, through the guard:
    /// a storm of them (an IdP misconfigured, a group unassigned) is held for approval.
    pub deactivation_window_seconds: u32,
    pub groups: GroupMembership,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScimGroupsFrom {
    /// `/Groups` with their `members` (users and, nested, groups).
    Groups,
    /// Each user's read-only `groups` attribute (direct and indirect memberships).
    Users,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScimPaging {
    /// Cursor paging (RFC 9865) when `ServiceProviderConfig` announces it, else index paging.
    Auto,
    /// `startIndex` and `count` (RFC 7644 §3.4.2.4).
    Index,
    /// `cursor` and `nextCursor` (RFC 9865).
    Cursor,
}

/// How the SCIM connector authenticates (RFC 7644 §2: the service's own choice of HTTP auth).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ScimAuth {
    /// A static bearer token (RFC 6750), what most SCIM services issue.
    Bearer { bearer_token: Secret },
    /// HTTP Basic.
    Basic { username: String, password: Secret },
    /// OAuth 2.0 client credentials (RFC 6749 §4.4), the client authenticating with HTTP Basic.
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: Secret,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
}

pub const OKTA_INACTIVE_STATUSES: [&str; 2] = ["SUSPENDED", "DEPROVISIONED"];
pub const OKTA_STATUSES: [&str; 8] =
    ["STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "PASSWORD_EXPIRED", "LOCKED_OUT", "SUSPENDED", "DEPROVISIONED"];

#[derive(Debug, Clone, Serialize)]
pub struct MappingRule {
    pub target: Target,
    pub source: ValueSource,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
    pub no_match: NoMatch,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    Attribute(String),
    Literal(String),
    Template(Template),
    FirstOf(Vec<ValueSource>),
}

/// `"{givenName} {surname}"`: literal text with attribute placeholders; `{{` and `}}` escape braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub text: String,
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    Text(String),
    Attribute(String),
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Transform {
    Lowercase,
    Uppercase,
    Trim,
    RegexReplace { pattern: Pattern, replacement: String },
    Replace { search: String, with: String },
    StripDomain,
    EntraGuestUpn,
    Default { value: String },
}

/// A compiled regular expression that serialises back to its source text.
#[derive(Clone)]
pub struct Pattern(pub Regex);

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.0.as_str())
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// What a rule does when its source is empty or a regex did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoMatch {
    /// Use the value as read, before transforms.
    Keep,
    /// Leave the directory's value as it is.
    Ignore,
    Clear,
    /// Do not sync this user at all.
    Filter,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupRules {
    /// When set, only members of at least one of these (mapped) groups are synced.
    pub required: Vec<String>,
    /// Assigned to every synced user.
    pub always: Vec<String>,
    /// Groups the sync may add but never removes (administered by hand in the application).
    pub local: Vec<String>,
    /// When set, a source group is kept only if it matches one of these patterns.
    pub include: Vec<Pattern>,
    pub transforms: Vec<Transform>,
    pub create_missing: bool,
    /// Remove memberships of sync-managed groups that the source no longer lists.
    pub remove_unlisted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Lifecycle {
    pub missing: LifecycleAction,
    pub inactive: LifecycleAction,
    pub filtered: LifecycleAction,
    pub strip_groups: bool,
    pub grace_days: u32,
    pub delete_after_days: u32,
    pub reactivate: Reactivate,
    pub protected_groups: Vec<String>,
    /// Users who no longer log in (`lifecycle.idle`); none: nobody is disabled for that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdlePolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleAction {
    Disable,
    Delete,
    Anonymise,
    Keep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reactivate {
    IfDisabledBySync,
    Always,
    Never,
}

#[derive(Debug, Clone, Serialize)]
pub struct Safety {
    pub max_destructive_percent: f64,
    pub max_destructive_count: u32,
}

/// How a connector links an existing directory user it has no anchor for, instead of failing on
/// a taken username: the keys, tried in order (`"email"`, or `["email", "property:employee_id"]`).
/// Empty: it does not link (`"none"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkExisting(pub Vec<LinkKey>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKey {
    Username,
    Email,
    /// A field both sides have, such as `property:employee_id`.
    Value(Target),
}

impl LinkKey {
    pub fn name(&self) -> String {
        match self {
            LinkKey::Username => "username".into(),
            LinkKey::Email => "email".into(),
            LinkKey::Value(t) => t.to_string(),
        }
    }
}

impl LinkExisting {
    pub fn is_none(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether linking needs every directory user's values (not just the anchored ones).
    pub fn reads_values(&self) -> bool {
        self.0.iter().any(|k| !matches!(k, LinkKey::Username))
    }
}

impl Serialize for LinkExisting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [] => s.serialize_str("none"),
            [one] => s.serialize_str(&one.name()),
            many => s.collect_seq(many.iter().map(LinkKey::name)),
        }
    }
}
