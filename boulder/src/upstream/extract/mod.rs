//! Placing a fetched archive into a build directory: format detection, then
//! tar (plain or compressed) or zip entries written through a [`SafeTree`].

mod format;
mod tar;
mod tree;
mod zip;

use std::fs;
use std::path::Path;

use super::UpstreamError;
use format::Format;
use tree::SafeTree;

/// Unpack `archive` (stored as `name`) into `dest`, dropping `stripdirs`
/// leading components of every entry.
pub(crate) fn unpack(
    url: &str,
    archive: &Path,
    name: &str,
    dest: &Path,
    stripdirs: u8,
) -> Result<(), UpstreamError> {
    let format = format::detect(url, archive, name)?;
    fs::create_dir_all(dest).map_err(|error| UpstreamError::Io {
        url: url.to_string(),
        action: "create",
        path: dest.to_path_buf(),
        error,
    })?;
    let mut tree = SafeTree::new(url, name, dest);
    match format {
        Format::Zip => zip::unpack(archive, &mut tree, stripdirs)?,
        Format::Tar(compression) => {
            let file = fs::File::open(archive).map_err(|error| UpstreamError::Io {
                url: url.to_string(),
                action: "open",
                path: archive.to_path_buf(),
                error,
            })?;
            let reader = compression.decoder(file).map_err(|e| tree.corrupt(e))?;
            tar::unpack(reader, &mut tree, stripdirs)?;
        }
    }
    tree.finish()
}

/// `unpack: false`: copy the verified file into the build directory (a copy,
/// not a hard link, so a build that edits it cannot damage the cache).
pub(crate) fn copy_file(url: &str, from: &Path, to: &Path) -> Result<(), UpstreamError> {
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |error| UpstreamError::Io {
            url: url.to_string(),
            action,
            path,
            error,
        }
    };
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(io("create", parent))?;
    }
    // Never write through whatever is already at the destination.
    if fs::symlink_metadata(to).is_ok() {
        fs::remove_file(to).map_err(io("replace", to))?;
    }
    fs::copy(from, to).map_err(io("copy the upstream to", to))?;
    Ok(())
}
