//! The content store: one file per unique content, named by its xxh3-128
//! digest (lowercase hex without leading zeros, sharded `2/2/2` when the name
//! has at least 10 characters — the original moss's naming).
//!
//! Assets are written to a temporary name and renamed into place (never over
//! an asset that is already there: `publish`), so a crash never leaves
//! a half-written asset under a digest name; every asset is
//! verified against its digest before it is stored. All assets have one
//! canonical mode, [`STORE_MODE`]; the tree never changes it.

mod fanout;
mod parallel;
mod publish;
mod sink;
mod variants;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

pub use parallel::{unpack_into, UnpackCounts};
pub use sink::{AssetWriter, StoreSink};
pub use variants::ModeVariants;

/// The mode of every asset in the store: read-only, the mode of a plain
/// file in a tree (trees strip write bits, see [`crate::tree::WRITE_BITS`]),
/// so that most files are hardlinks of the store's own inode.
pub const STORE_MODE: u32 = 0o444;

/// xxh3-128 digest of a file's content.
pub type Digest = u128;

/// Errors of the content store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("content for asset {expected:032x} hashes to {actual:032x}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("store I/O on {path} failed")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What [`Store::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Written,
    AlreadyPresent,
}

/// Hash content the way layouts and the index name it.
pub fn digest_of(bytes: &[u8]) -> Digest {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// The asset's path relative to the store directory.
pub fn relative_path(digest: Digest) -> PathBuf {
    let name = format!("{digest:x}");
    if name.len() >= 10 {
        [&name[0..2], &name[2..4], &name[4..6], &name[..]]
            .iter()
            .collect()
    } else {
        PathBuf::from(name)
    }
}

/// The content store at one directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    /// Whether this process created the [`WRITING_MARKER`].
    writing: Arc<AtomicBool>,
    /// Unpacks of this process in progress (several stones are cached at once).
    sessions: Arc<AtomicUsize>,
    /// The store directory, opened once it exists; assets are written below it.
    fd: Arc<OnceLock<OwnedFd>>,
    /// The fan-out directories known to exist.
    fanout: Arc<fanout::FanOut>,
    /// How new assets get their temporary file (see [`sink`]).
    temporaries: Arc<sink::Temporaries>,
}

