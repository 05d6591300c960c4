//! Fetching packages: parallel downloads over HTTP(S) (ureq, rustls) or
//! from local paths, each verified against its sha256 and written atomically
//! (`<hash>.stone.part`, then a rename) into a download cache.
//!
//! [`Fetcher::fetch_all`] hands every verified file to a caller-supplied
//! function on the calling thread as soon as it is ready, so unpacking into
//! the store overlaps with the downloads still running. The library never
//! prints: progress goes to a [`FetchObserver`] the caller provides.

mod error;
mod http;
mod observer;
pub mod uri;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

pub use error::FetchError;
pub use http::{agent, open as http_get, HttpBody};
pub use observer::{FetchObserver, NoProgress};

use crate::util::sha256_file;
use uri::Location;

/// `path` with `.part` appended: where a file is written before the rename
/// that makes it appear whole.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Parallel downloads, as the original moss uses.
pub const DEFAULT_JOBS: usize = 8;

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// Shown in progress and errors (e.g. `name-version-release`).
    pub label: String,
    pub source: Location,
    /// Expected sha256 hex.
    pub sha256: String,
    /// Expected size, if known (a body longer than this is cut off early).
    pub size: Option<u64>,
}

/// A verified file ready to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Position in the list given to [`Fetcher::fetch_all`].
    pub index: usize,
    pub path: PathBuf,
    /// Bytes transferred (0 when it came from the cache or a local path).
    pub downloaded: u64,
    pub origin: FetchOrigin,
}

/// Where a fetched file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOrigin {
    Downloaded,
    /// Already in the download cache with the right hash.
    Cached,
    /// A local repository's file, used where it is.
    Local,
}

/// Totals of one [`Fetcher::fetch_all`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchSummary {
    pub downloaded: usize,
    pub cached: usize,
    pub local: usize,
    pub bytes: u64,
    /// Wall time from the first request to the last file handed over.
    pub wall: Duration,
    /// Time spent in the caller's function (e.g. unpacking).
    pub consume: Duration,
}

/// Downloads into a cache folder, with the process's HTTP agent.
pub struct Fetcher {
    cache: PathBuf,
    jobs: usize,
}

impl Fetcher {
    pub fn new(cache: PathBuf) -> Self {
        Fetcher {
            cache,
            jobs: DEFAULT_JOBS,
        }
    }

    /// Number of parallel downloads (at least 1).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Where a verified download with this hash is kept.
    pub fn cached_path(&self, sha256: &str) -> PathBuf {
        self.cache.join(format!("{sha256}.stone"))
    }

