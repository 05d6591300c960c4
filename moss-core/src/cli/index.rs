//! `moss index DIR [-o OUT]`: write `stone.index` for a folder of stones.

use std::path::{Path, PathBuf};

use miette::IntoDiagnostic;

use crate::repo;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder searched (recursively) for `.stone` files.
    pub dir: PathBuf,
    /// Folder to write `stone.index` into (default: DIR); package URIs are
    /// relative to it.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &Args) -> miette::Result<()> {
    let out: &Path = args.output.as_deref().unwrap_or(&args.dir);
    let report = repo::write_index_to(&args.dir, out).into_diagnostic()?;
    for entry in &report.entries {
        println!(
            "{} {}-{} {}",
            entry.meta.name, entry.meta.version, entry.meta.source_release, entry.uri
        );
    }
    for path in &report.superseded {
        println!("skipped {} (a newer release is indexed)", path.display());
    }
    println!(
        "wrote {} with {} packages",
        report.path.display(),
        report.entries.len()
    );
    Ok(())
}
