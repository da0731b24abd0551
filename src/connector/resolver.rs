//! Host names resolved once a minute, not once a request.
//!
//! ureq resolves the host of every request, a pooled connection's too, and with a timeout set
//! (we always set one) its default resolver starts a thread for each look-up so that it can stop
//! waiting. A sync of 100,000 Entra users makes some 6,000 requests to one host: 6,000 threads.
//! This resolver keeps what the default one found for a minute per scheme, host and port, so a
//! provider whose addresses change is followed within that minute.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a look-up is reused.
const KEEP: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(super) struct CachingResolver {
    inner: DefaultResolver,
    /// (scheme://authority, when resolved, addresses). A connector talks to a handful of hosts.
    found: Mutex<Vec<(String, Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().map(|a| a.as_str()).unwrap_or(""));
        let now = Instant::now();
        {
            let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
            found.retain(|(_, at, _)| now.duration_since(*at) < KEEP);
            if let Some((_, _, addrs)) = found.iter().find(|(k, _, _)| *k == key) {
                return Ok(addrs.clone());
            }
        }
        // Not under the lock: a slow look-up must not hold up requests to other hosts.
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner());
        found.retain(|(k, _, _)| *k != key);
        found.push((key, now, addrs.clone()));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout() -> NextTimeout {
        NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from(Duration::from_secs(5)),
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        }
    }

    #[test]
    fn a_host_is_looked_up_once_and_each_host_apart() {
        let resolver = CachingResolver::default();
        let config = Config::default();
        let a: Uri = "http://127.0.0.1:8080/v1.0/users".parse().unwrap();
        let b: Uri = "http://127.0.0.2:9090/token".parse().unwrap();
        let first = resolver.resolve(&a, &config, timeout()).unwrap();
        assert_eq!(first[0], "127.0.0.1:8080".parse().unwrap());
        assert_eq!(resolver.found.lock().unwrap().len(), 1);
        let again = resolver.resolve(&a, &config, timeout()).unwrap();
        assert_eq!(again[0], first[0]);
        assert_eq!(resolver.found.lock().unwrap().len(), 1, "the second look-up of a host is the kept one");
        let other = resolver.resolve(&b, &config, timeout()).unwrap();
        assert_eq!(other[0], "127.0.0.2:9090".parse().unwrap());
        assert_eq!(resolver.found.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_look_up_older_than_a_minute_is_made_again() {
        let resolver = CachingResolver::default();
        let config = Config::default();
        let a: Uri = "http://127.0.0.1:8080/".parse().unwrap();
        resolver.resolve(&a, &config, timeout()).unwrap();
        let stale = Instant::now().checked_sub(KEEP + Duration::from_secs(1)).unwrap();
        resolver.found.lock().unwrap()[0].1 = stale;
        resolver.resolve(&a, &config, timeout()).unwrap();
        let found = resolver.found.lock().unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].1 > stale, "the stale entry was replaced by a new look-up");
    }
}
