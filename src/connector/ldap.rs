//! LDAP and Active Directory through the `ldap3` client: a simple bind over LDAPS or StartTLS,
//! users and groups read with the Paged Results control (RFC 2696), `entryUUID` (OpenLDAP,
//! RFC 4530) or `objectGUID` (AD, binary, shown as a GUID) as the immutable id, AD's
//! `userAccountControl` disabled bit, members from `member` (DNs, with AD's range retrieval for
//! large groups) or `memberUid` (posixGroup), nested groups flattened when transitive.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry};
use serde_json::{Map, Value};

use super::{CheckStep, Connector, Listing, RowError, SourceError};
use crate::config::{GroupMembership, GroupRules, LdapFlavor, LdapSource};
use crate::mapping::group_matters;
use crate::model::{AttrValue, Attributes, SourceUser};

/// AD's `userAccountControl` flag for a disabled account (ACCOUNTDISABLE).
const ACCOUNT_DISABLED: u64 = 0x2;

/// A group entry: its DN (lower case), name, `member` DNs, `memberUid`s, and where the rest of a
/// ranged `member` starts.
type LdapGroup = (String, String, Vec<String>, Vec<String>, Option<usize>);

pub(super) struct LdapConnector {
    settings: LdapSource,
    ca_file: Option<PathBuf>,
    rules: GroupRules,
}

fn err(context: &str, e: impl std::fmt::Display) -> SourceError {
    // ldap3's messages quote the server's diagnostic text, never the bind password.
    SourceError::Unreadable(format!("ldap: {context}: {e}"))
}

/// `objectGUID`'s 16 bytes as the GUID text AD tools show: the first three fields are stored
/// little-endian (MS-DTYP §2.3.4.2).
pub fn guid_text(b: &[u8]) -> Option<String> {
    if b.len() != 16 {
        return None;
    }
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    ))
}

/// An AD range attribute name (`member;range=0-1499`): the next range's start, or `None` when
/// this range is the last (`member;range=1500-*`).
pub fn next_range(attr: &str) -> Option<Option<usize>> {
    let range = attr.split(';').find_map(|p| p.strip_prefix("range="))?;
    let (_, end) = range.split_once('-')?;
    Some(if end == "*" { None } else { end.parse::<usize>().ok().map(|e| e + 1) })
}

/// One answer of a ranged read: the attribute's name with its range, and the values.
type RangedValues = (String, Vec<String>);

/// AD's range retrieval: asks `read` for the values from `start` on, as long as each answer's
/// range (`member;range=1500-2999`) says more follow, until one ends in `*`.
fn ranged_members(
    mut start: usize,
    out: &mut Vec<String>,
    read: &mut dyn FnMut(usize) -> Result<Option<RangedValues>, SourceError>,
) -> Result<(), SourceError> {
    for _ in 0..100_000 {
        let Some((name, values)) = read(start)? else { return Ok(()) };
        let got = values.len();
        out.extend(values);
        match next_range(&name) {
            // A range that gives nothing and says more follow would never end.
            Some(Some(next)) if next > start && got > 0 => start = next,
            Some(Some(_)) => return Err(SourceError::Unreadable(format!("ldap: the range {name} does not advance"))),
            _ => return Ok(()),
        }
    }
    Ok(())
}

impl LdapConnector {
    pub fn new(settings: LdapSource, ca_file: Option<PathBuf>, rules: GroupRules) -> Self {
        LdapConnector { settings, ca_file, rules }
    }

