//! Writes the `/usr` tree of a Binary stone into a folder, safely: every
//! layout path is checked before anything is written, parents are created
//! one component at a time and must be real directories (never a symlink,
//! e.g. one an earlier entry created), and nothing is opened through an
//! existing final component.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{symlink, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::content::ContentSink;
use super::error::{Result, StoneError};
use super::index::IndexEntry;
use super::layout::{LayoutEntry, LayoutKind};
use super::path::check_layout_path;
use super::reader::StoneReader;

/// What an extraction wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub regular: usize,
    pub symlinks: usize,
    pub directories: usize,
    /// Devices, fifos and sockets.
    pub special: usize,
}

/// Extracts the layout of `reader` into `usr_dir` (the folder that stands for
/// `/usr`; created if missing). Owners are not changed; modes are applied in
/// full (directory modes last, so read-only directories can be filled).
/// Contents are first unpacked, verified, into a sibling folder
/// `<usr_dir>.stone-content` that is removed afterwards.
pub fn extract<R: Read + Seek>(
    reader: &mut StoneReader<R>,
    usr_dir: &Path,
) -> Result<ExtractStats> {
    let layout = reader.layout().to_vec();
    for entry in &layout {
        check_layout_path(&entry.path)?;
    }
    // How often each digest is used: the last use may move the staged file.
    let mut uses: HashMap<u128, usize> = HashMap::new();
    for entry in &layout {
        if let LayoutKind::Regular { digest } = entry.kind {
            *uses.entry(digest).or_default() += 1;
        }
    }
    for entry in &layout {
        if let LayoutKind::Regular { digest } = entry.kind {
            if !reader.index().iter().any(|i| i.digest == digest) {
                return Err(StoneError::MissingContent {
                    path: entry.path.clone(),
                    digest,
                });
            }
        }
    }
    fs::create_dir_all(usr_dir).map_err(|e| fail(usr_dir, e))?;
    let mut staging_name = OsString::from(usr_dir.as_os_str());
    staging_name.push(".stone-content");
    let staging = PathBuf::from(staging_name);
    if fs::symlink_metadata(&staging).is_ok() {
        fs::remove_dir_all(&staging).map_err(|e| fail(&staging, e))?;
    }
    fs::create_dir(&staging).map_err(|e| fail(&staging, e))?;
    let result = extract_staged(reader, usr_dir, &staging, &layout, &mut uses);
    let cleanup = fs::remove_dir_all(&staging);
    let stats = result?;
    cleanup.map_err(|e| fail(&staging, e))?;
    Ok(stats)
}

fn extract_staged<R: Read + Seek>(
    reader: &mut StoneReader<R>,
    usr_dir: &Path,
    staging: &Path,
    layout: &[LayoutEntry],
    uses: &mut HashMap<u128, usize>,
) -> Result<ExtractStats> {
    // The mode of each digest's last use: the writer thread applies it to the
    // staged file, so the final rename needs no chmod on this thread. Only
    // modes the owner can read are applied early (earlier uses copy from it).
    let mut modes: HashMap<u128, u32> = HashMap::new();
    for entry in layout {
        if let LayoutKind::Regular { digest } = entry.kind {
            modes.insert(digest, entry.mode & 0o7777);
        }
    }
    // Set-id bits would be dropped by the writes that follow, so those wait.
    modes.retain(|_, mode| *mode & 0o400 != 0 && *mode & 0o6000 == 0);
    let (jobs, queue) = sync_channel(16);
    let unpacked = std::thread::scope(|scope| {
        let writer = scope.spawn(move || run_writer(queue));
        let mut sink = StagingSink {
            dir: staging.to_path_buf(),
            jobs,
            modes: &modes,
        };
        let unpacked = reader.unpack_content(&mut sink);
        drop(sink);
        let written = writer.join().unwrap_or_else(|_| {
            Err(StoneError::Extract {
                path: staging.to_path_buf(),
                reason: "the staging writer panicked".into(),
            })
        });
        // A writer error explains a failed send better than the send does.
        written.and(unpacked)
    });
    unpacked?;
    let mut stats = ExtractStats::default();
    let mut directories = Vec::new();
    // Directories this extraction made or checked: they stay directories (a
    // later non-directory entry at such a path is refused), so their parents
    // need no second look. Saves a `stat` per path component per entry.
    let mut known: HashSet<PathBuf> = HashSet::new();
    for entry in layout {
        let path = prepare_parents(usr_dir, &entry.path, &mut known)?;
        let is_dir = matches!(entry.kind, LayoutKind::Directory);
        let renamed_in_place = matches!(entry.kind, LayoutKind::Regular { digest }
            if uses.get(&digest) == Some(&1));
        // A rename replaces a file or symlink by itself and fails on a
        // directory; every other kind of entry needs the slot cleared.
        let known_dir = is_dir && known.contains(&path);
        if !(renamed_in_place || known_dir) {
            clear_slot(&path, is_dir)?;
        }
        let perms = Permissions::from_mode(entry.mode & 0o7777);
        match &entry.kind {
            LayoutKind::Regular { digest } => {
                let staged = staging.join(format!("{digest:032x}"));
                let left = uses.get_mut(digest).map_or(0, |n| {
                    *n -= 1;
                    *n
                });
                if left == 0 {
                    if fs::rename(&staged, &path).is_err() {
                        // Explain (a directory in the way) or clear, then retry.
                        clear_slot(&path, false)?;
                        fs::rename(&staged, &path).map_err(|e| fail(&path, e))?;
                    }
                    if !modes.contains_key(digest) {
                        fs::set_permissions(&path, perms).map_err(|e| fail(&path, e))?;
                    }
                } else {
                    copy_new(&staged, &path, perms)?;
                }
                stats.regular += 1;
            }
            LayoutKind::Symlink { target } => {
                symlink(target, &path).map_err(|e| fail(&path, e))?;
                stats.symlinks += 1;
            }
            LayoutKind::Directory => {
                if !known.contains(&path) && fs::symlink_metadata(&path).is_err() {
                    fs::create_dir(&path).map_err(|e| fail(&path, e))?;
                }
                known.insert(path.clone());
                directories.push((path, perms));
                stats.directories += 1;
            }
            LayoutKind::CharDevice
            | LayoutKind::BlockDevice
            | LayoutKind::Fifo
            | LayoutKind::Socket => {
                make_node(&path, &entry.kind, entry.mode)?;
                stats.special += 1;
            }
            LayoutKind::Unknown { file_type, .. } => {
                return Err(StoneError::Extract {
                    path,
                    reason: format!("unknown layout file type {file_type}"),
                })
            }
        }
    }
    // Deepest first, so a read-only parent does not block its children.
    directories.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
    for (path, perms) in directories {
        fs::set_permissions(&path, perms).map_err(|e| fail(&path, e))?;
    }
    Ok(stats)
}

