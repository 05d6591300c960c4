//! Writing archive entries below a target directory, and nowhere else.
//!
//! Rules, whatever the archive format:
//! * an entry path that is absolute or contains `..` is refused;
//! * nothing is ever written through a symlink: every parent directory of
//!   an entry must be a real directory (created here or found as one), and an
//!   existing file or symlink at the entry's own path is replaced, not
//!   followed;
//! * a symlink whose target is absolute or climbs out of the target
//!   directory is refused; a hard link must name an entry inside it.
//!
//! Modes keep their permission bits (no set-id or sticky bits); directories
//! keep at least owner rwx so the build directory can always be cleaned.

use std::collections::HashSet;
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use crate::upstream::UpstreamError;

pub(crate) struct SafeTree<'a> {
    url: &'a str,
    archive: &'a str,
    root: PathBuf,
    /// Directories (relative) known to be real directories below `root`.
    known_dirs: HashSet<PathBuf>,
    /// Directory modes and times, applied at the end so that read-only
    /// directories do not block the entries inside them.
    dir_attrs: Vec<(PathBuf, u32, Option<SystemTime>)>,
}

impl<'a> SafeTree<'a> {
    pub(crate) fn new(url: &'a str, archive: &'a str, root: &Path) -> Self {
        let mut known_dirs = HashSet::new();
        known_dirs.insert(PathBuf::new());
        SafeTree {
            url,
            archive,
            root: root.to_path_buf(),
            known_dirs,
            dir_attrs: Vec::new(),
        }
    }