    fn tls(&self) -> Result<Arc<rustls::ClientConfig>, SourceError> {
        let mut roots = rustls::RootCertStore::empty();
        for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
            let _ = roots.add(der.clone());
        }
        if let Some(path) = &self.ca_file {
            use rustls::pki_types::pem::PemObject as _;
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| err(&format!("ca_file {}", path.display()), e))?;
            for c in certs {
                roots
                    .add(c.map_err(|e| err(&format!("ca_file {}", path.display()), e))?)
                    .map_err(|e| err("ca_file", e))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| err("TLS", e))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    fn connect(&self) -> Result<LdapConn, SourceError> {
        let settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_secs(self.settings.timeout_seconds.into()))
            .set_starttls(self.settings.starttls)
            .set_config(self.tls()?);
        let mut conn = LdapConn::with_settings(settings, &self.settings.url).map_err(|e| err("connect", e))?;
        conn.simple_bind(&self.settings.bind_dn, self.settings.bind_password.expose())
            .and_then(|r| r.success())
            .map_err(|e| err(&format!("bind as {}", self.settings.bind_dn), e))?;
        Ok(conn)
    }

    /// Every entry a paged search finds, each to `each`. `Err` after what was read when a page
    /// fails.
    fn search(
        &self,
        conn: &mut LdapConn,
        base: &str,
        filter: &str,
        attrs: Vec<String>,
        each: &mut dyn FnMut(SearchEntry),
    ) -> Result<usize, (usize, SourceError)> {
        let adapters: Vec<Box<dyn Adapter<String, Vec<String>>>> =
            vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(self.settings.page_size as i32))];
        let mut stream = conn
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .map_err(|e| (0, err(&format!("search {base}"), e)))?;
        let mut read = 0;
        loop {
            match stream.next() {
                Ok(Some(entry)) => match std::panic::catch_unwind(|| SearchEntry::construct(entry)) {
                    Ok(e) => {
                        read += 1;
                        each(e);
                    }
                    // ldap3 panics on an entry it cannot parse: the search cannot say who that
                    // was, so it stops, incomplete.
                    Err(_) => {
                        return Err((read, err(&format!("search {base}"), "an entry the client cannot parse")));
                    }
                },
                Ok(None) => break,
                Err(e) => return Err((read, err(&format!("search {base}"), e))),
            }
        }
        stream.result().success().map_err(|e| (read, err(&format!("search {base}"), e)))?;
        Ok(read)
    }

    fn id_attr(&self) -> &'static str {
        match self.settings.flavor {
            LdapFlavor::Openldap => "entryUUID",
            LdapFlavor::ActiveDirectory => "objectGUID",
        }
    }

    fn user(&self, e: SearchEntry) -> Result<(String, SourceUser), RowError> {
        let location = format!("ldap: {}", e.dn);
        let id = match self.settings.flavor {
            LdapFlavor::Openldap => e.attrs.get("entryUUID").and_then(|v| v.first()).cloned(),
            // A GUID whose bytes happen to be UTF-8 arrives as text: its bytes are the same.
            LdapFlavor::ActiveDirectory => e
                .bin_attrs
                .get("objectGUID")
                .and_then(|v| v.first().cloned())
                .or_else(|| e.attrs.get("objectGUID").and_then(|v| v.first()).map(|s| s.as_bytes().to_vec()))
                .and_then(|b| guid_text(&b)),
        };
        let Some(id) = id else {
            return Err(RowError { idp_id: None, location, message: format!("no usable {}", self.id_attr()) });
        };
        let control = e.attrs.get("userAccountControl").and_then(|v| v.first()).and_then(|v| v.parse::<u64>().ok());
        let active = control.is_none_or(|c| c & ACCOUNT_DISABLED == 0);
        let mut map = Map::new();
        map.insert("dn".into(), Value::String(e.dn.clone()));
        for (k, v) in &e.attrs {
            let value = if v.len() == 1 {
                Value::String(v[0].clone())
            } else {
                Value::Array(v.iter().cloned().map(Value::String).collect())
            };
            map.insert(k.clone(), value);
        }
        map.insert(self.id_attr().into(), Value::String(id.clone()));
        let manager = e.attrs.get("manager").and_then(|v| v.first()).cloned();
        let user = SourceUser {
            location,
            id,
            attributes: Attributes::from(map),
            active,
            groups: Vec::new(),
            manager,
            photo_etag: None,
            version: None,
        };
        Ok((e.dn, user))
    }

    /// The rest of a large AD group's `member` values, range by range.
    fn more_members(
        &self,
        conn: &mut LdapConn,
        dn: &str,
        start: usize,
        out: &mut Vec<String>,
    ) -> Result<(), SourceError> {
        ranged_members(start, out, &mut |from| {
            let attr = format!("member;range={from}-*");
            let (entries, _) = conn
                .search(dn, Scope::Base, "(objectClass=*)", vec![attr.as_str()])
                .and_then(|r| r.success())
                .map_err(|e| err(&format!("members of {dn}"), e))?;
            let Some(entry) = entries.into_iter().next() else { return Ok(None) };
            let entry = std::panic::catch_unwind(|| SearchEntry::construct(entry))
                .map_err(|_| err(&format!("members of {dn}"), "an entry the client cannot parse"))?;
            Ok(entry.attrs.into_iter().find(|(k, _)| k.to_ascii_lowercase().starts_with("member;range=")))
        })
    }

    /// Group names per user DN (and per `uid`, for posixGroup's `memberUid`).
    fn memberships(&self, conn: &mut LdapConn) -> Result<HashMap<String, Vec<String>>, SourceError> {
        let mut groups: Vec<LdapGroup> = Vec::new();
        let attrs = vec!["cn".to_string(), "member".into(), "memberUid".into()];
        let base = self.settings.group_base_dn.clone();
        let filter = self.settings.group_filter.clone();
        self.search(conn, &base, &filter, attrs, &mut |e| {
            let name = e.attrs.get("cn").and_then(|v| v.first()).cloned().unwrap_or_default();
            let mut members = Vec::new();
            let mut next = None;
            for (k, v) in &e.attrs {
                let lower = k.to_ascii_lowercase();
                if lower == "member" {
                    members.extend(v.iter().cloned());
                } else if lower.starts_with("member;range=") {
                    members.extend(v.iter().cloned());
                    next = next_range(k).flatten();
                }
            }
            let uids = e.attrs.get("memberUid").cloned().unwrap_or_default();
            groups.push((e.dn.to_ascii_lowercase(), name, members, uids, next));
        })
        .map_err(|(_, e)| e)?;
        for g in &mut groups {
            if let Some(start) = g.4 {
                let dn = g.0.clone();
                self.more_members(conn, &dn, start, &mut g.2)?;
            }
        }
        let by_dn: HashMap<&str, usize> = groups.iter().enumerate().map(|(i, g)| (g.0.as_str(), i)).collect();
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (dn, name, _, _, _) in &groups {
            if !group_matters(&self.rules, name) {
                continue;
            }
            let mut seen: HashSet<&str> = HashSet::from([dn.as_str()]);
            let mut todo = vec![by_dn[dn.as_str()]];
            while let Some(i) = todo.pop() {
                for m in &groups[i].2 {
                    let m = m.to_ascii_lowercase();
                    match by_dn.get(m.as_str()) {
                        Some(&nested) => {
                            if self.settings.groups == GroupMembership::Transitive
                                && seen.insert(groups[nested].0.as_str())
                            {
                                todo.push(nested);
                            }
                        }
                        None => out.entry(m).or_default().push(name.clone()),
                    }
                }
                for uid in &groups[i].3 {
                    out.entry(format!("uid:{}", uid.to_ascii_lowercase())).or_default().push(name.clone());
                }
            }
        }
        for names in out.values_mut() {
            names.sort();
            names.dedup();
        }
        Ok(out)
    }
}

