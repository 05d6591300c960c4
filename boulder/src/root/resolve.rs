//! Resolution of a root's package set: every requested provider and, in
//! turn, every dependency of what was picked. Where several packages provide
//! the same thing, the higher repository priority wins, then a package
//! already picked, then the first by name.
// Switch to `moss_core::resolve` once it is on main.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::str::FromStr;

use moss_core::stone::Provider;

use super::repo::Repository;
use super::RootError;

/// A picked package: `repos[repo].packages[package]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Picked {
    pub repo: usize,
    pub package: usize,
}

/// Normalises `binary(gcc)`, `gcc` (= `name(gcc)`) to the `kind(name)` text.
pub fn normalise(text: &str) -> Result<String, RootError> {
    Provider::from_str(text.trim())
        .map(|p| p.to_string())
        .map_err(|e| RootError::BadRequest {
            text: text.to_string(),
            reason: e.to_string(),
        })
}

/// Resolves `requests` (provider texts) against `repos`. The result is
/// sorted by package name.
pub fn resolve(
    repos: &[Repository],
    profile: &str,
    requests: &[String],
) -> Result<Vec<Picked>, RootError> {
    let mut providers: HashMap<String, Vec<Picked>> = HashMap::new();
    for (r, repo) in repos.iter().enumerate() {
        for (p, meta) in repo.packages.iter().enumerate() {
            for provider in meta.all_providers() {
                providers
                    .entry(provider.to_string())
                    .or_default()
                    .push(Picked {
                        repo: r,
                        package: p,
                    });
            }
        }
    }
    let name_of = |p: &Picked| repos[p.repo].packages[p.package].name.as_str();
    // Best candidate first: priority, then the newest release, then by name.
    for candidates in providers.values_mut() {
        candidates.sort_by(|a, b| {
            let (ma, mb) = (
                &repos[a.repo].packages[a.package],
                &repos[b.repo].packages[b.package],
            );
            repos[b.repo]
                .spec
                .priority
                .cmp(&repos[a.repo].spec.priority)
                .then(ma.name.cmp(&mb.name))
                .then(mb.source_release.cmp(&ma.source_release))
                .then(a.cmp(b))
        });
    }

    let mut picked: BTreeMap<String, Picked> = BTreeMap::new();
    let mut queue: VecDeque<(String, Option<String>)> = VecDeque::new();
    for request in requests {
        queue.push_back((normalise(request)?, None));
    }
    while let Some((want, needed_by)) = queue.pop_front() {
        let candidates = providers.get(&want).map(Vec::as_slice).unwrap_or_default();
        if candidates.iter().any(|c| picked.get(name_of(c)) == Some(c)) {
            continue;
        }
        let Some(best) = candidates.iter().find(|c| !picked.contains_key(name_of(c))) else {
            return Err(RootError::Unresolvable {
                request: want,
                profile: profile.to_string(),
                needed_by,
            });
        };
        let meta = &repos[best.repo].packages[best.package];
        picked.insert(meta.name.clone(), *best);
        for dep in &meta.depends {
            queue.push_back((dep.to_string(), Some(meta.name.clone())));
        }
    }
    Ok(picked.into_values().collect())
}