/// A file in the store directory that exists while temporaries may exist:
/// created before the first temporary file, removed once a caching finished.
/// Opening a root walks the whole store for leftovers only when it is there,
/// instead of on every transaction.
pub const WRITING_MARKER: &str = ".writing";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Store {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            writing: Arc::new(AtomicBool::new(false)),
            sessions: Arc::new(AtomicUsize::new(0)),
            fd: Arc::new(OnceLock::new()),
            fanout: Arc::new(fanout::FanOut::default()),
            temporaries: Arc::new(sink::Temporaries::probe()),
        }
    }

    /// The store directory's descriptor; the directory must exist (see
    /// [`Store::mark_writing`]).
    fn dir_fd(&self) -> io::Result<BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        if self.fd.get().is_none() {
            let dir = File::open(&self.dir)?;
            if !dir.metadata()?.is_dir() {
                return Err(io::ErrorKind::NotADirectory.into());
            }
            // Another thread may have opened it meanwhile: one stays.
            let _ = self.fd.set(OwnedFd::from(dir));
        }
        self.fd
            .get()
            .map(|fd| fd.as_fd())
            .ok_or_else(|| io::ErrorKind::NotFound.into())
    }

    /// Starts an unpack: marks the store; the marker stays until the last
    /// unpack of this process calls [`Store::finish_writing`].
    pub fn begin_writing(&self) -> io::Result<()> {
        self.sessions.fetch_add(1, Ordering::AcqRel);
        self.mark_writing()
    }

    /// Records that temporaries may appear (before the first one is made).
    pub fn mark_writing(&self) -> io::Result<()> {
        if !self.writing.load(Ordering::Acquire) {
            fs::create_dir_all(&self.dir)?;
            File::create(self.dir.join(WRITING_MARKER))?;
            self.writing.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Records that no temporaries are left (every writer committed or was dropped).
    pub fn finish_writing(&self) -> io::Result<()> {
        let before = self
            .sessions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_sub(1))
            })
            .unwrap_or(0);
        if before > 1 {
            return Ok(()); // another unpack still writes
        }
        if self.writing.swap(false, Ordering::AcqRel) {
            match fs::remove_file(self.dir.join(WRITING_MARKER)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes the temporaries an interrupted writer left behind, if the
    /// marker says there may be some. Returns how many were removed.
    pub fn recover_temporaries(&self) -> Result<usize, StoreError> {
        let marker = self.dir.join(WRITING_MARKER);
        if fs::symlink_metadata(&marker).is_err() {
            return Ok(0);
        }
        let removed = self.clean_temporaries()?;
        match fs::remove_file(&marker) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&marker)(e)),
            _ => Ok(removed),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, digest: Digest) -> PathBuf {
        self.dir.join(relative_path(digest))
    }

    pub fn contains(&self, digest: Digest) -> bool {
        self.path(digest).is_file()
    }

    /// Stores `bytes` under `digest` after checking that they hash to it.
    /// An asset that is already present is left alone.
    pub fn insert(&self, digest: Digest, bytes: &[u8]) -> Result<Inserted, StoreError> {
        let actual = digest_of(bytes);
        if actual != digest {
            return Err(StoreError::DigestMismatch {
                expected: digest,
                actual,
            });
        }
        let Some(mut writer) = self.begin(digest).map_err(io_err(&self.dir))? else {
            return Ok(Inserted::AlreadyPresent);
        };
        let path = self.path(digest);
        writer.write_all(bytes).map_err(io_err(&path))?;
        writer.commit().map_err(io_err(&path))?;
        Ok(Inserted::Written)
    }

    /// Re-hashes one asset. `Ok(false)` when it is missing or its content is wrong.
    pub fn verify(&self, digest: Digest) -> Result<bool, StoreError> {
        let path = self.path(digest);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(io_err(&path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hasher.digest128() == digest)
    }

    /// Deletes one asset; returns the bytes freed (0 when it was absent).
    pub fn remove(&self, digest: Digest) -> Result<u64, StoreError> {
        let path = self.path(digest);
        let size = match fs::symlink_metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io_err(&path)(e)),
        };
        fs::remove_file(&path).map_err(io_err(&path))?;
        // Drop now-empty shard directories; failure just means they are not empty.
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.dir || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(size)
    }

    /// Every asset in the store with its size. Temporary files are not listed.
    pub fn list(&self) -> Result<Vec<(Digest, u64)>, StoreError> {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(1) {
            let entry = entry.map_err(|e| StoreError::Io {
                path: self.dir.clone(),
                source: e.into(),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if let Ok(digest) = Digest::from_str_radix(&name, 16) {
                if self.path(digest) == entry.path() {
                    let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                    out.push((digest, size));
                }
            }
        }
        Ok(out)
    }

    /// Removes temporary files a killed writer left behind.
    pub fn clean_temporaries(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in walkdir::WalkDir::new(&self.dir).min_depth(1) {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_string_lossy();
            if entry.file_type().is_file() && name.starts_with('.') && name.ends_with(".tmp") {
                fs::remove_file(entry.path()).map_err(io_err(entry.path()))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn naming_matches_the_original_store() {
        let d: Digest = 0x99aa06d3014798d86001c324468d497f;
        assert_eq!(
            relative_path(d),
            PathBuf::from("99/aa/06/99aa06d3014798d86001c324468d497f")
        );
        assert_eq!(relative_path(0xabc), PathBuf::from("abc"));
        assert_eq!(
            relative_path(0x12_3456_789a),
            PathBuf::from("12/34/56/123456789a")
        );
        assert_eq!(relative_path(0x1_2345_6789), PathBuf::from("123456789"));
    }

    #[test]
    fn anonymous_temporaries_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("v2"));
        let mut left = store.begin(0xabcdef0123456789).unwrap().unwrap();
        left.write_all(b"half").unwrap();
        std::mem::forget(left); // as a killed writer would leave it
        assert_eq!(store.clean_temporaries().unwrap(), 0);
        assert!(store.list().unwrap().is_empty());
        let body = b"whole";
        let mut writer = store.begin(digest_of(body)).unwrap().unwrap();
        writer.write_all(body).unwrap();
        writer.commit().unwrap();
        assert_eq!(fs::read(store.path(digest_of(body))).unwrap(), body);
    }

    #[test]
    fn temporaries_are_cleaned_only_when_marked() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::new(dir.path().join("v2"));
        store.temporaries = Arc::new(sink::Temporaries::named());
        let left = store.begin(0xabcdef0123456789).unwrap().unwrap();
        assert!(store.dir().join(WRITING_MARKER).exists());
        std::mem::forget(left); // as a killed writer would leave it
        assert_eq!(
            Store::new(store.dir().to_path_buf())
                .recover_temporaries()
                .unwrap(),
            1
        );
        assert!(!store.dir().join(WRITING_MARKER).exists());
        // A finished caching removes the marker, so nothing is walked.
        let store = Store::new(store.dir().to_path_buf());
        store.insert(digest_of(b"x"), b"x").unwrap();
        assert!(store.dir().join(WRITING_MARKER).exists());
        store.finish_writing().unwrap();
        assert!(!store.dir().join(WRITING_MARKER).exists());
        assert_eq!(store.recover_temporaries().unwrap(), 0);
    }

    #[test]
    fn insert_verifies_and_skips_existing() {
        for named in [false, true] {
            insert_verifies_and_skips_existing_with(named);
        }
    }

    fn insert_verifies_and_skips_existing_with(named: bool) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::new(dir.path().join("v2"));
        if named {
            store.temporaries = Arc::new(sink::Temporaries::named());
        }
        let body = b"hello";
        let d = digest_of(body);
        assert!(matches!(
            store.insert(d ^ 1, body),
            Err(StoreError::DigestMismatch { .. })
        ));
        assert_eq!(store.insert(d, body).unwrap(), Inserted::Written);
        assert_eq!(store.insert(d, body).unwrap(), Inserted::AlreadyPresent);
        assert!(store.verify(d).unwrap());
        let mode = fs::metadata(store.path(d)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, STORE_MODE);
        assert_eq!(store.list().unwrap(), vec![(d, 5)]);
        fs::set_permissions(store.path(d), fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(store.path(d), b"evil!").unwrap();
        assert!(!store.verify(d).unwrap());
        assert_eq!(store.remove(d).unwrap(), 5);
        assert!(store.list().unwrap().is_empty());
    }
}