/// What an incremental round starts from: OpenLDAP's `modifyTimestamp` (generalized time) or
/// AD's `uSNChanged`, whichever the flavor keeps.
fn watermark(flavor: LdapFlavor, user: &SourceUser) -> Option<String> {
    let attr = match flavor {
        LdapFlavor::Openldap => "modifyTimestamp",
        LdapFlavor::ActiveDirectory => "uSNChanged",
    };
    user.attributes.get(attr).and_then(AttrValue::as_str).map(str::to_string)
}

/// The newer of two watermarks: times compare as text (fixed-width generalized time), USNs as
/// numbers.
fn newer(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(x), Some(y)) => match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(p), Ok(q)) => Some(if p >= q { x } else { y }),
            _ => Some(if x >= y { x } else { y }),
        },
        (x, y) => x.or(y),
    }
}

impl LdapConnector {
    /// Users (the user filter, narrowed by `extra`) with their groups, and the newest watermark
    /// among them.
    fn read(&self, extra: Option<&str>) -> Result<(Listing, Option<String>), SourceError> {
        let mut users = Vec::new();
        let (mut listing, mark) = self.read_each(extra, &mut |u| users.push(u))?;
        listing.users = users;
        Ok((listing, mark))
    }

    /// `read`, handing each user to `each` as the search returns it (memberships are read
    /// first), so that the directory is never held as records. `manager` holds a DN, and the
    /// manager is the user with that DN, by id: a user whose manager has not been read yet waits
    /// for the end of the search; the others go on at once.
    fn read_each(
        &self,
        extra: Option<&str>,
        each: &mut dyn FnMut(SourceUser),
    ) -> Result<(Listing, Option<String>), SourceError> {
        let mut conn = self.connect()?;
        let groups =
            if self.settings.groups == GroupMembership::None { HashMap::new() } else { self.memberships(&mut conn)? };
        let mut listing = Listing { complete: true, ..Listing::default() };
        let attrs = vec!["*".to_string(), "+".into()];
        let base = self.settings.base_dn.clone();
        let filter = match extra {
            Some(x) => format!("(&{}{x})", self.settings.user_filter),
            None => self.settings.user_filter.clone(),
        };
        let mut failures = Vec::new();
        // Lower-case DN → id of every user read so far.
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut waiting: Vec<SourceUser> = Vec::new();
        let mut mark = None;
        let outcome = self.search(&mut conn, &base, &filter, attrs, &mut |e| match self.user(e) {
            Ok((dn, mut user)) => {
                let dn = dn.to_ascii_lowercase();
                let mut names = groups.get(&dn).cloned().unwrap_or_default();
                if let Some(uid) = user.attributes.get("uid").and_then(AttrValue::as_str) {
                    names.extend(groups.get(&format!("uid:{}", uid.to_ascii_lowercase())).cloned().unwrap_or_default());
                }
                names.sort();
                names.dedup();
                user.groups = names;
                mark = newer(mark.take(), watermark(self.settings.flavor, &user));
                ids.insert(dn, user.id.clone());
                match user.manager.as_deref().map(|m| ids.get(&m.to_ascii_lowercase())) {
                    Some(None) => waiting.push(user),
                    Some(Some(id)) => {
                        user.manager = Some(id.clone());
                        each(user);
                    }
                    None => each(user),
                }
            }
            Err(e) => failures.push(e),
        });
        match outcome {
            Ok(_) => {}
            Err((0, e)) => return Err(e),
            Err((read, e)) => {
                listing.incomplete(RowError {
                    idp_id: None,
                    location: format!("ldap: {base}"),
                    message: format!("the user search stopped after {read} entries: {e}"),
                });
            }
        }
        if !failures.is_empty() {
            listing.complete = false;
            listing.row_errors.extend(failures);
        }
        for mut user in waiting {
            user.manager = user.manager.take().and_then(|m| match ids.get(&m.to_ascii_lowercase()) {
                Some(id) => Some(id.clone()),
                None => self.id_of(&mut conn, &m),
            });
            each(user);
        }
        let _ = conn.unbind();
        Ok((listing, mark))
    }

