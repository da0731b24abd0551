//! A user's source version, completed with a digest of the directory side.
//!
//! The mapper gives each desired user a version: the mapping's configuration, the
//! `full_reconcile` window and the record's own version (a source's etag, else a digest of the
//! record's content). When a user is applied cleanly or found in step, the version is stored
//! with a digest of what the user's directory record then holds: username, active and every
//! value. A later run whose record and mapping give the same version, and whose directory record
//! digests the same, would map the same values onto the same record and find it in step: the
//! rules are not run again (`mapper.rs`). A record edited in the directory (drift) digests
//! differently, so the user is mapped in full and corrected in that same run.

use std::hash::{BuildHasher, Hash, Hasher};

use crate::model::{DesiredUser, DirectoryUser, SourceUser, Target};

/// The digests' hasher: the same from run to run (a stored digest is compared with a new one),
/// and fast on short texts (SipHash made digesting cost as much as the rules it saves). A new
/// hasher in a later release only maps everyone once more.
fn hasher() -> impl Hasher {
    foldhash::quality::FixedState::with_seed(0x7573_6572_7379_6e63).build_hasher()
}

/// The mapper's version of a record: the mapping's configuration, the `full_reconcile` window,
/// and the record's own version (a source's etag), else a digest of everything the rules can
/// read. One number, so that every anchor stores a short text.
pub fn record_version(config: u64, window: i64, u: &SourceUser) -> u64 {
    let mut h = hasher();
    h.write_u64(config);
    h.write_i64(window);
    match &u.version {
        Some(v) => {
            h.write_u8(b'v');
            v.hash(&mut h);
        }
        None => {
            h.write_u8(b'c');
            u.id.hash(&mut h);
            u.active.hash(&mut h);
            u.manager.hash(&mut h);
            u.attributes.digest_into(&mut h);
        }
    }
    h.finish()
}

/// A digest of what the directory holds for a user.
pub fn directory_digest(u: &DirectoryUser) -> u64 {
    let mut h = Digest::new(&u.username, u.active);
    u.values.iter().for_each(|(t, v)| h.value(t, v));
    h.finish()
}

/// `directory_digest` of the record `dir` (none: a user to create) once `d` is applied to it:
/// its username and active state, and its values with `d`'s set or cleared over them.
pub fn expected_digest(dir: Option<&DirectoryUser>, d: &DesiredUser) -> u64 {
    let mut kept = dir.into_iter().flat_map(|u| u.values.iter()).peekable();
    // A display name the rules leave empty is kept by the application, not cleared (as
    // `value_changes` plans it).
    let mut wanted = d.values.iter().filter(|(t, v)| !(**t == Target::DisplayName && v.is_none())).peekable();
    let mut h = Digest::new(&d.username, d.active);
    loop {
        let order = match (kept.peek(), wanted.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((k, _)), Some((w, _))) => (*k).cmp(*w),
        };
        if order == std::cmp::Ordering::Equal {
            // Set or cleared by `d`: the directory's value goes.
            kept.next();
        }
        let take_wanted = order != std::cmp::Ordering::Less;
        if take_wanted {
            if let Some((t, Some(v))) = wanted.next() {
                h.value(t, v);
            }
        } else if let Some((t, v)) = kept.next() {
            h.value(t, v);
        }
    }
    h.finish()
}

/// A directory record's digest, fed a value at a time in target order.
struct Digest<H>(H);

impl Digest<()> {
    fn new(username: &str, active: bool) -> Digest<impl Hasher> {
        let mut h = hasher();
        username.hash(&mut h);
        active.hash(&mut h);
        Digest(h)
    }
}

