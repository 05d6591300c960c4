//! `moss install NAME|PROVIDER…` from the configured repositories, or
//! `moss install ./a.stone …` for local stones with what they depend on
//! from the configured repositories (one transaction either way).

use std::path::{Path, PathBuf};

use miette::IntoDiagnostic;

use super::progress::{summary, Progress};
use crate::client;
use crate::fetch::uri::Location;
use crate::repo::Repositories;
use crate::repo::{IndexEntry, Repo, RepoConfig, RepoPackages};
use crate::resolve::Request;
use crate::stone::{Dependency, DependencyKind, StoneReader};
use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Package names, providers such as `soname(libz.so.1(x86_64))` or
    /// `pkgconfig(zlib)`, or local `.stone` files.
    #[arg(required = true)]
    pub packages: Vec<String>,
}

fn is_stone_file(arg: &str) -> bool {
    arg.ends_with(".stone") && Path::new(arg).is_file()
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let stones = args.packages.iter().filter(|a| is_stone_file(a)).count();
    if stones == args.packages.len() {
        let paths: Vec<PathBuf> = args.packages.iter().map(PathBuf::from).collect();
        return install_stones(root, &paths);
    }
    if stones > 0 {
        return Err(miette::miette!(
            "give either local .stone files or package names/providers, not both"
        ));
    }
    let requests = args
        .packages
        .iter()
        .map(|a| Request::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .into_diagnostic()?;
    let mut engine = Engine::open(root).into_diagnostic()?;
    let inst = engine.installation().clone();
    let repos = Repositories::load(inst.root(), &inst.moss_dir())
        .and_then(|r| r.packages())
        .into_diagnostic()?;
    plan_and_apply(
        &mut engine,
        &repos,
        &requests,
        "every request is already installed",
    )
}

/// Local stones, with what they depend on from the configured
/// repositories (one transaction). Without repositories, the stones alone.
fn install_stones(root: &Path, stones: &[PathBuf]) -> miette::Result<()> {
    let mut engine = Engine::open(root).into_diagnostic()?;
    let inst = engine.installation().clone();
    let mut repos = Repositories::load(inst.root(), &inst.moss_dir())
        .and_then(|r| r.packages())
        .into_diagnostic()?;
    if repos.is_empty() {
        let report = engine.install(stones).into_diagnostic()?;
        println!(
            "state {} is active: {} entries blitted, {} new assets ({} bytes)",
            report.state,
            report.blit.entries(),
            report.assets_written,
            report.bytes_written
        );
        for line in report.triggers.report_lines() {
            eprintln!("{line}");
        }
        return Ok(());
    }
    let (local, requests) = local_repository(stones)?;
    // The stones go into the store first: the transaction then needs no
    // download for them, only for their dependencies.
    for entry in &local.entries {
        let path = PathBuf::from(entry.uri.trim_start_matches("file://"));
        engine.cache_package(&path, &entry.hash).into_diagnostic()?;
    }
    repos.push(local);
    plan_and_apply(
        &mut engine,
        &repos,
        &requests,
        "every stone is already installed",
    )
}

/// Plans the requests against the repositories, prints what is added and
/// applies it as one transaction; `nothing` says why when there is no work.
fn plan_and_apply(
    engine: &mut Engine,
    repos: &[RepoPackages],
    requests: &[Request],
    nothing: &str,
) -> miette::Result<()> {
    let plan = client::plan_install(engine, repos, requests).into_diagnostic()?;
    if plan.is_empty() {
        println!("nothing to do: {nothing}");
        return Ok(());
    }
    for c in &plan.added {
        println!(
            "install {} {}-{} ({})",
            c.name, c.version, c.source_release, c.origin
        );
    }
    let report =
        client::apply(engine, repos, &plan, "Install", &Progress::new()).into_diagnostic()?;
    println!("{}", summary(&report, plan.added.len(), plan.removed.len()));
    Ok(())
}

/// The stones as a repository of their own, preferred over every
/// configured one, and a request for each by name.
fn local_repository(stones: &[PathBuf]) -> miette::Result<(RepoPackages, Vec<Request>)> {
    use sha2::{Digest, Sha256};
    let mut entries = Vec::new();
    let mut requests = Vec::new();
    for path in stones {
        let path = std::fs::canonicalize(path).into_diagnostic()?;
        let bytes = std::fs::read(&path).into_diagnostic()?;
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let meta = StoneReader::open_path(&path)
            .and_then(|r| r.meta())
            .into_diagnostic()?;
        requests.push(Request {
            dependency: Dependency::new(DependencyKind::PackageName, &meta.name),
            explicit: true,
        });
        entries.push(IndexEntry {
            meta,
            uri: format!("file://{}", path.display()),
            hash,
            size: bytes.len() as u64,
        });
    }
    let repo = Repo {
        id: "local-stones".into(),
        config: RepoConfig::direct(
            "the .stone files named on the command line".into(),
            String::new(),
            u64::MAX,
        ),
    };
    let index = Location::Local(PathBuf::from("/"));
    Ok((
        RepoPackages {
            repo,
            index,
            entries,
        },
        requests,
    ))
}