fn fail(path: &Path, e: io::Error) -> StoneError {
    StoneError::Extract {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Creates the missing parents of `relative` below `root`, refusing any
/// parent that exists but is not a real directory (a symlink included).
fn prepare_parents(root: &Path, relative: &str, known: &mut HashSet<PathBuf>) -> Result<PathBuf> {
    let mut current = root.to_path_buf();
    let mut components = relative.split('/').peekable();
    while let Some(component) = components.next() {
        current.push(component);
        if components.peek().is_none() {
            break;
        }
        if known.contains(&current) {
            continue;
        }
        known.insert(current.clone());
        match fs::symlink_metadata(&current) {
            Ok(md) if md.file_type().is_dir() => {}
            Ok(_) => return Err(StoneError::Extract {
                path: current,
                reason:
                    "a parent of a layout entry is not a directory (symlinks are never followed)"
                        .into(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir(&current).map_err(|e| fail(&current, e))?;
            }
            Err(e) => return Err(fail(&current, e)),
        }
    }
    Ok(current)
}

/// Removes a non-directory already at `path` (a later entry replaces an
/// earlier one); a directory may only stay for a directory entry.
fn clear_slot(path: &Path, for_directory: bool) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_dir() => {
            if for_directory {
                Ok(())
            } else {
                Err(StoneError::Extract {
                    path: path.to_path_buf(),
                    reason: "a directory is in the way".into(),
                })
            }
        }
        Ok(_) => fs::remove_file(path).map_err(|e| fail(path, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(fail(path, e)),
    }
}

/// Copies a staged file to a path that must not exist yet (`O_EXCL` never
/// follows a symlink).
fn copy_new(from: &Path, to: &Path, perms: Permissions) -> Result<()> {
    let mut src = File::open(from).map_err(|e| fail(from, e))?;
    let mut dst = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|e| fail(to, e))?;
    io::copy(&mut src, &mut dst).map_err(|e| fail(to, e))?;
    dst.set_permissions(perms).map_err(|e| fail(to, e))
}

fn make_node(path: &Path, kind: &LayoutKind, mode: u32) -> Result<()> {
    use nix::sys::stat::{mknod, Mode, SFlag};
    let flag = match kind {
        LayoutKind::CharDevice => SFlag::S_IFCHR,
        LayoutKind::BlockDevice => SFlag::S_IFBLK,
        LayoutKind::Fifo => SFlag::S_IFIFO,
        _ => SFlag::S_IFSOCK,
    };
    // The layout carries no device numbers; devices get 0:0.
    mknod(path, flag, Mode::from_bits_truncate(mode & 0o7777), 0)
        .map_err(|e| fail(path, io::Error::from(e)))?;
    fs::set_permissions(path, Permissions::from_mode(mode & 0o7777)).map_err(|e| fail(path, e))
}

/// Work for the staging writer thread.
enum Job {
    /// A staged file to create, with the mode to give it.
    Open(PathBuf, Option<u32>),
    Data(Vec<u8>),
    Close,
}

/// Hands each unique content to a writer thread that stores it as
/// `<dir>/<digest>`: decompression and file writing then run on two CPUs,
/// as they do with `tar -I zstd`. The channel is bounded, so at most a few
/// MiB are in flight.
struct StagingSink<'a> {
    dir: PathBuf,
    jobs: SyncSender<Job>,
    modes: &'a HashMap<u128, u32>,
}

/// The write side of one staged file.
struct StagedFile {
    jobs: SyncSender<Job>,
}

fn writer_gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the staging writer stopped")
}

impl Write for StagedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.jobs
            .send(Job::Data(buf.to_vec()))
            .map_err(|_| writer_gone())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ContentSink for StagingSink<'_> {
    type Output = StagedFile;

    fn open(&mut self, entry: &IndexEntry) -> io::Result<Option<StagedFile>> {
        let path = self.dir.join(format!("{:032x}", entry.digest));
        let mode = self.modes.get(&entry.digest).copied();
        self.jobs
            .send(Job::Open(path, mode))
            .map_err(|_| writer_gone())?;
        Ok(Some(StagedFile {
            jobs: self.jobs.clone(),
        }))
    }

    fn commit(&mut self, _entry: &IndexEntry, _output: StagedFile) -> io::Result<()> {
        self.jobs.send(Job::Close).map_err(|_| writer_gone())
    }
}

