//! The upstream cache: verified archives keyed by sha256 and the URLs they
//! came from, git mirrors by URL.
//!
//! An archive entry is reused only for a URL it was fetched from: a recipe
//! whose URL changed but whose hash did not (a forgotten hash after a version
//! bump) fetches the new URL and fails on the hash, instead of building the
//! old file under the new version. Files of the local source directories
//! have no URL and stay matched by hash alone.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::errors::UpstreamError;
use super::local::SourceDirs;
use super::model::Upstream;
use super::origins::Origins;
use super::verify::{self, HashingWriter};
use super::{extract, fetch_file, git};
use moss_core::util::map_ordered;

/// How many upstreams are fetched at once (as the original boulder does).
const PARALLEL_FETCHES: usize = 8;

/// The upstream store under a boulder cache directory.
#[derive(Debug, Clone)]
pub struct UpstreamCache {
    root: PathBuf,
    /// Where files are looked for by hash before any download.
    sources: SourceDirs,
    /// Relative upstream paths (`./x.tar.gz`) are relative to this (the
    /// recipe's directory); `None` leaves them to the current directory.
    base: Option<PathBuf>,
}

/// An upstream that is present and verified in the cache.
#[derive(Debug, Clone)]
pub struct Fetched {
    upstream: Upstream,
    path: PathBuf,
    commit: Option<String>,
    from_cache: bool,
}

