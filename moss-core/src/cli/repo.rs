//! `moss repo add|list|remove|update`: the root's repositories.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::installation::Installation;
use crate::repo::Repositories;

#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Add (or replace) a repository and fetch its index.
    Add {
        /// Repository id.
        name: String,
        /// Its index: `https://…/stone.index`, `file:///…`, or a local path
        /// (a folder means `<folder>/stone.index`).
        uri: String,
        /// Larger wins when several repositories offer a package.
        #[arg(short, long, default_value_t = 0)]
        priority: u64,
        /// A short description.
        #[arg(short, long, default_value = "")]
        comment: String,
    },
    /// List the repositories, highest priority first.
    List,
    /// Remove a repository (and its cached index).
    Remove { name: String },
    /// Refresh the cached index of one repository, or of all.
    Update { name: Option<String> },
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let inst = Installation::open(root).into_diagnostic()?;
    let _lock = inst.lock().into_diagnostic()?;
    let mut repos = Repositories::load(inst.root(), &inst.moss_dir()).into_diagnostic()?;
    match args {
        Args::Add {
            name,
            uri,
            priority,
            comment,
        } => {
            let cwd = std::env::current_dir().into_diagnostic()?;
            let repo = repos
                .add(&name, &uri, priority, &comment, &cwd)
                .into_diagnostic()?;
            let count = match repos.refresh(&repo.id) {
                Ok(count) => count,
                Err(e) => {
                    // A repository that cannot be fetched is not kept.
                    let _ = repos.remove(&repo.id);
                    return Err(e).into_diagnostic();
                }
            };
            println!(
                "added {} ({}, priority {}): {count} packages",
                repo.id, repo.config.uri, repo.config.priority
            );
        }
        Args::List => {
            for repo in repos.list() {
                let state = if repo.config.active {
                    ""
                } else {
                    " (disabled)"
                };
                let source = match &repo.config.root {
                    None => repo.config.uri.clone(),
                    Some(r) => format!("{} {} {} {}", r.base_uri, r.channel, r.version, r.arch),
                };
                println!(
                    "{} {} priority {}{state}{}",
                    repo.id,
                    source,
                    repo.config.priority,
                    if repo.config.description.is_empty() {
                        String::new()
                    } else {
                        format!(" - {}", repo.config.description)
                    }
                );
            }
        }
        Args::Remove { name } => {
            repos.remove(&name).into_diagnostic()?;
            println!("removed {name}");
        }
        Args::Update { name } => {
            let refreshed = match name {
                Some(name) => vec![(name.clone(), repos.refresh(&name).into_diagnostic()?)],
                None => repos.refresh_all().into_diagnostic()?,
            };
            for (id, count) in refreshed {
                println!("refreshed {id}: {count} packages");
            }
        }
    }
    Ok(())
}
