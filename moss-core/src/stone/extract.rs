//! Writes the `/usr` tree of a Binary stone into a folder, safely: every
//! layout path is checked before anything is written, parents are created
//! one component at a time and must be real directories (never a symlink,
//! e.g. one an earlier entry created), and nothing is opened through an
//! existing final component.

use std::collections::HashMap;
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
    let (jobs, queue) = sync_channel(16);
    let unpacked = std::thread::scope(|scope| {
        let writer = scope.spawn(move || run_writer(queue));
        let mut sink = StagingSink {
            dir: staging.to_path_buf(),
            jobs,
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
    for entry in layout {
        let path = prepare_parents(usr_dir, &entry.path)?;
        let is_dir = matches!(entry.kind, LayoutKind::Directory);
        clear_slot(&path, is_dir)?;
        let perms = Permissions::from_mode(entry.mode & 0o7777);
        match &entry.kind {
            LayoutKind::Regular { digest } => {
                let staged = staging.join(format!("{digest:032x}"));
                let left = uses.get_mut(digest).map_or(0, |n| {
                    *n -= 1;
                    *n
                });
                if left == 0 {
                    fs::rename(&staged, &path).map_err(|e| fail(&path, e))?;
                    fs::set_permissions(&path, perms).map_err(|e| fail(&path, e))?;
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
                if fs::symlink_metadata(&path).is_err() {
                    fs::create_dir(&path).map_err(|e| fail(&path, e))?;
                }
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
fn prepare_parents(root: &Path, relative: &str) -> Result<PathBuf> {
    let mut current = root.to_path_buf();
    let mut components = relative.split('/').peekable();
    while let Some(component) = components.next() {
        current.push(component);
        if components.peek().is_none() {
            break;
        }
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
    Open(PathBuf),
    Data(Vec<u8>),
    Close,
}

/// Hands each unique content to a writer thread that stores it as
/// `<dir>/<digest>`: decompression and file writing then run on two CPUs,
/// as they do with `tar -I zstd`. The channel is bounded, so at most a few
/// MiB are in flight.
struct StagingSink {
    dir: PathBuf,
    jobs: SyncSender<Job>,
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

impl ContentSink for StagingSink {
    type Output = StagedFile;

    fn open(&mut self, entry: &IndexEntry) -> io::Result<Option<StagedFile>> {
        let path = self.dir.join(format!("{:032x}", entry.digest));
        self.jobs.send(Job::Open(path)).map_err(|_| writer_gone())?;
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
            Job::Open(path) => {
                let file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| fail(&path, e))?;
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
