//! Making a root: the picked stones are fetched when remote, their contents
//! go into the shared store (once per stone), their layouts make one checked tree, and the tree is blitted
//! (hardlinks from the store) into a temporary directory that is renamed into
//! place only when complete.

use std::fs;
use std::path::{Path, PathBuf};

use moss_core::blit::{BlitStats, Blitter};
use moss_core::fetch::uri::Location;
use moss_core::fetch::{Download, Fetcher};
use moss_core::stone::{self, LayoutEntry, StoneReader};
use moss_core::store::StoreSink;
use moss_core::tree::{PackageLayouts, Tree};

use super::repo::{self, Repository};
use super::resolve::Picked;
use super::{Cache, RootError};

fn stone_err(path: &Path) -> impl FnOnce(stone::StoneError) -> RootError + '_ {
    move |source| RootError::Stone {
        path: path.to_path_buf(),
        source,
    }
}

/// Puts one picked stone's content (found at `path`) into the store, once,
/// and returns its layout.
fn load(cache: &Cache, path: &Path, meta: &stone::Meta) -> Result<Vec<LayoutEntry>, RootError> {
    let mut reader = StoneReader::open_path(path).map_err(stone_err(path))?;
    let id = repo::package_id(meta).to_string();
    let mark = cache.cached_marks_dir().join(&id);
    if !mark.exists() && reader.content().is_some() {
        let store = cache.store();
        let mut sink = StoreSink {
            store: &store,
            written: 0,
            bytes: 0,
        };
        reader.unpack_content(&mut sink).map_err(stone_err(path))?;
        let dir = cache.cached_marks_dir();
        fs::create_dir_all(&dir).map_err(RootError::io("creating", &dir))?;
        fs::write(&mark, meta.id()).map_err(RootError::io("writing", &mark))?;
    }
    Ok(reader.layout().to_vec())
}

/// Loads every picked stone, in `picked`'s order. Local stones are read where
/// they are; remote ones are downloaded in parallel (moss-core's fetcher,
/// each verified against its sha256 and kept in `CACHE/downloads/`), and
/// each is unpacked as soon as it is ready, while the others still download.
fn load_all(
    cache: &Cache,
    repos: &[Repository],
    picked: &[Picked],
) -> Result<Vec<Vec<LayoutEntry>>, RootError> {
    let meta = |p: &Picked| &repos[p.repo].packages[p.package];
    let mut loaded: Vec<Option<Vec<LayoutEntry>>> = picked.iter().map(|_| None).collect();
    let mut downloads = Vec::new();
    let mut positions = Vec::new();
    for (i, p) in picked.iter().enumerate() {
        let meta = meta(p);
        match repos[p.repo].package_location(meta) {
            Location::Local(path) => loaded[i] = Some(load(cache, &path, meta)?),
            source @ Location::Http(_) => {
                downloads.push(Download {
                    label: format!("{}-{}-{}", meta.name, meta.version, meta.source_release),
                    source,
                    sha256: repo::package_id(meta).to_string(),
                    size: meta.package_size,
                });
                positions.push(i);
            }
        }
    }
    let fetcher = Fetcher::new(cache.downloads_dir());
    let observer = crate::upstream::progress::FetchProgress::default();
    fetcher.fetch_all(&downloads, &observer, |fetched| -> Result<(), RootError> {
        let i = positions[fetched.index];
        loaded[i] = Some(load(cache, &fetched.path, meta(&picked[i]))?);
        Ok(())
    })?;
    Ok(loaded.into_iter().flatten().collect())
}

/// Blits the picked packages to `target` (which must not exist), atomically.
pub fn make_root(
    cache: &Cache,
    repos: &[Repository],
    picked: &[Picked],
    profile: &super::Profile,
    target: &Path,
) -> Result<BlitStats, RootError> {
    let loaded = load_all(cache, repos, picked)?;
    let layouts: Vec<PackageLayouts<'_>> = picked
        .iter()
        .zip(&loaded)
        .map(|(p, layouts)| PackageLayouts::from_stone(&repos[p.repo].packages[p.package], layouts))
        .collect();
    let tree = Tree::build(&layouts)?;

    let parent = target.parent().unwrap_or(cache.dir());
    fs::create_dir_all(parent).map_err(RootError::io("creating", parent))?;
    let tmp = temporary_name(target);
    fs::create_dir(&tmp).map_err(RootError::io("creating", &tmp))?;
    let result = (|| {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let blitter = Blitter::new(cache.store(), cache.mode_variants(), threads);
        let stats = blitter.blit(&tree, &tmp.join("usr"))?;
        super::skeleton::write(&tmp)?;
        super::skeleton::write_links(&tmp, &profile.links)?;
        super::skeleton::write_files(&tmp, &profile.files)?;
        fs::rename(&tmp, target).map_err(RootError::io("renaming into place", target))?;
        Ok(stats)
    })();
    if result.is_err() {
        let _ = moss_core::state::remove_tree(&tmp);
    }
    result
}

fn temporary_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".tmp-{name}-{}", std::process::id()))
}
