//! Connectors read users from a source. They know their source's format, paging and limits;
//! they never decide anything about the directory.

mod coalesce;
mod csv_file;
mod entra;
mod entra_batch;
mod entra_delta;
#[doc(hidden)]
pub mod fuzzing;
mod google;
pub mod http;
mod http_workers;
mod id_table;
mod jwt;
mod keycloak;
pub mod ldap;
mod okta;
mod onelogin;
mod resolver;
pub mod rest;
mod rows;
mod scim;
pub mod scim_inbound;
mod xlsx_file;

use std::path::Path;

use crate::config::{ConnectorConfig, ConnectorKind, SourceSettings};
use crate::model::{SourceGroup, SourceUser};

/// Everything one fetch produced. `complete` is the only proof of absence the engine accepts:
/// it is false whenever some record could not be tied to a user id (DESIGN §6.1).
#[derive(Debug, Default)]
pub struct Listing {
    pub users: Vec<SourceUser>,
    pub groups: Vec<SourceGroup>,
    pub complete: bool,
    pub row_errors: Vec<RowError>,
    /// What the run's record should say about the read (an API budget used, ...).
    pub notes: Vec<String>,
    /// Ids of users handed over while streaming (`fetch_each`) that a later record showed cannot
    /// be trusted (a second row with the same id): whatever was made of them is dropped, and
    /// `row_errors` says why.
    pub retracted: Vec<String>,
}

impl Listing {
    /// Records what stopped the listing from proving anyone absent (a page that failed, a record
    /// without a usable id): the listing is no longer complete, and the error says why.
    pub fn incomplete(&mut self, error: RowError) {
        self.complete = false;
        self.row_errors.push(error);
    }
}

/// One round of an incremental read.
#[derive(Debug, Default)]
pub struct DeltaListing {
    /// Users added or changed since the token (all users when `full`).
    pub listing: Listing,
    /// Ids the source reports as removed.
    pub removed: Vec<String>,
    /// The token for the next round; the engine stores it only after a successful apply.
    pub next_token: String,
    /// The round started without a token and listed everyone: absence proves removal.
    pub full: bool,
    /// Whether group memberships were read in this round.
    pub groups_read: bool,
}

/// A record the connector could not turn into a user. With an id, it is that user's failure;
/// without one, nobody can be proven absent in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub idp_id: Option<String>,
    pub location: String,
    pub message: String,
}

/// The source could not be read at all: the run fails before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Unreadable(String),
    /// The stored delta token is no longer accepted; a full round is needed.
    #[error("{0}")]
    DeltaExpired(String),
    #[error("connector type '{0}' reads only full listings")]
    NoIncremental(&'static str),
    #[error("connector type '{0}' does not match its source settings")]
    Mismatch(&'static str),
}

/// One step of a connection test, in plain words for an administrator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckStep {
    pub step: String,
    pub ok: bool,
    pub detail: String,
}

impl CheckStep {
    pub fn new(step: &str, result: Result<String, String>) -> Self {
        let (ok, detail) = match result {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        CheckStep { step: step.into(), ok, detail }
    }
}

pub trait Connector: Send {
    /// Reads the whole source.
    fn fetch(&mut self) -> Result<Listing, SourceError>;

    /// `fetch`, handing each user to `each` as soon as it is read, so that a large listing is
    /// never held in memory in full; the returned listing carries no users. The default reads
    /// everything first.
    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        let mut listing = self.fetch()?;
        std::mem::take(&mut listing.users).into_iter().for_each(each);
        Ok(listing)
    }

    /// An incremental round from `token` (`None`: the first round, a full listing that yields
    /// a token). Connectors without incremental reads answer `NoIncremental`.
    fn delta(&mut self, _token: Option<&str>) -> Result<DeltaListing, SourceError> {
        Err(SourceError::NoIncremental("this source"))
    }

    /// Whether `delta_first_each` hands every user over as it reads them: then a first
    /// incremental round is planned while it is read, as a full run is.
    fn streams_first_round(&self) -> bool {
        false
    }

    /// The first incremental round (`delta(None)`). A source that `streams_first_round` hands
    /// each user, with groups, to `each` as soon as it is read and returns a listing without
    /// users; the default returns them in the listing.
    fn delta_first_each(&mut self, _each: &mut dyn FnMut(SourceUser)) -> Result<DeltaListing, SourceError> {
        self.delta(None)
    }

    /// One user by source id, with groups, for single-user runs (the login hook): `Ok(None)`
    /// when the source cannot read one user alone, and the engine reads everything instead. A
    /// listing without users means the source does not know the id.
    fn fetch_one(&mut self, _id: &str) -> Result<Option<Listing>, SourceError> {
        Ok(None)
    }

    /// Several users by source id, with groups: the users an earlier incremental round could
    /// not apply, read again in the next one. `Ok(None)` when the source cannot read users by
    /// id; ids the source no longer knows are simply absent. The default asks `fetch_one` for
    /// each.
    fn fetch_ids(&mut self, ids: &[String]) -> Result<Option<Listing>, SourceError> {
        let mut all = Listing { complete: true, ..Listing::default() };
        for id in ids {
            match self.fetch_one(id)? {
                Some(one) => {
                    all.users.extend(one.users);
                    all.row_errors.extend(one.row_errors);
                    all.notes.extend(one.notes);
                }
                None => return Ok(None),
            }
        }
        Ok(Some(all))
    }

