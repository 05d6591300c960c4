//! `boulder profile list|show|import-host`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use miette::IntoDiagnostic;

use super::cache::CacheArgs;
use crate::root::{import, profile, Profile};

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the profiles (shipped ones and those in the profiles directory).
    List(ListArgs),
    /// Show a profile's repositories and base package set.
    Show(ShowArgs),
    /// Pack the host's toolchain (dpkg) as stones into the `host` repository.
    /// Only packages that changed since the last import are packed again.
    ImportHost(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Profile name.
    #[arg(default_value = profile::DEFAULT_PROFILE)]
    pub name: String,
    #[command(flatten)]
    pub cache: CacheArgs,
}

pub fn run(command: ProfileCommand) -> miette::Result<ExitCode> {
    match command {
        ProfileCommand::List(args) => {
            let cache = args.cache.open()?;
            for name in profile::list(&cache) {
                println!("{name}");
            }
        }
        ProfileCommand::Show(args) => {
            let cache = args.cache.open()?;
            let p = Profile::load(&cache, &args.name).into_diagnostic()?;
            println!("profile {}: {}", p.name, p.description);
            if let Some(source) = &p.source {
                println!("from {}", source.display());
            }
            for repo in &p.repositories {
                let place = repo
                    .uri
                    .clone()
                    .or_else(|| repo.base_uri.clone())
                    .unwrap_or_default();
                println!(
                    "  repository {} (priority {}): {place}",
                    repo.name, repo.priority
                );
            }
            println!("  packages: {}", p.packages.join(" "));
        }
        ProfileCommand::ImportHost(args) => {
            let cache = args.cache.open()?;
            let report = import::import_host(&cache, true).into_diagnostic()?;
            println!(
                "{} packages in {} ({} packed, {:.1}s)",
                report.packages,
                report.index.display(),
                report.repacked.len(),
                report.elapsed.as_secs_f64()
            );
            if !report.missing.is_empty() {
                println!("not installed on this host: {}", report.missing.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
