//! The client layer: repository transactions built from the modules below it.
//! Resolve requests against the repositories and the installed state
//! (`resolve`), fetch what is not cached (`fetch`), unpacking each package as
//! soon as it is verified, then make the new state (`transaction`).
//!
//! It sits above `repo`, `fetch`, `resolve` and `transaction` so that none of
//! those needs another's orchestration: they depend on each other one way only.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::db::Selection;
use crate::fetch::{Download, FetchError, FetchObserver, FetchSummary, Fetcher};
use crate::repo::{RepoError, RepoPackages};
use crate::resolve::{
    Candidate, CandidateSource, Origin, Prefer, Request, ResolveError, Resolver, Selected,
};
use crate::stone::{Dependency, DependencyKind};
use crate::transaction::{Engine, EngineError, TransactionReport};

/// Errors of repository transactions.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Repo(Box<RepoError>),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Engine(Box<EngineError>),
    #[error("package {name} comes from repository {repo}, which is not configured")]
    MissingRepository { name: String, repo: String },
}

impl From<RepoError> for OpError {
    fn from(e: RepoError) -> Self {
        OpError::Repo(Box::new(e))
    }
}

impl From<EngineError> for OpError {
    fn from(e: EngineError) -> Self {
        OpError::Engine(Box::new(e))
    }
}

/// A resolved change, not applied yet.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The complete new selection.
    pub selected: Vec<Selected>,
    /// Packages of the new selection that are not installed now.
    pub added: Vec<Candidate>,
    /// Installed packages the new selection drops.
    pub removed: Vec<Candidate>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// What applying a plan did, with timings for the summary line.
#[derive(Debug, Clone)]
pub struct OpReport {
    pub fetch: FetchSummary,
    /// Packages fetched and unpacked into the store.
    pub fetched: usize,
    /// Time unpacking into the store (overlaps the downloads).
    pub unpack: Duration,
    /// Building, blitting and swapping in the new tree.
    pub commit: Duration,
    pub transaction: TransactionReport,
    pub assets_written: u64,
    pub bytes_written: u64,
}

fn installed(engine: &Engine) -> Result<Vec<(Candidate, bool)>, OpError> {
    engine
        .installed()?
        .iter()
        .map(|(meta, explicit)| Ok((Candidate::from_db(meta, Origin::Installed)?, *explicit)))
        .collect()
}

fn sources(installed: &[(Candidate, bool)], repos: &[RepoPackages]) -> Vec<CandidateSource> {
    let mut out = vec![CandidateSource::installed(
        installed.iter().map(|(c, _)| c.clone()).collect(),
    )];
    out.extend(repos.iter().map(RepoPackages::source));
    out
}

fn diff(installed: &[(Candidate, bool)], selected: Vec<Selected>) -> Plan {
    let before: HashSet<&str> = installed.iter().map(|(c, _)| c.id.as_str()).collect();
    let after: HashSet<&str> = selected.iter().map(|s| s.candidate.id.as_str()).collect();
    let added = selected
        .iter()
        .filter(|s| !before.contains(s.candidate.id.as_str()))
        .map(|s| s.candidate.clone())
        .collect();
    let removed = installed
        .iter()
        .filter(|(c, _)| !after.contains(c.id.as_str()))
        .map(|(c, _)| c.clone())
        .collect();
    Plan {
        selected,
        added,
        removed,
    }
}

/// `moss install NAME|PROVIDER…`: the installed packages plus the requests
/// and everything they need, installed packages preferred.
pub fn plan_install(
    engine: &Engine,
    repos: &[RepoPackages],
    requests: &[Request],
) -> Result<Plan, OpError> {
    let installed = installed(engine)?;
    let resolver = Resolver::new(sources(&installed, repos), Prefer::Installed);
    let keep = installed
        .iter()
        .map(|(c, explicit)| Selected {
            candidate: c.clone(),
            explicit: *explicit,
            reason: "installed".into(),
        })
        .collect();
    Ok(diff(&installed, resolver.resolve_onto(keep, requests)?))
}

/// `moss sync`: every explicitly installed package moves to the best
/// candidate with its name (a downgrade when a repository went away);
/// dependencies are resolved afresh, so orphans are dropped.
pub fn plan_sync(engine: &Engine, repos: &[RepoPackages]) -> Result<Plan, OpError> {
    let installed = installed(engine)?;
    let resolver = Resolver::new(sources(&installed, repos), Prefer::Available);
    let requests: Vec<Request> = installed
        .iter()
        .filter(|(_, explicit)| *explicit)
        .map(|(c, _)| Request {
            dependency: Dependency::new(DependencyKind::PackageName, &c.name),
            explicit: true,
        })
        .collect();
    Ok(diff(&installed, resolver.resolve(&requests)?))
}

/// Fetches and unpacks what the plan needs, then makes its selection the
/// new active state. Nothing changes the live tree before every package is
/// verified and cached.
pub fn apply(
    engine: &mut Engine,
    repos: &[RepoPackages],
    plan: &Plan,
    summary: &str,
    observer: &dyn FetchObserver,
) -> Result<OpReport, OpError> {
    let by_repo: HashMap<&str, &RepoPackages> =
        repos.iter().map(|r| (r.repo.id.as_str(), r)).collect();
    let mut downloads = Vec::new();
    let mut ids = Vec::new();
    for c in &plan.added {
        let Origin::Repository(repo) = &c.origin else {
            continue;
        };
        if engine.is_cached(&c.id)? {
            continue;
        }
        let packages = by_repo
            .get(repo.as_str())
            .ok_or_else(|| OpError::MissingRepository {
                name: c.name.clone(),
                repo: repo.clone(),
            })?;
        let uri = c.uri.as_deref().unwrap_or_default();
        downloads.push(Download {
            label: format!("{}-{}-{}", c.name, c.version, c.source_release),
            source: packages.index.join(uri),
            sha256: c.id.clone(),
            size: c.size,
        });
        ids.push(c.id.clone());
    }
    let fetcher = Fetcher::new(engine.installation().moss_dir().join("cache/downloads"));
    let (mut assets, mut bytes) = (0, 0);
    let fetch = fetcher.fetch_all(&downloads, observer, |fetched| -> Result<(), OpError> {
        let report = engine.cache_package(&fetched.path, &ids[fetched.index])?;
        assets += report.assets_written;
        bytes += report.bytes_written;
        Ok(())
    })?;
    let selections: Vec<Selection> = plan
        .selected
        .iter()
        .map(|s| Selection {
            package_id: s.candidate.id.clone(),
            explicit: s.explicit,
            reason: Some(s.reason.clone()),
        })
        .collect();
    let start = Instant::now();
    let transaction = engine.apply_selections(summary, &selections)?;
    Ok(OpReport {
        fetch,
        fetched: downloads.len(),
        unpack: fetch.consume,
        commit: start.elapsed(),
        transaction,
        assets_written: assets,
        bytes_written: bytes,
    })
}