    /// Fetches every item in parallel; `consume` runs on this thread for each
    /// verified file, in completion order. The first failure (a fetch or
    /// `consume`) stops the remaining downloads and is returned.
    pub fn fetch_all<E: From<FetchError>>(
        &self,
        items: &[Download],
        observer: &dyn FetchObserver,
        mut consume: impl FnMut(Fetched) -> Result<(), E>,
    ) -> Result<FetchSummary, E> {
        let start = Instant::now();
        fs::create_dir_all(&self.cache).map_err(|e| FetchError::io("creating", &self.cache, e))?;
        let stop = AtomicBool::new(false);
        let next = AtomicUsize::new(0);
        let mut summary = FetchSummary::default();
        let workers = self.jobs.min(items.len());
        let result = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<Result<Fetched, FetchError>>();
            for _ in 0..workers {
                let tx = tx.clone();
                let (stop, next) = (&stop, &next);
                scope.spawn(move || loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = self.fetch_one(i, item, observer, stop);
                    if tx.send(result).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            for result in rx {
                let outcome = result.map_err(E::from).and_then(|fetched| {
                    match fetched.origin {
                        FetchOrigin::Downloaded => summary.downloaded += 1,
                        FetchOrigin::Cached => summary.cached += 1,
                        FetchOrigin::Local => summary.local += 1,
                    }
                    summary.bytes += fetched.downloaded;
                    let t = Instant::now();
                    let r = consume(fetched);
                    summary.consume += t.elapsed();
                    r
                });
                if let Err(e) = outcome {
                    // Workers notice between reads; the scope waits for them.
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
            Ok(())
        });
        result?;
        summary.wall = start.elapsed();
        Ok(summary)
    }

    /// Fetches one item: cached copy, local file, or a verified download.
    fn fetch_one(
        &self,
        index: usize,
        item: &Download,
        observer: &dyn FetchObserver,
        stop: &AtomicBool,
    ) -> Result<Fetched, FetchError> {
        let done = |path, downloaded, origin| {
            observer.finished(&item.label, downloaded, origin);
            Ok(Fetched {
                index,
                path,
                downloaded,
                origin,
            })
        };
        match &item.source {
            Location::Local(path) => {
                let (actual, _) = sha256_file(path).map_err(|e| FetchError::Local {
                    label: item.label.clone(),
                    reason: e.to_string(),
                })?;
                check_hash(item, &path.display().to_string(), &actual)?;
                done(path.clone(), 0, FetchOrigin::Local)
            }
            Location::Http(url) => {
                let target = self.cached_path(&item.sha256);
                if target.is_file()
                    && sha256_file(&target).is_ok_and(|(h, _)| h.eq_ignore_ascii_case(&item.sha256))
                {
                    return done(target, 0, FetchOrigin::Cached);
                }
                observer.started(&item.label, item.size);
                let bytes = self.download(url, item, &target, observer, stop)?;
                done(target, bytes, FetchOrigin::Downloaded)
            }
        }
    }

    /// Streams `url` into `target.part` while hashing, verifies, renames.
    fn download(
        &self,
        url: &str,
        item: &Download,
        target: &Path,
        observer: &dyn FetchObserver,
        stop: &AtomicBool,
    ) -> Result<u64, FetchError> {
        // One partial file per process: two processes sharing a download
        // cache (concurrent builds) may fetch the same package at once, and
        // must not write into each other's file.
        let part = part_path(&target.with_extension(format!("stone.{}", std::process::id())));
        let result = (|| {
            let mut body = http::open(url)?.reader;
            let mut file = File::create(&part).map_err(|e| FetchError::io("creating", &part, e))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 17];
            let mut total = 0u64;
            loop {
                if stop.load(Ordering::Relaxed) {
                    return Err(FetchError::Cancelled);
                }
                let n = match body.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(FetchError::Transfer {
                            url: url.to_string(),
                            reason: e.to_string(),
                        })
                    }
                };
                total += n as u64;
                if item.size.is_some_and(|size| total > size) {
                    return Err(FetchError::TooLarge {
                        url: url.to_string(),
                        expected: item.size.unwrap_or(0),
                    });
                }
                hasher.update(&buf[..n]);
                file.write_all(&buf[..n])
                    .map_err(|e| FetchError::io("writing", &part, e))?;
                observer.advanced(&item.label, n as u64);
            }
            check_hash(item, url, &hex::encode(hasher.finalize()))?;
            file.sync_all()
                .map_err(|e| FetchError::io("syncing", &part, e))?;
            fs::rename(&part, target).map_err(|e| FetchError::io("renaming", target, e))?;
            Ok(total)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&part);
        }
        result
    }
}

/// Downloads (or copies) a file with no known hash, e.g. a repository's
/// `stone.index`, to `target` via `target.part`.
pub fn fetch_file(source: &Location, target: &Path) -> Result<u64, FetchError> {
    let part = part_path(target);
    if let Some(dir) = target.parent() {
        fs::create_dir_all(dir).map_err(|e| FetchError::io("creating", dir, e))?;
    }
    let result = (|| {
        let bytes = match source {
            Location::Local(path) => fs::copy(path, &part).map_err(|e| FetchError::Local {
                label: path.display().to_string(),
                reason: e.to_string(),
            })?,
            Location::Http(url) => {
                let mut body = http::open(url)?.reader;
                let mut file =
                    File::create(&part).map_err(|e| FetchError::io("creating", &part, e))?;
                std::io::copy(&mut body, &mut file).map_err(|e| FetchError::Transfer {
                    url: url.clone(),
                    reason: e.to_string(),
                })?
            }
        };
        fs::rename(&part, target).map_err(|e| FetchError::io("renaming", target, e))?;
        Ok(bytes)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

fn check_hash(item: &Download, from: &str, actual: &str) -> Result<(), FetchError> {
    if actual.eq_ignore_ascii_case(&item.sha256) {
        Ok(())
    } else {
        Err(FetchError::HashMismatch {
            label: item.label.clone(),
            from: from.to_string(),
            expected: item.sha256.clone(),
            actual: actual.to_string(),
        })
    }
}
