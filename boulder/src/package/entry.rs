//! One collected path of the install tree and its metadata.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use moss_core::stone::LayoutKind;
use xxhash_rust::xxh3::Xxh3;

/// A collected path with `lstat` metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectedEntry {
    /// Absolute path inside the install tree, like `/usr/bin/hello`.
    pub path: String,
    /// What it is, as the stone's layout will record it (a regular file with
    /// its xxh3-128 content digest, a symlink with its target, …).
    pub kind: LayoutKind,
    /// The byte size of a regular file's content; 0 for every other kind.
    pub size: u64,
    /// Full `st_mode`, file type bits included (`0o100755`, `0o120777`, …).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// `(st_dev, st_ino)`, to notice hard links that change together.
    pub(crate) inode: (u64, u64),
}

impl CollectedEntry {
    /// Reads the metadata (and digest, for regular files) of `on_disk`,
    /// recorded as `path`.
    pub(crate) fn read(on_disk: &Path, path: String) -> io::Result<Self> {
        Self::read_hashed(on_disk, path, None)
    }

    /// [`CollectedEntry::read`], with the digest of a regular file already
    /// known (the caller hashed its content) instead of hashed again.
    pub(crate) fn read_hashed(
        on_disk: &Path,
        path: String,
        digest: Option<u128>,
    ) -> io::Result<Self> {
        let meta = fs::symlink_metadata(on_disk)?;
        let file_type = meta.file_type();
        let size = if file_type.is_file() { meta.len() } else { 0 };
        let kind = if file_type.is_file() {
            LayoutKind::Regular {
                digest: match digest {
                    Some(known) => known,
                    None => digest_file(on_disk)?,
                },
            }
        } else if file_type.is_symlink() {
            let target = fs::read_link(on_disk)?;
            let target = target.into_os_string().into_string().map_err(|raw| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("symlink target {raw:?} is not UTF-8"),
                )
            })?;
            LayoutKind::Symlink { target }
        } else if file_type.is_dir() {
            LayoutKind::Directory
        } else if file_type.is_char_device() {
            LayoutKind::CharDevice
        } else if file_type.is_block_device() {
            LayoutKind::BlockDevice
        } else if file_type.is_fifo() {
            LayoutKind::Fifo
        } else {
            LayoutKind::Socket
        };
        Ok(Self {
            path,
            kind,
            size,
            mode: meta.mode(),
            uid: meta.uid(),
            gid: meta.gid(),
            inode: (meta.dev(), meta.ino()),
        })
    }

    /// The file name (last path component).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The path relative to `/usr` as stone layouts record it
    /// (`bin/hello`); `None` for paths outside `/usr`, which analysis drops.
    pub fn usr_relative(&self) -> Option<&str> {
        self.path.strip_prefix("/usr/")
    }

    pub fn is_regular(&self) -> bool {
        matches!(self.kind, LayoutKind::Regular { .. })
    }
}

/// xxh3-128 (seed 0) of a file's bytes, streamed.
pub fn digest_file(path: &Path) -> io::Result<u128> {
    let mut file = File::open(path)?;
    let mut hasher = Xxh3::new();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.digest128())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_has_the_known_stone_digest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("empty");
        fs::write(&path, b"").expect("write");
        assert_eq!(
            digest_file(&path).expect("digest"),
            0x99aa06d3014798d86001c324468d497f
        );
    }

    #[test]
    fn reads_symlinks_without_following() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("libfoo.so.1", &link).expect("symlink");
        let entry = CollectedEntry::read(&link, "/usr/lib/libfoo.so".into()).expect("read");
        assert_eq!(
            entry.kind,
            LayoutKind::Symlink {
                target: "libfoo.so.1".into()
            }
        );
        assert_eq!(entry.size, 0);
        assert_eq!(entry.mode & 0o170000, 0o120000);
        assert_eq!(entry.file_name(), "libfoo.so");
        assert_eq!(entry.usr_relative(), Some("lib/libfoo.so"));
    }
}