impl UpstreamCache {
    /// The store lives in `<cache_dir>/upstreams/{fetched,git}`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        UpstreamCache {
            root: cache_dir.into().join("upstreams"),
            sources: SourceDirs::default(),
            base: None,
        }
    }

    /// Use files of these directories whose sha256 an upstream asks for.
    pub fn with_sources(mut self, sources: SourceDirs) -> Self {
        self.sources = sources;
        self
    }

    /// Resolve relative upstream paths against `dir` (the recipe's directory).
    pub fn with_base(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base = Some(dir.into());
        self
    }

    /// Directory of verified archives: `<sha256>/<name>` below it.
    pub fn fetched_dir(&self) -> PathBuf {
        self.root.join("fetched")
    }

    /// The URLs each archive entry was fetched from.
    fn origins(&self) -> Origins {
        Origins::new(self.origins_dir())
    }

    /// Directory of the origin lists: `<sha256>` holds the URLs that entry
    /// was fetched from.
    pub(crate) fn origins_dir(&self) -> PathBuf {
        self.root.join("origins")
    }

    /// Directory of bare git mirrors.
    pub fn git_dir(&self) -> PathBuf {
        self.root.join("git")
    }

    /// Fetch every upstream, at most eight at a time, in recipe order.
    /// When several fail, the error lists each of them.
    pub fn fetch_all(&self, upstreams: &[Upstream]) -> Result<Vec<Fetched>, UpstreamError> {
        // Upstreams sharing a cache entry (same hash, or same git URL) must
        // not race on it: fetch the first of each in parallel, then the
        // others, which find the entry ready.
        let mut seen = std::collections::HashSet::new();
        let (first, rest): (Vec<usize>, Vec<usize>) =
            (0..upstreams.len()).partition(|&i| seen.insert(cache_key(&upstreams[i])));
        let mut results: Vec<Option<Result<Fetched, UpstreamError>>> =
            upstreams.iter().map(|_| None).collect();
        let fetch_index = |&i: &usize| (i, self.fetch_with(&upstreams[i]));
        for (i, result) in map_ordered(&first, PARALLEL_FETCHES, fetch_index) {
            results[i] = Some(result);
        }
        for (i, result) in rest.iter().map(fetch_index) {
            results[i] = Some(result);
        }
        let mut fetched = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        for result in results.into_iter().flatten() {
            match result {
                Ok(f) => fetched.push(f),
                Err(e) => errors.push(e),
            }
        }
        match UpstreamError::combine(errors) {
            Some(error) => Err(error),
            None => Ok(fetched),
        }
    }

    /// Fetch one upstream (or reuse its verified cache entry).
    pub fn fetch(&self, upstream: &Upstream) -> Result<Fetched, UpstreamError> {
        self.fetch_with(upstream)
    }

    fn fetch_with(&self, up: &Upstream) -> Result<Fetched, UpstreamError> {
        match up {
            Upstream::Archive { url, hash, .. } => {
                let (path, from_cache) = self.fetch_archive(url, hash, &up.name()?)?;
                Ok(Fetched {
                    upstream: up.clone(),
                    path,
                    commit: None,
                    from_cache,
                })
            }
            Upstream::Git { url, git_ref, .. } => {
                // A local mirror stands in for the remote (under its own cache entry).
                let local = self
                    .sources
                    .git_mirror(url)
                    .map(|p| format!("file://{}", p.display()));
                let from = local.as_deref().unwrap_or(url);
                let mirror = git::Mirror::update(&self.git_dir(), from, git_ref)?;
                Ok(Fetched {
                    upstream: up.clone(),
                    path: mirror.path,
                    commit: Some(mirror.commit),
                    from_cache: mirror.from_cache,
                })
            }
        }
    }

    /// Returns the cached file and whether it was already there.
    fn fetch_archive(
        &self,
        url: &str,
        hash: &str,
        name: &str,
    ) -> Result<(PathBuf, bool), UpstreamError> {
        let expected = verify::expected_hash(url, hash)?;
        let entry_dir = self.fetched_dir().join(&expected);
        let target = entry_dir.join(name);
        let origins = self.origins();
        let known_urls = origins.urls(&expected);
        let local = self.sources.find_hash(&expected).map(Path::to_path_buf);
        // The local source directories are matched by hash alone (their
        // files have no URL); the cache only for a URL the entry came from.
        let reusable = local.is_some() || known_urls.iter().any(|known| known == url);
        if reusable && reuse_entry(&entry_dir, &target, &expected)? {
            return Ok((target, true));
        }

        let from_source_dir = local.is_some();
        let download = self.download(url, local)?;
        if download.hash != expected {
            // The recipe's hash is the one of a file fetched before from
            // another URL: the hash, not the download, is what is stale.
            if let Some(previous) = known_urls.iter().find(|known| *known != url) {
                return Err(UpstreamError::StaleHash {
                    url: url.to_string(),
                    expected,
                    actual: download.hash,
                    previous_url: previous.clone(),
                    hash_at: None,
                });
            }
        }
        verify::check(url, &expected, &download.hash)?;
        let target = self.keep(download, url, name, !from_source_dir)?;
        Ok((target, false))
    }

    /// Fetch `url` whatever it holds, for a recipe being written or updated:
    /// the file is kept in the cache under its sha256 (so the next build
    /// reuses it) as `name`, and the path and sha256 are returned.
    pub fn fetch_any(&self, url: &str, name: &str) -> Result<(PathBuf, String), UpstreamError> {
        let download = self.download(url, None)?;
        let hash = download.hash.clone();
        let target = self.keep(download, url, name, true)?;
        Ok((target, hash))
    }

    /// Download `url` (or read `local`, a file of a source directory) into a
    /// partial file beside the entries, hashing it on the way.
    fn download(&self, url: &str, local: Option<PathBuf>) -> Result<Download, UpstreamError> {
        let fetched_dir = self.fetched_dir();
        fs::create_dir_all(&fetched_dir).map_err(io_error(url, "create", &fetched_dir))?;
        sweep_stale_parts(&fetched_dir);
        // The partial download lives beside the entries (same filesystem, so
        // the final rename is atomic) and is deleted on drop if anything fails.
        let part = tempfile::Builder::new()
            .prefix(".")
            .suffix(".part")
            .tempfile_in(&fetched_dir)
            .map_err(io_error(url, "create a partial download in", &fetched_dir))?;
        let part_path = part.path().to_path_buf();

        let mut reader: Box<dyn Read + Send> = match local.or_else(|| fetch_file::local_path(url)) {
            Some(path) => {
                let path = match &self.base {
                    Some(base) if path.is_relative() => base.join(path),
                    _ => path,
                };
                Box::new(fetch_file::open(url, &path)?)
            }
            None if url.starts_with("http://") || url.starts_with("https://") => open_http(url)?,
            None => {
                let scheme = url.split("://").next().unwrap_or(url).to_string();
                return Err(UpstreamError::UnsupportedScheme {
                    url: url.to_string(),
                    scheme,
                });
            }
        };
        let mut writer = HashingWriter::new(part.as_file());
        copy_stream(url, &mut reader, &mut writer, &part_path)?;
        let (_, hash) = writer.finish();
        Ok(Download { part, hash })
    }

    /// Move a verified download into its entry `fetched/<sha256>/<name>`,
    /// recording `url` as an origin of the entry when `record` is set.
    fn keep(
        &self,
        download: Download,
        url: &str,
        name: &str,
        record: bool,
    ) -> Result<PathBuf, UpstreamError> {
        let Download { part, hash } = download;
        let part_path = part.path().to_path_buf();
        let file = part.as_file();
        file.sync_all()
            .map_err(io_error(url, "write", &part_path))?;
        file.set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(io_error(url, "set permissions of", &part_path))?;
        let entry_dir = self.fetched_dir().join(&hash);
        let target = entry_dir.join(name);
        fs::create_dir_all(&entry_dir).map_err(io_error(url, "create", &entry_dir))?;
        part.persist(&target)
            .map_err(|e| io_error(url, "move the download to", &target)(e.error))?;
        if record {
            self.origins().record(&hash, url).map_err(io_error(
                url,
                "record the origin of",
                &target,
            ))?;
        }
        Ok(target)
    }
}

