//! Download progress: the library counts the bytes of each HTTP download
//! (upstream sources, and the packages of build roots through
//! [`FetchProgress`]) and tells whoever listens (the command line draws bars on a terminal,
//! plain lines elsewhere). Nothing listens unless [`set_listener`] was
//! called, so library users and tests see no output.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use moss_core::fetch::{FetchObserver, FetchOrigin};

/// Receives the progress of downloads; called from the fetching threads.
pub trait DownloadListener: Send + Sync {
    /// A download of `url` starts; `total` is its size when the server said.
    fn start(&self, url: &str, total: Option<u64>) -> Box<dyn DownloadTicker>;
}

/// The progress of one download.
pub trait DownloadTicker: Send {
    /// `bytes` more arrived.
    fn advance(&mut self, bytes: u64);
    /// The body was read to its end.
    fn finish(&mut self);
}

static LISTENER: OnceLock<Arc<dyn DownloadListener>> = OnceLock::new();

/// Sets the process's download listener (the first call wins).
pub fn set_listener(listener: Arc<dyn DownloadListener>) {
    let _ = LISTENER.set(listener);
}

/// `reader` counted for the listener, if there is one.
pub(crate) fn watched(
    url: &str,
    total: Option<u64>,
    reader: Box<dyn Read + Send>,
) -> Box<dyn Read + Send> {
    match LISTENER.get() {
        Some(listener) => Box::new(Counting {
            inner: reader,
            ticker: listener.start(url, total),
            finished: false,
        }),
        None => reader,
    }
}

/// moss-core's download events (package downloads of a build root, from
/// its download threads) shown to the process's listener like any download.
#[derive(Default)]
pub(crate) struct FetchProgress {
    running: Mutex<HashMap<String, Box<dyn DownloadTicker>>>,
}

impl FetchProgress {
    fn with_ticker(&self, label: &str, f: impl FnOnce(&mut Box<dyn DownloadTicker>)) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(ticker) = running.get_mut(label) {
            f(ticker);
        }
    }
}

impl FetchObserver for FetchProgress {
    fn started(&self, label: &str, total: Option<u64>) {
        if let Some(listener) = LISTENER.get() {
            let ticker = listener.start(label, total);
            self.running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(label.to_string(), ticker);
        }
    }

    fn advanced(&self, label: &str, bytes: u64) {
        self.with_ticker(label, |ticker| ticker.advance(bytes));
    }

    fn finished(&self, label: &str, _downloaded: u64, _origin: FetchOrigin) {
        self.with_ticker(label, |ticker| ticker.finish());
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(label);
    }
}

struct Counting {
    inner: Box<dyn Read + Send>,
    ticker: Box<dyn DownloadTicker>,
    finished: bool,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        if read > 0 {
            self.ticker.advance(read as u64);
        } else if !buf.is_empty() && !self.finished {
            self.finished = true;
            self.ticker.finish();
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl DownloadTicker for Recorder {
        fn advance(&mut self, bytes: u64) {
            self.0.lock().expect("lock").push(format!("+{bytes}"));
        }
        fn finish(&mut self) {
            self.0.lock().expect("lock").push("done".into());
        }
    }

    #[test]
    fn every_byte_is_counted_and_the_end_reported_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = Counting {
            inner: Box::new(std::io::Cursor::new(vec![7u8; 10])),
            ticker: Box::new(Recorder(seen.clone())),
            finished: false,
        };
        let mut out = Vec::new();
        let mut chunk = [0u8; 4];
        loop {
            let n = reader.read(&mut chunk).expect("read");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(reader.read(&mut chunk).expect("read"), 0);
        assert_eq!(out, vec![7u8; 10]);
        assert_eq!(*seen.lock().expect("lock"), ["+4", "+4", "+2", "done"]);
    }
}
