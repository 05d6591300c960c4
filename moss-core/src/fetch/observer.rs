//! Progress reporting hooks; called from download threads.

use super::FetchOrigin;

/// Receives progress; the CLI draws bars or prints lines.
pub trait FetchObserver: Sync {
    /// A download begins (`total` from the index when known).
    fn started(&self, _label: &str, _total: Option<u64>) {}
    /// `bytes` more arrived.
    fn advanced(&self, _label: &str, _bytes: u64) {}
    /// The file is verified and ready.
    fn finished(&self, _label: &str, _downloaded: u64, _origin: FetchOrigin) {}
}

/// Reports nothing.
pub struct NoProgress;

impl FetchObserver for NoProgress {}
