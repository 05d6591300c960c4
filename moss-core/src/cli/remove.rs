//! `moss remove NAME…`: remove installed packages as one transaction.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Names of installed packages.
    #[arg(required = true)]
    pub names: Vec<String>,
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let mut engine = Engine::open(root).into_diagnostic()?;
    let report = engine.remove(&args.names).into_diagnostic()?;
    println!(
        "state {} is active: {} entries blitted",
        report.state,
        report.blit.entries()
    );
    for line in report.triggers.report_lines() {
        eprintln!("{line}");
    }
    Ok(())
}
