//! Tar entries (from any decompressor) into a [`SafeTree`].

use std::io::Read;
use std::time::{Duration, SystemTime};

use tar::EntryType;

use super::tree::SafeTree;
use crate::upstream::UpstreamError;

pub(crate) fn unpack(
    reader: impl Read,
    tree: &mut SafeTree,
    stripdirs: u8,
) -> Result<(), UpstreamError> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| tree.corrupt(e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| tree.corrupt(e))?;
        let raw = entry.path().map_err(|e| tree.corrupt(e))?.into_owned();
        let kind = entry.header().entry_type();
        // Sparse files read back with their holes filled in.
        // Metadata-only entries (pax headers, GNU long names) are consumed by
        // the tar crate; a pax global header (as `git archive` writes) and
        // device nodes or fifos, which a build never needs and an
        // unprivileged user cannot make, are skipped.
        if !matches!(
            kind,
            EntryType::Regular
                | EntryType::Continuous
                | EntryType::GNUSparse
                | EntryType::Directory
                | EntryType::Symlink
                | EntryType::Link
        ) {
            continue;
        }
        let Some(rel) = tree.relative(&raw, stripdirs)? else {
            continue;
        };
        let mode = entry.header().mode().map_err(|e| tree.corrupt(e))?;
        let mtime = entry
            .header()
            .mtime()
            .ok()
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        match kind {
            EntryType::Directory => tree.dir(&rel, mode, mtime)?,
            EntryType::Symlink | EntryType::Link => {
                let Some(target) = entry.link_name().map_err(|e| tree.corrupt(e))? else {
                    return Err(tree.unsafe_entry(&raw, "the link has no target"));
                };
                let target = target.into_owned();
                if kind == EntryType::Symlink {
                    tree.symlink(&rel, &target)?;
                } else if let Some(target) = tree.relative(&target, stripdirs)? {
                    tree.hardlink(&rel, &target)?;
                }
            }
            _ => tree.file(&rel, mode, mtime, &mut entry)?,
        }
    }
    Ok(())
}
