//! On-demand import: when a root request names something the host
//! repository does not provide yet, the installed Debian package that
//! provides it is imported (with its dependency closure, only what is new
//! being packed), under the same lock as every host import, so the index
//! and the import state change together and concurrent builds queue.

use std::collections::BTreeMap;
use std::path::Path;

use moss_core::stone::{Dependency, DependencyKind, Meta};

use super::super::lock::FileLock;
use super::super::repo::{read_index, Repository};
use super::super::{Cache, RootError};
use super::{dpkg, host_repo_dir, lookup, read_state, suggest, Wanted};

/// A request the host cannot satisfy, with the apt package that would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOnHost {
    pub request: String,
    pub apt: Option<String>,
}

/// What an on-demand import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnDemand {
    /// The packages asked for, with their requests.
    pub imported: Vec<Imported>,
    /// The import itself: what was packed (the closure's new packages).
    pub report: super::ImportReport,
}

/// One package imported on demand and the requests it was imported for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub package: String,
    pub reasons: Vec<String>,
}

/// `requests` with every name that an on-demand import mapped to another
/// Debian package (an AerynOS name such as `libstdc++-static`) replaced by
/// that package's name: a stone provides no other names, so the request
/// itself is translated, from the import state.
pub fn as_imported_names(cache: &Cache, requests: Vec<String>) -> Vec<String> {
    let wanted = super::imported_on_demand(cache);
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (package, want) in &wanted {
        for reason in &want.reasons {
            let name = reason
                .strip_prefix("name(")
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or(reason);
            if !name.contains('(') && name != package {
                names.insert(name.to_string(), package.clone());
            }
        }
    }
    if names.is_empty() {
        return requests;
    }
    requests
        .into_iter()
        .map(|request| {
            let trimmed = request.trim();
            let name = trimmed
                .strip_prefix("name(")
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or(trimmed);
            names.get(name).cloned().unwrap_or(request)
        })
        .collect()
}

/// Whether some package of `metas` provides `dep`.
fn provided(metas: &[Meta], dep: &Dependency) -> bool {
    metas.iter().any(|m| {
        (dep.kind == DependencyKind::PackageName && m.name == dep.name)
            || m.provides
                .iter()
                .any(|p| p.kind == dep.kind && p.name == dep.name)
    })
}

/// The requests no package of `repos` provides (unparsable ones are left
/// to the resolver, which names them).
fn unprovided(repos: &[&[Meta]], requests: &[String]) -> Vec<String> {
    let mut missing: Vec<String> = requests
        .iter()
        .filter(|r| {
            r.trim()
                .parse::<Dependency>()
                .is_ok_and(|dep| !repos.iter().any(|metas| provided(metas, &dep)))
        })
        .map(|r| r.trim().to_string())
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// Imports what `requests` need and the host repository lacks. Returns the
/// packages imported (empty when another build imported them meanwhile, or
/// nothing was missing); the caller opens the repositories again when it
/// is `Some`. Fails, before importing anything, naming every request the
/// host has not installed.
pub fn import_missing(
    cache: &Cache,
    repos: &[Repository],
    requests: &[String],
) -> Result<Option<OnDemand>, RootError> {
    let Some(host) = repos
        .iter()
        .position(|r| r.spec.import.as_deref() == Some("host"))
    else {
        return Ok(None);
    };
    let all: Vec<&[Meta]> = repos.iter().map(|r| r.packages.as_slice()).collect();
    if unprovided(&all, requests).is_empty() {
        return Ok(None);
    }
    super::arch::supported()?;
    let dir = host_repo_dir(cache);
    let _lock = FileLock::exclusive(&cache.lock_path("import-host"))?;
    // Another build may have imported them while this one waited.
    let fresh = read_index(&repos[host].index_path)?;
    let mut all = all;
    all[host] = &fresh;
    let missing = unprovided(&all, requests);
    if missing.is_empty() {
        return Ok(Some(OnDemand::default()));
    }

    let installed = dpkg::installed()?;
    let admin = dpkg::admin_dir();
    let files = lookup::HostFiles::read(&admin, &installed);
    let host_root = Path::new("/");
    let mut found: BTreeMap<String, Wanted> = BTreeMap::new();
    let mut absent = Vec::new();
    for request in &missing {
        match lookup::find(request, &installed, &files, host_root) {
            Some(hit) => {
                let entry = found.entry(hit.package).or_default();
                entry.reasons.insert(request.clone());
                if let Some((path, target)) = hit.link {
                    entry.links.insert(path, target);
                }
            }
            None => absent.push(request.clone()),
        }
    }
    if !absent.is_empty() {
        let lists = Path::new("/var/lib/apt/lists");
        return Err(RootError::NotOnHost {
            missing: absent
                .into_iter()
                .map(|request| NotOnHost {
                    apt: suggest::apt_package(&request, lists),
                    request,
                })
                .collect(),
        });
    }

    let progress = cache.progress();
    let mut wanted = read_state(&dir).map(|s| s.wanted).unwrap_or_default();
    let mut imported = Vec::new();
    for (package, want) in found {
        progress.wanted(&package, &want.reasons.iter().cloned().collect::<Vec<_>>());
        imported.push(Imported {
            package: package.clone(),
            reasons: want.reasons.iter().cloned().collect(),
        });
        let entry = wanted.entry(package).or_default();
        entry.reasons.extend(want.reasons);
        entry.links.extend(want.links);
    }
    let report = super::import_from(cache, &dir, host_root, &installed, &wanted)?;
    Ok(Some(OnDemand { imported, report }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use moss_core::stone::Provider;

    #[test]
    fn unprovided_requests_are_found_by_name_and_provider() {
        let meta = Meta {
            name: "cmake".into(),
            provides: vec![Provider::new(DependencyKind::Binary, "cmake")],
            ..Meta::default()
        };
        let metas = vec![meta];
        let repos = [metas.as_slice()];
        let requests: Vec<String> = [
            "cmake",
            "binary(cmake)",
            " binary(meson)",
            "binary(meson)",
            "pkgconfig(zlib)",
            "bogus(x)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            unprovided(&repos, &requests),
            vec!["binary(meson)".to_string(), "pkgconfig(zlib)".into()]
        );
    }
}
