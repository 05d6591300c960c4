//! What the resolver chooses from.

use crate::db::PackageMeta;
use crate::repo::{IndexEntry, RepoPackages};
use crate::stone::{Dependency, DependencyKind, Meta, Provider};

use super::error::ResolveError;

/// Where a candidate comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Part of the active state.
    Installed,
    /// Offered by the named repository.
    Repository(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Installed => f.write_str("installed"),
            Origin::Repository(name) => write!(f, "repository {name}"),
        }
    }
}

/// One package the resolver may select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The package id: sha256 hex of its `.stone`.
    pub id: String,
    pub name: String,
    pub version: String,
    pub source_release: u64,
    pub build_release: u64,
    /// Everything it provides, its own `name(...)` included.
    pub providers: Vec<Provider>,
    pub depends: Vec<Dependency>,
    pub conflicts: Vec<Provider>,
    pub origin: Origin,
    /// Repository candidates: `PackageURI` (relative to the index) and size.
    pub uri: Option<String>,
    pub size: Option<u64>,
}

impl Candidate {
    /// A candidate from stone metadata with a known id.
    pub fn from_meta(id: impl Into<String>, meta: &Meta, origin: Origin) -> Self {
        Candidate {
            id: id.into(),
            name: meta.name.clone(),
            version: meta.version.clone(),
            source_release: meta.source_release,
            build_release: meta.build_release,
            providers: meta.all_providers(),
            depends: meta.depends.clone(),
            conflicts: meta.conflicts.clone(),
            origin,
            uri: meta.package_uri.clone(),
            size: meta.package_size,
        }
    }

    /// A candidate from a repository index entry.
    pub fn from_index(entry: &IndexEntry, repository: &str) -> Self {
        let mut c = Self::from_meta(
            entry.hash.clone(),
            &entry.meta,
            Origin::Repository(repository.to_string()),
        );
        c.uri = Some(entry.uri.clone());
        c.size = Some(entry.size);
        c
    }

    /// A candidate from the install database (texts are parsed back).
    pub fn from_db(meta: &PackageMeta, origin: Origin) -> Result<Self, ResolveError> {
        let parse = |text: &String| {
            text.parse::<Provider>()
                .map_err(|source| ResolveError::BadMetadata {
                    package: meta.name.clone(),
                    text: text.clone(),
                    reason: source.to_string(),
                })
        };
        let mut providers = vec![Provider::new(DependencyKind::PackageName, &meta.name)];
        for p in &meta.providers {
            let p = parse(p)?;
            if !providers.contains(&p) {
                providers.push(p);
            }
        }
        let depends = meta
            .dependencies
            .iter()
            .map(|d| parse(d).map(|p| Dependency::new(p.kind, p.name)))
            .collect::<Result<_, _>>()?;
        let conflicts = meta.conflicts.iter().map(parse).collect::<Result<_, _>>()?;
        Ok(Candidate {
            id: meta.id.clone(),
            name: meta.name.clone(),
            version: meta.version.clone(),
            source_release: meta.source_release,
            build_release: meta.build_release,
            providers,
            depends,
            conflicts,
            origin,
            uri: None,
            size: None,
        })
    }

    /// Whether it provides what `dep` asks for.
    pub fn provides(&self, dep: &Dependency) -> bool {
        self.providers
            .iter()
            .any(|p| p.kind == dep.kind && p.name == dep.name)
    }

    /// Whether it declares a conflict with anything `other` provides.
    pub fn conflicts_with(&self, other: &Candidate) -> Option<&Provider> {
        self.conflicts.iter().find(|c| other.providers.contains(c))
    }

    /// `name version-release (origin)`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} {}-{} ({})",
            self.name, self.version, self.source_release, self.origin
        )
    }
}

/// A set of candidates with one priority: the installed packages, or one
/// repository's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateSource {
    pub origin: Origin,
    /// Larger is preferred (repositories' configured priority).
    pub priority: u64,
    pub packages: Vec<Candidate>,
}

// Defined here rather than beside `RepoPackages` so that `repo` does not
// depend on the resolver that reads it.
impl RepoPackages {
    /// The repository's packages as a source of candidates.
    pub fn source(&self) -> CandidateSource {
        CandidateSource::repository(&self.repo.id, self.repo.config.priority, &self.entries)
    }
}

impl CandidateSource {
    /// Installed packages; their priority only matters relative to [`super::Prefer`].
    pub fn installed(packages: Vec<Candidate>) -> Self {
        CandidateSource {
            origin: Origin::Installed,
            priority: 0,
            packages,
        }
    }

    /// A repository's packages from its index.
    pub fn repository(name: &str, priority: u64, entries: &[IndexEntry]) -> Self {
        CandidateSource {
            origin: Origin::Repository(name.to_string()),
            priority,
            packages: entries
                .iter()
                .map(|e| Candidate::from_index(e, name))
                .collect(),
        }
    }
}
