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
    // Checking alone writes nothing: it works on a full disk.
    let mut engine = if args.repair {
        Engine::open(root)
    } else {
        Engine::open_read_only(root)
    }
    .into_diagnostic()?;
    let report = engine.verify(args.repair).into_diagnostic()?;
    for issue in &report.issues {
        println!("{issue}");
    }
    let fixed = report.issues.len().saturating_sub(report.remaining.len());
    println!(
        "checked {} assets and {} tree entries: {} issue(s){}",
        report.assets,
        report.entries,
        report.issues.len(),
        if args.repair {
            format!(", {fixed} repaired, {} remaining", report.remaining.len())
        } else {
            String::new()
        }
    );
    if args.repair {
        for issue in &report.remaining {
            println!("still: {issue}");
        }
    }
    let left = if args.repair {
        report.remaining.len()
    } else {
        report.issues.len()
    };
    let unreadable_only = report
        .issues
        .iter()
        .all(|i| matches!(i, crate::transaction::VerifyIssue::Unreadable { .. }));
    match (left, args.repair) {
        (0, _) => Ok(()),
        (n, true) => Err(miette::miette!("{n} issue(s) remain after the repair")),
        (n, false) if unreadable_only => Err(miette::miette!(
            "{n} file(s) could not be read, so they were not checked"
        )),
        (n, false) => Err(miette::miette!(
            "verification found {n} issue(s); run `moss verify --repair`"
        )),
    }
}
