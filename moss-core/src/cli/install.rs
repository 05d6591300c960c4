//! `moss install NAME|PROVIDER…` from the configured repositories, or
//! `moss install ./a.stone …` for local stones (one transaction either way).

use std::path::{Path, PathBuf};

use miette::IntoDiagnostic;

use super::progress::{summary, Progress};
use crate::repo::{ops, Repositories};
use crate::resolve::Request;
use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Package names, providers such as `soname(libz.so.1(x86_64))` or
    /// `pkgconfig(zlib)`, or local `.stone` files.
    #[arg(required = true)]
    pub packages: Vec<String>,
}

fn is_stone_file(arg: &str) -> bool {
    arg.ends_with(".stone") && Path::new(arg).is_file()
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let stones = args.packages.iter().filter(|a| is_stone_file(a)).count();
    if stones == args.packages.len() {
        let paths: Vec<PathBuf> = args.packages.iter().map(PathBuf::from).collect();
        return install_stones(root, &paths);
    }
    if stones > 0 {
        return Err(miette::miette!(
            "give either local .stone files or package names/providers, not both"
        ));
    }
    let requests = args
        .packages
        .iter()
        .map(|a| Request::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .into_diagnostic()?;
    let mut engine = Engine::open(root).into_diagnostic()?;
    let inst = engine.installation().clone();
    let repos = Repositories::load(inst.root(), &inst.moss_dir())
        .and_then(|r| r.packages())
        .into_diagnostic()?;
    let plan = ops::plan_install(&engine, &repos, &requests).into_diagnostic()?;
    if plan.is_empty() {
        println!("nothing to do: every request is already installed");
        return Ok(());
    }
    for c in &plan.added {
        println!(
            "install {} {}-{} ({})",
            c.name, c.version, c.source_release, c.origin
        );
    }
    let report =
        ops::apply(&mut engine, &repos, &plan, "Install", &Progress::new()).into_diagnostic()?;
    println!("{}", summary(&report, plan.added.len(), plan.removed.len()));
    Ok(())
}

fn install_stones(root: &Path, stones: &[PathBuf]) -> miette::Result<()> {
    let mut engine = Engine::open(root).into_diagnostic()?;
    let report = engine.install(stones).into_diagnostic()?;
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
