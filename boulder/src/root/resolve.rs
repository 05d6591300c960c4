//! Resolution of a root's package set with moss-core's resolver: every
//! requested provider and, in turn, every dependency of what was picked.
//! Where several packages provide the same thing, a package already picked
//! wins, then the higher repository priority, then the newer release.

use std::collections::HashMap;

use moss_core::resolve::{
    Candidate, CandidateSource, Origin, Prefer, Request, ResolveError, Resolver,
};

use super::repo::{package_id, Repository};
use super::RootError;

/// A picked package: `repos[repo].packages[package]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Picked {
    pub repo: usize,
    pub package: usize,
}

fn convert(profile: &str, error: ResolveError) -> RootError {
    match error {
        ResolveError::BadRequest { text, reason } => RootError::BadRequest { text, reason },
        ResolveError::Unsatisfiable { wanted, chain, .. } => RootError::Unresolvable {
            request: wanted,
            profile: profile.to_string(),
            needed_by: (!chain.is_empty()).then(|| chain.join(", needed by ")),
        },
        other => RootError::Repository {
            repo: profile.to_string(),
            message: other.to_string(),
        },
    }
}

/// Resolves `requests` (provider texts) against `repos`. The result is
/// sorted by package name.
pub fn resolve(
    repos: &[Repository],
    profile: &str,
    requests: &[String],
) -> Result<Vec<Picked>, RootError> {
    let mut ids: HashMap<(String, String), Picked> = HashMap::new();
    let mut sources = Vec::with_capacity(repos.len());
    for (r, repo) in repos.iter().enumerate() {
        let origin = Origin::Repository(repo.spec.name.clone());
        let mut packages = Vec::with_capacity(repo.packages.len());
        for (p, meta) in repo.packages.iter().enumerate() {
            let id = package_id(meta).to_string();
            ids.insert(
                (repo.spec.name.clone(), id.clone()),
                Picked {
                    repo: r,
                    package: p,
                },
            );
            packages.push(Candidate::from_meta(id, meta, origin.clone()));
        }
        sources.push(CandidateSource {
            origin,
            priority: repo.spec.priority,
            packages,
        });
    }
    let requests = requests
        .iter()
        .map(|r| Request::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| convert(profile, e))?;
    let selected = Resolver::new(sources, Prefer::Available)
        .resolve(&requests)
        .map_err(|e| convert(profile, e))?;
    let mut picked: Vec<(String, Picked)> = selected
        .into_iter()
        .filter_map(|s| {
            let Origin::Repository(name) = &s.candidate.origin else {
                return None;
            };
            let key = (name.clone(), s.candidate.id.clone());
            ids.get(&key).map(|p| (s.candidate.name.clone(), *p))
        })
        .collect();
    picked.sort();
    Ok(picked.into_iter().map(|(_, p)| p).collect())
}
