//! `moss sync`: move the installed selection to the best candidates of the
//! configured repositories.

use std::path::Path;

use miette::IntoDiagnostic;

use super::progress::{summary, Progress};
use crate::client;
use crate::repo::Repositories;
use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Refresh every repository's index first.
    #[arg(short, long)]
    pub update: bool,
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let mut engine = Engine::open(root).into_diagnostic()?;
    let inst = engine.installation().clone();
    let repositories = Repositories::load(inst.root(), &inst.moss_dir()).into_diagnostic()?;
    if args.update {
        for (id, count) in repositories.refresh_all().into_diagnostic()? {
            println!("refreshed {id}: {count} packages");
        }
    }
    let repos = repositories.packages().into_diagnostic()?;
    let plan = client::plan_sync(&engine, &repos).into_diagnostic()?;
    if plan.is_empty() {
        println!("nothing to do: the installed packages are the best candidates");
        return Ok(());
    }
    for c in &plan.removed {
        println!("remove {} {}-{}", c.name, c.version, c.source_release);
    }
    for c in &plan.added {
        println!(
            "add {} {}-{} ({})",
            c.name, c.version, c.source_release, c.origin
        );
    }
    let report =
        client::apply(&mut engine, &repos, &plan, "Sync", &Progress::new()).into_diagnostic()?;
    println!("{}", summary(&report, plan.added.len(), plan.removed.len()));
    Ok(())
}