impl<H: Hasher> Digest<H> {
    fn value(&mut self, target: &Target, value: &str) {
        // Empty values are absent values, as a directory lists them.
        if *target != Target::Username && !value.is_empty() {
            target.hash(&mut self.0);
            value.hash(&mut self.0);
        }
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Between the mapper's version and the directory's digest in a stored version: a version
/// stored before digests were (a bare etag) never reads as one with a digest.
const DIGEST: &str = "|dir:";

/// The version to store: the mapper's (or, completed already, its own mapper's part), with the
/// directory's digest.
pub fn complete(version: &str, digest: u64) -> String {
    let base = match version.rfind('|') {
        Some(i) if version[i..].starts_with(DIGEST) => &version[..i],
        _ => version,
    };
    let mut out = String::with_capacity(base.len() + DIGEST.len() + 16);
    out.push_str(base);
    out.push_str(DIGEST);
    push_hex(&mut out, digest);
    out
}

/// `n` in lower-case hexadecimal, as `{:x}` writes it, without the formatting machinery (a
/// version is built for every user of a run).
pub fn push_hex(out: &mut String, n: u64) {
    let (digits, from) = hex(n);
    // Appended as one text: a character at a time cost 460 instructions a version.
    out.push_str(std::str::from_utf8(&digits[from..]).unwrap_or_default());
}

/// The digits of `n` in hexadecimal: they start at the index returned.
fn hex(mut n: u64) -> ([u8; 16], usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = DIGITS[(n & 15) as usize];
        n >>= 4;
        if n == 0 {
            return (buf, at);
        }
    }
}

/// Whether `stored` is `version` completed with `digest`, without building it.
pub fn is(stored: Option<&str>, version: &str, digest: u64) -> bool {
    let Some(rest) = stored.and_then(|s| s.strip_prefix(version)).and_then(|s| s.strip_prefix(DIGEST)) else {
        return false;
    };
    let (digits, from) = hex(digest);
    rest.as_bytes() == &digits[from..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TextMap, ValueMap};

    fn dir(username: &str, values: &[(&str, &str)]) -> DirectoryUser {
        let targets: Vec<(Target, &str)> = values.iter().map(|(t, v)| (t.parse().unwrap(), *v)).collect();
        DirectoryUser {
            key: "1".into(),
            username: username.into(),
            active: true,
            values: TextMap::from_pairs(targets.iter().map(|(t, v)| (t, *v))),
            groups: Default::default(),
            external_id: None,
            created_at: None,
            last_login: None,
            admin: false,
        }
    }

    fn desired(username: &str, values: &[(&str, Option<&str>)]) -> DesiredUser {
        let mut map = ValueMap::default();
        for (t, v) in values {
            map.insert(t.parse().unwrap(), v.map(str::to_string));
        }
        DesiredUser {
            idp_id: "s1".into(),
            username: username.into(),
            active: true,
            values: map,
            groups: None,
            photo: None,
            source_version: None,
            location: String::new(),
            manager: None,
        }
    }

    #[test]
    fn the_expected_record_digests_as_the_directory_will_list_it() {
        let before =
            dir("ann", &[("display_name", "Ann"), ("email", "a@x"), ("profile:phone", "1"), ("property:k", "v")]);
        // Set one value, clear another, add a third, leave the rest.
        let d = desired(
            "ann",
            &[("display_name", Some("Ann B")), ("profile:phone", None), ("profile:location", Some("L"))],
        );
        let after =
            dir("ann", &[("display_name", "Ann B"), ("email", "a@x"), ("profile:location", "L"), ("property:k", "v")]);
        assert_eq!(expected_digest(Some(&before), &d), directory_digest(&after));
        assert_ne!(directory_digest(&before), directory_digest(&after));
        // An empty display name keeps the one there.
        let keeps = desired("ann", &[("display_name", None), ("email", Some("a@x"))]);
        let kept = dir("ann", &[("display_name", "Ann"), ("email", "a@x")]);
        assert_eq!(expected_digest(Some(&kept), &keeps), directory_digest(&kept));
        // A user to create holds what it is created with.
        let created = desired("bob", &[("display_name", Some("Bob")), ("email", None)]);
        assert_eq!(expected_digest(None, &created), directory_digest(&dir("bob", &[("display_name", "Bob")])));
        // Username and active count; an edit of any value counts.
        assert_ne!(
            directory_digest(&dir("ann2", &[("display_name", "Ann")])),
            directory_digest(&dir("ann", &[("display_name", "Ann")]))
        );
        let mut inactive = dir("ann", &[("display_name", "Ann")]);
        inactive.active = false;
        assert_ne!(directory_digest(&inactive), directory_digest(&dir("ann", &[("display_name", "Ann")])));
    }

    #[test]
    fn a_stored_version_is_read_back_exactly() {
        let stored = complete("ab:3:c12", 0xdead);
        assert!(is(Some(&stored), "ab:3:c12", 0xdead));
        assert!(!is(Some(&stored), "ab:3:c12", 0xbeef));
        assert!(!is(Some(&stored), "ab:4:c12", 0xdead));
        assert!(!is(Some("ab:3:c12"), "ab:3", 0xc12), "an uncompleted version is not taken for a digest");
        assert!(!is(None, "ab:3:c12", 0xdead));
        assert_eq!(complete(&stored, 0xbeef), complete("ab:3:c12", 0xbeef), "completed again, not twice");
        for n in [0, 1, 0xf, 0x10, 0xdead_beef, u64::MAX] {
            let mut s = String::new();
            push_hex(&mut s, n);
            assert_eq!(s, format!("{n:x}"));
        }
    }
}
