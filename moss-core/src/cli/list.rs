//! `moss list installed`: the packages of the active state.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::transaction::Engine;

#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Packages of the active state.
    Installed {
        /// Only packages that were asked for explicitly.
        #[arg(short, long)]
        explicit: bool,
    },
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let Args::Installed { explicit } = args;
    let engine = Engine::open_read_only(root).into_diagnostic()?;
    for (meta, is_explicit) in engine.installed().into_diagnostic()? {
        if explicit && !is_explicit {
            continue;
        }
        println!(
            "{} {}-{} - {}",
            meta.name, meta.version, meta.source_release, meta.summary
        );
    }
    Ok(())
}
