//! One DNS lookup per host, shared by every request of a client: ureq
//! resolves the host of each request before it looks in its connection
//! pool, so without this a build downloading sixty files from one host
//! would ask the system resolver sixty times. Addresses are kept for a
//! minute (a common TTL of CDN records): a long run still follows a host
//! that moves. Concurrent first requests for a host wait for one lookup;
//! a failed lookup is not kept, so a retry asks again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long looked-up addresses are used.
const KEEP: Duration = Duration::from_secs(60);

/// Addresses of one host, once looked up.
type Slot = Arc<Mutex<Option<(Instant, ResolvedSocketAddrs)>>>;

/// A resolver that remembers what `inner` found, per scheme, host and port.
#[derive(Debug)]
pub(crate) struct CachingResolver<R = DefaultResolver> {
    inner: R,
    hosts: Mutex<HashMap<String, Slot>>,
}

impl<R: Resolver> CachingResolver<R> {
    pub(crate) fn new(inner: R) -> Self {
        CachingResolver {
            inner,
            hosts: Mutex::default(),
        }
    }
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            // Not a full URL: the inner resolver says what is wrong with it.
            return self.inner.resolve(uri, config, timeout);
        };
        let key = format!("{scheme}://{authority}");
        let slot = self
            .hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        // Held while looking up: other requests for this host wait for
        // this lookup rather than making their own.
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, addrs)) = slot.as_ref() {
            if at.elapsed() < KEEP {
                return Ok(addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *slot = Some((Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Answers 127.0.0.1 after a pause, counting lookups.
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &Uri,
            _: &Config,
            _: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            let https = uri.scheme_str() == Some("https");
            let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
            let mut addrs = self.empty();
            addrs.push(SocketAddr::from(([127, 0, 0, 1], port)));
            Ok(addrs)
        }
    }

    #[test]
    fn parallel_requests_to_one_host_make_one_lookup() {
        let resolver = CachingResolver::new(Counting::default());
        let config = Config::default();
        std::thread::scope(|scope| {
            for i in 0..8 {
                let (resolver, config) = (&resolver, &config);
                scope.spawn(move || {
                    let uri: Uri = format!("https://files.example/f{i}.whl").parse().unwrap();
                    let addrs = resolver
                        .resolve(&uri, config, NextTimeout::default())
                        .unwrap();
                    assert_eq!(addrs[0], SocketAddr::from(([127, 0, 0, 1], 443)));
                });
            }
        });
        assert_eq!(resolver.inner.0.load(Ordering::SeqCst), 1);
        // Another port is another server: looked up on its own.
        let uri: Uri = "https://files.example:8443/x".parse().unwrap();
        let addrs = resolver
            .resolve(&uri, &config, NextTimeout::default())
            .unwrap();
        assert_eq!(addrs[0].port(), 8443);
        assert_eq!(resolver.inner.0.load(Ordering::SeqCst), 2);
    }
}