    /// The entry path below the target: `None` when `stripdirs` removes it
    /// entirely; an error when it is absolute or contains `..`.
    pub(crate) fn relative(
        &self,
        raw: &Path,
        stripdirs: u8,
    ) -> Result<Option<PathBuf>, UpstreamError> {
        let mut rel = PathBuf::new();
        let mut to_strip = usize::from(stripdirs);
        for component in raw.components() {
            match component {
                Component::Normal(_) if to_strip > 0 => to_strip -= 1,
                Component::Normal(part) => rel.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    return Err(self.unsafe_entry(raw, "the path contains `..`"))
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.unsafe_entry(raw, "the path is absolute"))
                }
            }
        }
        Ok((!rel.as_os_str().is_empty()).then_some(rel))
    }

    pub(crate) fn dir(
        &mut self,
        rel: &Path,
        mode: u32,
        mtime: Option<SystemTime>,
    ) -> Result<(), UpstreamError> {
        self.make_parents(rel)?;
        let path = self.root.join(rel);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                fs::remove_file(&path).map_err(self.io("replace", &path))?;
                fs::create_dir(&path).map_err(self.io("create", &path))?;
            }
            Err(_) => fs::create_dir(&path).map_err(self.io("create", &path))?,
        }
        self.known_dirs.insert(rel.to_path_buf());
        self.dir_attrs.push((rel.to_path_buf(), mode, mtime));
        Ok(())
    }

    pub(crate) fn file(
        &mut self,
        rel: &Path,
        mode: u32,
        mtime: Option<SystemTime>,
        content: &mut dyn Read,
    ) -> Result<(), UpstreamError> {
        let path = self.prepare_leaf(rel)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(self.io("create", &path))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match content.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.corrupt(e)),
            };
            file.write_all(&buf[..n]).map_err(self.io("write", &path))?;
        }
        if let Some(time) = mtime {
            file.set_times(FileTimes::new().set_modified(time))
                .map_err(self.io("set the time of", &path))?;
        }
        file.set_permissions(fs::Permissions::from_mode(mode & 0o777))
            .map_err(self.io("set the mode of", &path))
    }

    pub(crate) fn symlink(&mut self, rel: &Path, target: &Path) -> Result<(), UpstreamError> {
        if target.as_os_str().is_empty() {
            return Err(self.unsafe_entry(rel, "the symlink has an empty target"));
        }
        // Depth of the link's directory below the root; `..` may climb to 0.
        let mut depth = rel.components().count() as isize - 1;
        for component in target.components() {
            match component {
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::ParentDir => depth -= 1,
                Component::RootDir | Component::Prefix(_) => {
                    return Err(self.unsafe_entry(
                        rel,
                        &format!(
                            "the symlink points to the absolute path {}",
                            target.display()
                        ),
                    ))
                }
            }
            if depth < 0 {
                return Err(self.unsafe_entry(
                    rel,
                    &format!(
                        "the symlink target {} leaves the target directory",
                        target.display()
                    ),
                ));
            }
        }
        let path = self.prepare_leaf(rel)?;
        std::os::unix::fs::symlink(target, &path).map_err(self.io("create the symlink", &path))
    }

    /// `target` is already stripped and checked by [`Self::relative`].
    pub(crate) fn hardlink(&mut self, rel: &Path, target: &Path) -> Result<(), UpstreamError> {
        self.check_parents(target)?;
        let source = self.root.join(target);
        match fs::symlink_metadata(&source) {
            Ok(meta) if !meta.is_dir() => {}
            _ => {
                return Err(self.unsafe_entry(
                    rel,
                    &format!(
                        "the hard link target {} is not a file of this archive",
                        target.display()
                    ),
                ))
            }
        }
        let path = self.prepare_leaf(rel)?;
        fs::hard_link(&source, &path).map_err(self.io("create the hard link", &path))
    }

    /// Apply directory modes and times, deepest first.
    pub(crate) fn finish(mut self) -> Result<(), UpstreamError> {
        self.dir_attrs
            .sort_by_key(|(rel, _, _)| std::cmp::Reverse(rel.components().count()));
        for (rel, mode, mtime) in &self.dir_attrs {
            let path = self.root.join(rel);
            if let Some(time) = mtime {
                File::open(&path)
                    .and_then(|dir| dir.set_times(FileTimes::new().set_modified(*time)))
                    .map_err(self.io("set the time of", &path))?;
            }
            fs::set_permissions(&path, fs::Permissions::from_mode((mode & 0o777) | 0o700))
                .map_err(self.io("set the mode of", &path))?;
        }
        Ok(())
    }

    /// Make the parents of a non-directory entry and clear its own path.
    fn prepare_leaf(&mut self, rel: &Path) -> Result<PathBuf, UpstreamError> {
        self.make_parents(rel)?;
        let path = self.root.join(rel);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                Err(self.unsafe_entry(rel, "an earlier entry made a directory at this path"))
            }
            Ok(_) => {
                fs::remove_file(&path).map_err(self.io("replace", &path))?;
                Ok(path)
            }
            Err(_) => Ok(path),
        }
    }

    /// Create missing parents; refuse any parent that is not a real directory.
    fn make_parents(&mut self, rel: &Path) -> Result<(), UpstreamError> {
        let mut prefix = PathBuf::new();
        let Some(parent) = rel.parent() else {
            return Ok(());
        };
        for component in parent.components() {
            prefix.push(component);
            if self.known_dirs.contains(&prefix) {
                continue;
            }
            let path = self.root.join(&prefix);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(self.unsafe_entry(
                        rel,
                        &format!(
                            "it would be written through the symlink {}",
                            prefix.display()
                        ),
                    ))
                }
                Ok(_) => {
                    return Err(self.unsafe_entry(
                        rel,
                        &format!("{} is a file, not a directory", prefix.display()),
                    ))
                }
                Err(_) => fs::create_dir(&path).map_err(self.io("create", &path))?,
            }
            self.known_dirs.insert(prefix.clone());
        }
        Ok(())
    }

    /// Like [`Self::make_parents`] but creates nothing.
    fn check_parents(&self, rel: &Path) -> Result<(), UpstreamError> {
        let mut prefix = PathBuf::new();
        for component in rel.parent().into_iter().flat_map(Path::components) {
            prefix.push(component);
            if self.known_dirs.contains(&prefix) {
                continue;
            }
            let real_dir = fs::symlink_metadata(self.root.join(&prefix)).is_ok_and(|m| m.is_dir());
            if !real_dir {
                return Err(self.unsafe_entry(
                    rel,
                    &format!("{} is not a directory of this archive", prefix.display()),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn unsafe_entry(&self, entry: &Path, reason: &str) -> UpstreamError {
        UpstreamError::UnsafeEntry {
            url: self.url.to_string(),
            entry: entry.display().to_string(),
            reason: reason.to_string(),
        }
    }

    /// The archive's data could not be read or decoded.
    pub(crate) fn corrupt(&self, error: impl std::fmt::Display) -> UpstreamError {
        UpstreamError::CorruptArchive {
            url: self.url.to_string(),
            name: self.archive.to_string(),
            reason: error.to_string(),
        }
    }

    fn io(&self, action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> UpstreamError {
        let url = self.url.to_string();
        let path = path.to_path_buf();
        move |error| UpstreamError::Io {
            url,
            action,
            path,
            error,
        }
    }
}
