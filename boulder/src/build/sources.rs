//! The recipe's upstreams: fetched (in parallel, verified, cached) before
//! the build root is made, then placed into each target's build directory.

use std::path::{Path, PathBuf};

use crate::recipe::model::Upstream as RecipeUpstream;
use crate::recipe::Recipe;
use crate::upstream::{Fetched, SourceDirs, Upstream, UpstreamCache, UpstreamError};

/// The recipe's upstreams in the fetcher's terms.
pub fn upstreams(recipe: &Recipe) -> Vec<Upstream> {
    recipe
        .upstreams
        .iter()
        .map(|upstream| match upstream {
            RecipeUpstream::Archive {
                url,
                hash,
                rename,
                unpack,
                unpackdir,
                stripdirs,
            } => Upstream::Archive {
                url: url.value.clone(),
                hash: hash.value.clone(),
                rename: rename.as_ref().map(|r| r.value.clone()),
                unpack: *unpack,
                unpackdir: unpackdir.as_ref().map(|d| PathBuf::from(&d.value)),
                stripdirs: *stripdirs,
            },
            RecipeUpstream::Git {
                url,
                git_ref,
                clonedir,
            } => Upstream::Git {
                url: url.value.clone(),
                git_ref: git_ref.value.clone(),
                clonedir: clonedir.as_ref().map(|d| PathBuf::from(&d.value)),
            },
        })
        .collect()
}

/// Fetches every upstream into the cache at `cache_dir`: from a file of
/// `sources` with the right hash when there is one, relative paths from
/// `recipe_dir`.
pub fn fetch(
    cache_dir: &Path,
    recipe_dir: &Path,
    sources: &SourceDirs,
    upstreams: &[Upstream],
) -> Result<Vec<Fetched>, UpstreamError> {
    if upstreams.is_empty() {
        return Ok(Vec::new());
    }
    UpstreamCache::new(cache_dir)
        .with_sources(sources.clone())
        .with_base(recipe_dir)
        .fetch_all(upstreams)
}

/// Places every fetched upstream into `buildroot` (`<build>/<target>`).
pub fn extract(fetched: &[Fetched], buildroot: &Path) -> Result<(), UpstreamError> {
    for source in fetched {
        source.extract_into(buildroot)?;
    }
    Ok(())
}

/// Names, in a stale-hash error, the recipe line holding the hash
/// (`stone.yaml:12`); `text` is the recipe as read from `path`.
pub fn locate_hashes(
    error: UpstreamError,
    recipe: &Recipe,
    text: &str,
    path: &Path,
) -> UpstreamError {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let at = |url: &str| {
        recipe.upstreams.iter().find_map(|upstream| match upstream {
            RecipeUpstream::Archive { url: u, hash, .. } if u.value == url => {
                let line = text[..hash.span.start.min(text.len())]
                    .matches('\n')
                    .count()
                    + 1;
                Some(format!("{file}:{line}"))
            }
            _ => None,
        })
    };
    error.locate_hashes(&at)
}
