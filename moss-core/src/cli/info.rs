//! `moss info NAME…`: details of installed or cached packages, or else of
//! the best candidate the configured repositories offer.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::db::PackageMeta;
use crate::repo::{RepoPackages, Repositories};
use crate::resolve::{CandidateSource, Prefer, Resolver};
use crate::stone::LayoutKind;
use crate::stone::{Dependency, DependencyKind};
use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Package names.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Also list the package's files.
    #[arg(short, long)]
    pub files: bool,
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let engine = Engine::open_read_only(root).into_diagnostic()?;
    let installed = engine.installed().into_diagnostic()?;
    let mut repos: Option<Vec<RepoPackages>> = None;
    for name in &args.names {
        let Some(meta) = engine.package_by_name(name).into_diagnostic()? else {
            if repos.is_none() {
                let inst = engine.installation();
                repos = Some(
                    Repositories::load(inst.root(), &inst.moss_dir())
                        .and_then(|r| r.packages())
                        .into_diagnostic()?,
                );
            }
            print_available(name, repos.as_deref().unwrap_or_default())?;
            continue;
        };
        let is_installed = installed.iter().any(|(m, _)| m.id == meta.id);
        print_meta(&meta);
        println!("Installed:    {}", if is_installed { "yes" } else { "no" });
        println!("Package id:   {}", meta.id);
        if args.files {
            for rec in engine.files(&meta.id).into_diagnostic()? {
                match &rec.kind {
                    LayoutKind::Symlink { target } => {
                        println!("  /usr/{} -> {target}", rec.path)
                    }
                    _ => println!("  /usr/{}", rec.path),
                }
            }
        }
        println!();
    }
    Ok(())
}

/// The best repository candidate named `name`, as install would choose it.
fn print_available(name: &str, repos: &[RepoPackages]) -> miette::Result<()> {
    let sources: Vec<CandidateSource> = repos.iter().map(RepoPackages::source).collect();
    let resolver = Resolver::new(sources, Prefer::Available);
    let wanted = Dependency::new(DependencyKind::PackageName, name);
    let Some(best) = resolver.candidates(&wanted).find(|c| c.name == name) else {
        return Err(miette::miette!(
            "no package named {name} is installed, cached or offered by a configured repository"
        ));
    };
    let entry = repos
        .iter()
        .flat_map(|r| r.entries.iter().map(move |e| (r, e)))
        .find(|(_, e)| e.hash == best.id);
    let Some((repo, entry)) = entry else {
        return Err(miette::miette!(
            "package {name} vanished from the repository cache"
        ));
    };
    print_meta(&PackageMeta::from_stone(entry.hash.clone(), &entry.meta));
    println!("Installed:    no");
    println!(
        "Repository:   {} (priority {})",
        repo.repo.id, repo.repo.config.priority
    );
    println!("URI:          {}", repo.package_location(entry));
    println!("Size:         {}", entry.size);
    println!("Package id:   {}", entry.hash);
    println!();
    Ok(())
}

/// The lines every package has, installed or offered.
fn print_meta(meta: &PackageMeta) {
    println!("Name:         {}", meta.name);
    println!("Version:      {}", meta.version);
    println!("Release:      {}", meta.source_release);
    println!("Build:        {}", meta.build_release);
    println!("Architecture: {}", meta.architecture);
    println!("Summary:      {}", meta.summary);
    println!("Description:  {}", meta.description);
    println!("Homepage:     {}", meta.homepage);
    println!("Licenses:     {}", meta.licenses.join(", "));
    for (label, list) in [
        ("Depends:", &meta.dependencies),
        ("Provides:", &meta.providers),
        ("Conflicts:", &meta.conflicts),
    ] {
        if !list.is_empty() {
            println!("{label:<13} {}", list.join(", "));
        }
    }
}