    /// The photo of a user, by source id; `None` when there is none. Called only for users whose
    /// photo etag changed.
    fn photo(&mut self, _id: &str) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(None)
    }

    /// The photos of several users, in order. Sources that can download in parallel do; the
    /// default asks one at a time.
    fn photos(&mut self, ids: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        ids.iter().map(|id| self.photo(id)).collect()
    }

    /// Tests the connection: authenticates and reads a little, stopping at the first failure.
    /// The default reads everything (files are cheap to read).
    fn check(&mut self) -> Vec<CheckStep> {
        vec![CheckStep::new(
            "read the source",
            self.fetch().map(|l| format!("{} users read", l.users.len())).map_err(|e| e.to_string()),
        )]
    }
}

/// HTTP settings with the CA file resolved against the configuration's directory.
fn resolve(settings: &crate::config::HttpSettings, base_dir: &Path) -> crate::config::HttpSettings {
    let mut s = settings.clone();
    s.ca_file = s.ca_file.map(|f| base_dir.join(f));
    s
}

/// Opens the connector a configuration describes. Relative paths resolve against `base_dir`.
pub fn open(config: &ConnectorConfig, base_dir: &Path) -> Result<Box<dyn Connector>, SourceError> {
    match (&config.source, config.kind) {
        (SourceSettings::File(file), ConnectorKind::Csv) => {
            Ok(Box::new(csv_file::CsvConnector::new(file.clone(), base_dir.join(&file.path))))
        }
        (SourceSettings::File(file), ConnectorKind::Xlsx) => {
            Ok(Box::new(xlsx_file::XlsxConnector::new(file.clone(), base_dir.join(&file.path))))
        }
        (SourceSettings::Entra(entra), ConnectorKind::Entra) => {
            let http = http::Http::new(http::Provider::Entra, &resolve(&entra.http, base_dir))
                .map_err(|e| SourceError::Unreadable(format!("entra: {e}")))?;
            let attributes = crate::mapping::source_attributes(config);
            let rules = config.groups.clone();
            Ok(Box::new(entra::EntraConnector::new(entra.clone(), http, &attributes, config.photos, rules)))
        }
        (SourceSettings::Okta(okta), ConnectorKind::Okta) => {
            let http = http::Http::new(http::Provider::Okta, &resolve(&okta.http, base_dir))
                .map_err(|e| SourceError::Unreadable(format!("okta: {e}")))?;
            let key_file = match &okta.auth {
                crate::config::OktaAuth::PrivateKeyJwt { private_key_file, .. } => {
                    Some(base_dir.join(private_key_file))
                }
                crate::config::OktaAuth::ApiToken { .. } => None,
            };
            Ok(Box::new(okta::OktaConnector::new(okta.clone(), http, key_file, config.groups.clone())))
        }
        (SourceSettings::Google(google), ConnectorKind::Google) => {
            let http = http::Http::new(http::Provider::Google, &resolve(&google.http, base_dir))
                .map_err(|e| SourceError::Unreadable(format!("google: {e}")))?;
            let credentials = base_dir.join(&google.credentials_file);
            let paths = crate::mapping::source_attributes(config);
            let rules = config.groups.clone();
            Ok(Box::new(google::GoogleConnector::new(google.clone(), credentials, http, rules, &paths)))
        }
        (SourceSettings::Scim(scim), ConnectorKind::Scim) => {
            let http = http::Http::new(http::Provider::Scim, &resolve(&scim.http, base_dir))
                .map_err(|e| SourceError::Unreadable(format!("scim: {e}")))?;
            Ok(Box::new(scim::ScimConnector::new(scim.clone(), http, config.groups.clone())))
        }
        (SourceSettings::Keycloak(kc), ConnectorKind::Keycloak) => {
            let http = http::Http::new(http::Provider::Keycloak, &resolve(&kc.http, base_dir))
                .map_err(|e| SourceError::Unreadable(format!("keycloak: {e}")))?;
            Ok(Box::new(keycloak::KeycloakConnector::new(kc.clone(), http, config.groups.clone())))
        }
        (SourceSettings::OneLogin(ol), ConnectorKind::OneLogin) => {
            let http = http::Http::new(http::Provider::OneLogin, &resolve(&ol.http, base_dir))
                .map_err(|e| SourceError::Unreadable(format!("onelogin: {e}")))?;
            Ok(Box::new(onelogin::OneLoginConnector::new(ol.clone(), http, config.groups.clone())))
        }
        (SourceSettings::Rest(rest), ConnectorKind::Rest) => {
            let http = http::Http::new(http::Provider::Rest, &resolve(&rest.http, base_dir))
                .map_err(|e| SourceError::Unreadable(format!("rest: {e}")))?;
            Ok(Box::new(rest::RestConnector::new((**rest).clone(), http, config.groups.clone())))
        }
        (SourceSettings::Ldap(l), ConnectorKind::Ldap) => {
            let ca = l.ca_file.as_ref().map(|f| base_dir.join(f));
            Ok(Box::new(ldap::LdapConnector::new((**l).clone(), ca, config.groups.clone())))
        }
        // The parser builds the settings from the type, so this cannot happen.
        (_, kind) => Err(SourceError::Mismatch(kind.name())),
    }
}