/// Starts an `http(s)://` download with the process's one HTTP agent
/// (moss-core's, shared with package downloads), counted for the progress
/// listener.
fn open_http(url: &str) -> Result<Box<dyn Read + Send>, UpstreamError> {
    use moss_core::fetch::FetchError;
    match moss_core::fetch::http_get(url) {
        Ok(body) => Ok(super::progress::watched(url, body.length, body.reader)),
        Err(FetchError::HttpStatus { status, .. }) => Err(UpstreamError::HttpStatus {
            url: url.to_string(),
            status,
        }),
        Err(other) => Err(UpstreamError::Download {
            url: url.to_string(),
            reason: match other {
                FetchError::Unreachable { reason, .. } => reason,
                other => other.to_string(),
            },
        }),
    }
}

/// A complete download not yet in its cache entry.
struct Download {
    part: tempfile::NamedTempFile,
    hash: String,
}

fn io_error<'a>(
    url: &'a str,
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> UpstreamError + 'a {
    move |error| UpstreamError::Io {
        url: url.to_string(),
        action,
        path: path.to_path_buf(),
        error,
    }
}

/// What two upstreams share in the cache, if anything.
fn cache_key(up: &Upstream) -> String {
    match up {
        Upstream::Archive { hash, .. } => format!("sha256:{}", hash.trim().to_ascii_lowercase()),
        Upstream::Git { url, .. } => format!("git:{url}"),
    }
}

/// Reuse `target` if it verifies, or a verified sibling with the same content
/// under another name. A corrupt entry is removed so it gets fetched again.
fn reuse_entry(dir: &Path, target: &Path, expected: &str) -> Result<bool, UpstreamError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(false);
    };
    let mut candidates: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    // Look at the exact name first.
    candidates.sort_by_key(|p| p != target);
    for candidate in candidates {
        if !candidate.is_file() {
            continue;
        }
        match verify::hash_file(&candidate) {
            Ok(actual) if actual == expected => {
                if candidate == target {
                    return Ok(true);
                }
                if fs::hard_link(&candidate, target).is_ok() || fs::copy(&candidate, target).is_ok()
                {
                    return Ok(true);
                }
            }
            // Damaged or unreadable: drop it; a failed removal shows up later
            // as an error when the fresh download is moved into place.
            _ => {
                let _ = fs::remove_file(&candidate);
            }
        }
    }
    Ok(false)
}

/// Partial downloads are removed when a fetch fails; only a killed boulder
/// leaves one. Remove those a day old (no live download takes that long
/// without writing).
fn sweep_stale_parts(dir: &Path) {
    const STALE: Duration = Duration::from_secs(24 * 60 * 60);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_part =
            name.to_string_lossy().starts_with('.') && name.to_string_lossy().ends_with(".part");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE));
        if is_part && old {
            // Best effort: a file we cannot remove is harmless.
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Copy the download into the partial file, telling read and write apart.
fn copy_stream(
    url: &str,
    reader: &mut dyn Read,
    writer: &mut impl Write,
    part: &Path,
) -> Result<(), UpstreamError> {
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => {
                return writer
                    .flush()
                    .map_err(|error| write_error(url, part, error))
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(UpstreamError::Download {
                    url: url.to_string(),
                    reason: e.to_string(),
                })
            }
        };
        writer
            .write_all(&buf[..n])
            .map_err(|error| write_error(url, part, error))?;
    }
}

fn write_error(url: &str, part: &Path, error: std::io::Error) -> UpstreamError {
    UpstreamError::Io {
        url: url.to_string(),
        action: "write",
        path: part.to_path_buf(),
        error,
    }
}

impl Fetched {
    /// The upstream this came from.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The verified file in the cache, or the git mirror.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For git: the full commit id the ref resolved to.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }

    /// True when nothing had to be downloaded.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// Place the upstream in `build_dir`: unpack an archive into its
    /// `unpackdir`, copy a non-unpacked file as `<build_dir>/<name>`, or
    /// check out the git commit into its `clonedir`. Returns the path made.
    pub fn extract_into(&self, build_dir: &Path) -> Result<PathBuf, UpstreamError> {
        let url = self.upstream.url();
        match &self.upstream {
            Upstream::Archive { unpack: false, .. } => {
                let dest = build_dir.join(self.upstream.name()?);
                extract::copy_file(url, &self.path, &dest)?;
                Ok(dest)
            }
            Upstream::Archive { stripdirs, .. } => {
                let dest = build_dir.join(self.upstream.target_dir()?);
                let name = self.upstream.name()?;
                extract::unpack(url, &self.path, &name, &dest, stripdirs.unwrap_or(1))?;
                Ok(dest)
            }
            Upstream::Git { .. } => {
                let dest = build_dir.join(self.upstream.target_dir()?);
                let commit = self.commit.as_deref().unwrap_or_default();
                git::checkout(url, &self.path, commit, &dest)?;
                Ok(dest)
            }
        }
    }
}
