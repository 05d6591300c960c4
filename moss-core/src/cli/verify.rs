//! `moss verify`: check the store and the live tree; `--repair` fixes what it can.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rebuild the live tree from the database and drop corrupt assets.
    #[arg(long)]
    pub repair: bool,
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let mut engine = Engine::open(root).into_diagnostic()?;
    let report = engine.verify(args.repair).into_diagnostic()?;
    for issue in &report.issues {
        println!("{issue}");
    }
    println!(
        "checked {} assets and {} tree entries: {} issue(s){}",
        report.assets,
        report.entries,
        report.issues.len(),
        if report.repaired { ", repaired" } else { "" }
    );
    if report.issues.is_empty() || report.repaired {
        Ok(())
    } else {
        Err(miette::miette!(
            "verification found {} issue(s); run `moss verify --repair`",
            report.issues.len()
        ))
    }
}