/// The writer thread: creates each staged file (never over an existing
/// path) and writes its chunks; stops at the first error and returns it.
fn run_writer(jobs: Receiver<Job>) -> Result<()> {
    let mut current: Option<(PathBuf, File)> = None;
    for job in jobs {
        match job {
            Job::Open(path, mode) => {
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| fail(&path, e))?;
                if let Some(mode) = mode {
                    file.set_permissions(Permissions::from_mode(mode))
                        .map_err(|e| fail(&path, e))?;
                }
                current = Some((path, file));
            }
            Job::Data(bytes) => {
                if let Some((path, file)) = current.as_mut() {
                    file.write_all(&bytes).map_err(|e| fail(path, e))?;
                }
            }
            Job::Close => current = None,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stone::{Content, Meta, StoneWriter, WriteOptions};
    use std::os::unix::fs::MetadataExt;

    fn regular(path: &str, mode: u32, body: &[u8]) -> LayoutEntry {
        LayoutEntry {
            uid: 0,
            gid: 0,
            mode: 0o100000 | mode,
            tag: 0,
            kind: LayoutKind::Regular {
                digest: xxhash_rust::xxh3::xxh3_128(body),
            },
            path: path.into(),
        }
    }

    /// One content under several modes (set-id and owner-unreadable ones
    /// included), and a later entry replacing an earlier one at one path.
    #[test]
    fn shared_contents_keep_each_mode_and_later_entries_win() {
        let layout = vec![
            regular("bin/a", 0o4755, b"same"),
            regular("bin/b", 0o200, b"same"),
            regular("bin/c", 0o644, b"same"),
            regular("bin/c", 0o600, b"other"),
            LayoutEntry {
                uid: 0,
                gid: 0,
                mode: 0o120777,
                tag: 0,
                kind: LayoutKind::Symlink { target: "a".into() },
                path: "bin/b".into(),
            },
            regular("lib/deep/er/x", 0o444, b"x"),
        ];
        let contents = vec![
            Content::from_bytes(b"same".to_vec()),
            Content::from_bytes(b"other".to_vec()),
            Content::from_bytes(b"x".to_vec()),
        ];
        let meta = Meta {
            name: "t".into(),
            ..Meta::default()
        };
        let stone = StoneWriter::new(WriteOptions::default())
            .write_binary(io::Cursor::new(Vec::new()), &meta, &layout, contents)
            .unwrap()
            .into_inner();
        let dir = tempfile::tempdir().unwrap();
        let usr = dir.path().join("usr");
        let mut reader = StoneReader::new(io::Cursor::new(stone)).unwrap();
        extract(&mut reader, &usr).unwrap();
        let mode = |p: &str| fs::symlink_metadata(usr.join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode("bin/a"), 0o4755);
        assert_eq!(fs::read(usr.join("bin/a")).unwrap(), b"same");
        assert_eq!(fs::read_link(usr.join("bin/b")).unwrap(), Path::new("a"));
        assert_eq!(mode("bin/c"), 0o600);
        assert_eq!(fs::read(usr.join("bin/c")).unwrap(), b"other");
        assert_eq!(mode("lib/deep/er/x"), 0o444);
    }
}