    /// The id of the entry at `dn` (a manager outside this read), if it can be read.
    fn id_of(&self, conn: &mut LdapConn, dn: &str) -> Option<String> {
        let (entries, _) =
            conn.search(dn, Scope::Base, "(objectClass=*)", vec![self.id_attr()]).ok()?.success().ok()?;
        let entry = entries.into_iter().next().map(SearchEntry::construct)?;
        self.user(entry).ok().map(|(_, u)| u.id)
    }
}

impl Connector for LdapConnector {
    fn fetch(&mut self) -> Result<Listing, SourceError> {
        self.read(None).map(|(listing, _)| listing)
    }

    fn fetch_each(&mut self, each: &mut dyn FnMut(SourceUser)) -> Result<Listing, SourceError> {
        self.read_each(None, each).map(|(listing, _)| listing)
    }

    /// Users changed since the last round: `modifyTimestamp` (OpenLDAP) or `uSNChanged` (AD) at
    /// or after the round's watermark, each with all their groups. A membership change alone
    /// does not touch the user entry: those, and deletions, are read at full runs.
    fn delta(&mut self, token: Option<&str>) -> Result<super::DeltaListing, SourceError> {
        let groups_read = self.settings.groups != GroupMembership::None;
        let Some(since) = token else {
            let (listing, mark) = self.read(None)?;
            return Ok(super::DeltaListing {
                listing,
                removed: Vec::new(),
                next_token: mark.unwrap_or_default(),
                full: true,
                groups_read,
            });
        };
        let clean = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | 'Z' | '-' | '+'));
        if since.is_empty() || !clean(since) {
            return Err(SourceError::DeltaExpired(format!("ldap: the stored watermark '{since}' is not usable")));
        }
        let extra = match self.settings.flavor {
            LdapFlavor::Openldap => format!("(modifyTimestamp>={since})"),
            LdapFlavor::ActiveDirectory => format!("(uSNChanged>={})", since.parse::<u64>().unwrap_or(0) + 1),
        };
        let (listing, mark) = self.read(Some(&extra))?;
        let next_token = newer(Some(since.to_string()), mark).unwrap_or_default();
        Ok(super::DeltaListing { listing, removed: Vec::new(), next_token, full: false, groups_read })
    }

    fn check(&mut self) -> Vec<CheckStep> {
        let mut steps = vec![];
        let conn = self.connect();
        let ok = conn.is_ok();
        steps.push(CheckStep::new(
            "bind",
            conn.as_ref()
                .map(|_| format!("bound as {} over {}", self.settings.bind_dn, self.settings.url))
                .map_err(|e| e.to_string()),
        ));
        if let (true, Ok(mut conn)) = (ok, conn) {
            let base = self.settings.base_dn.clone();
            let filter = self.settings.user_filter.clone();
            let result =
                conn.search(&base, Scope::Subtree, &filter, vec!["1.1"]).map(|r| r.0.len()).map_err(|e| e.to_string());
            let detail = match result {
                Ok(n) => Ok(format!("users are found under {base} ({n} in the first answer)")),
                // A size limit on an unpaged search still proves the search works.
                Err(e) if e.contains("sizeLimitExceeded") || e.contains("rc=4") => {
                    Ok(format!("users are found under {base}"))
                }
                Err(e) => Err(format!("ldap: search {base}: {e}")),
            };
            steps.push(CheckStep::new("search users", detail));
            let _ = conn.unbind();
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::{guid_text, next_range};

    #[test]
    fn a_large_groups_members_are_read_range_by_range() {
        // As AD answers a group of 7 with MaxValRange 3: 0-2, 3-5, then 6-*.
        let ranges = [("member;range=3-5", 3), ("member;range=6-*", 6)];
        let mut asked = Vec::new();
        let mut out = vec!["m0".to_string(), "m1".into(), "m2".into()];
        let result = super::ranged_members(3, &mut out, &mut |from| {
            asked.push(from);
            let (name, first) = ranges.iter().find(|(_, f)| *f == from).copied().unwrap();
            let values = (first..(first + 3).min(7)).map(|i| format!("m{i}")).collect();
            Ok(Some((name.to_string(), values)))
        });
        assert!(result.is_ok());
        assert_eq!(asked, vec![3, 6]);
        assert_eq!(out, (0..7).map(|i| format!("m{i}")).collect::<Vec<_>>());
        // A server whose range never advances is an error, not an endless loop.
        let mut none = Vec::new();
        let stuck = super::ranged_members(0, &mut none, &mut |_| Ok(Some(("member;range=0-0".into(), Vec::new()))));
        assert!(stuck.is_err());
    }

    #[test]
    fn object_guid_and_range_names() {
        // MS-DTYP §2.3.4.2: Data1..Data3 little-endian, Data4 as bytes.
        let b = [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        assert_eq!(guid_text(&b).as_deref(), Some("00112233-4455-6677-8899-aabbccddeeff"));
        assert_eq!(guid_text(&b[..15]), None);
        assert_eq!(next_range("member;range=0-1499"), Some(Some(1500)));
        assert_eq!(next_range("member;range=1500-*"), Some(None));
        assert_eq!(next_range("member"), None);
    }
}
