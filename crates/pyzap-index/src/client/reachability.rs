//! Which hosts this run could not reach at all. A host whose first request
//! finds no route to it (no such name, connection refused: a machine
//! without network, or a wrong URL) is not retried and not asked again:
//! its pages are read from the cache when an earlier build left them
//! there, as with `--offline`, and the caller is told so once; anything
//! else from it fails at once. A host that answered before is retried as
//! usual when it stops answering.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use url::Url;

use super::lock;
use crate::http::{redact, TransportError};
use crate::IndexError;

#[derive(Default)]
pub(super) struct Reachability {
    /// Origins (`scheme://host:port`) that answered at least once.
    answered: Mutex<HashSet<String>>,
    /// Origins unreachable on their first request, with the failure.
    down: Mutex<HashMap<String, String>>,
    /// Origins whose pages were read from the cache instead, not yet told.
    fell_back: Mutex<BTreeSet<String>>,
}

impl Reachability {
    /// The error to give at once for `url`, when its host is down.
    pub(super) fn refuse(&self, url: &Url) -> Result<(), IndexError> {
        match lock(&self.down).get(&origin(url)) {
            Some(why) => Err(IndexError::Unreachable {
                url: redact(url),
                attempts: 1,
                source: TransportError::unreachable(why.clone()),
            }),
            None => Ok(()),
        }
    }

    pub(super) fn answered(&self, url: &Url) {
        lock(&self.answered).insert(origin(url));
    }

    /// Notes a failed attempt on `url`: whether it leaves the host down
    /// (a first request that reached nothing), so retrying is pointless.
    pub(super) fn failed(&self, url: &Url, error: &TransportError) -> bool {
        let origin = origin(url);
        if !error.unreachable || lock(&self.answered).contains(&origin) {
            return false;
        }
        lock(&self.down).insert(origin, error.message.clone());
        true
    }

    pub(super) fn is_down(&self, url: &Url) -> bool {
        lock(&self.down).contains_key(&origin(url))
    }

    /// Notes that `url`'s page came from the cache: its host could not be
    /// reached at all (`host_unreachable`).
    pub(super) fn fell_back(&self, url: &Url) {
        lock(&self.fell_back).insert(origin(url));
    }

    /// The hosts read from the cache since the last call, with why.
    pub(super) fn take_fallbacks(&self) -> Vec<(String, String)> {
        let origins = std::mem::take(&mut *lock(&self.fell_back));
        let down = lock(&self.down);
        origins
            .into_iter()
            .map(|o| {
                let why = down.get(&o).cloned().unwrap_or_default();
                (o, why)
            })
            .collect()
    }
}

/// Whether `error` is a host that could not be reached at all.
pub(super) fn host_unreachable(error: &IndexError) -> bool {
    matches!(error.kind(), IndexError::Unreachable { source, .. } if source.unreachable)
}

/// `scheme://host:port` of `url`, without credentials.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}
