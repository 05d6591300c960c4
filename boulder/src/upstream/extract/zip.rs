//! Zip entries into a [`SafeTree`] (stored and deflated members).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::tree::SafeTree;
use crate::upstream::UpstreamError;

const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;
/// A symlink's target is stored as the member's content; bound what we read.
const MAX_LINK_TARGET: u64 = 4096;

pub(crate) fn unpack(
    archive: &Path,
    tree: &mut SafeTree,
    stripdirs: u8,
) -> Result<(), UpstreamError> {
    let file = File::open(archive).map_err(|e| tree.corrupt(e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| tree.corrupt(e))?;
    for index in 0..zip.len() {
        let mut member = zip.by_index(index).map_err(|e| tree.corrupt(e))?;
        let raw = PathBuf::from(member.name());
        let Some(rel) = tree.relative(&raw, stripdirs)? else {
            continue;
        };
        let unix_mode = member.unix_mode();
        if member.is_dir() {
            tree.dir(&rel, unix_mode.unwrap_or(0o755), None)?;
        } else if unix_mode.is_some_and(|m| m & S_IFMT == S_IFLNK) {
            let mut target = String::new();
            (&mut member)
                .take(MAX_LINK_TARGET)
                .read_to_string(&mut target)
                .map_err(|e| tree.corrupt(e))?;
            tree.symlink(&rel, Path::new(&target))?;
        } else {
            tree.file(&rel, unix_mode.unwrap_or(0o644), None, &mut member)?;
        }
    }
    Ok(())
}
