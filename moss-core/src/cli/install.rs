//! `moss install ./a.stone …`: install local stones as one transaction.

use std::path::{Path, PathBuf};

use miette::IntoDiagnostic;

use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Local `.stone` files to install.
    #[arg(required = true)]
    pub stones: Vec<PathBuf>,
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let mut engine = Engine::open(root).into_diagnostic()?;
    let report = engine.install(&args.stones).into_diagnostic()?;
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
    Ok(())
}
