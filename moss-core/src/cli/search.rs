//! `moss search WORD`: packages whose name or summary mentions a word.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::repo::Repositories;
use crate::transaction::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Matched case-insensitively against names and summaries.
    pub word: String,
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let engine = Engine::open_read_only(root).into_diagnostic()?;
    let inst = engine.installation().clone();
    let word = args.word.to_lowercase();
    let matches = |name: &str, summary: &str| {
        name.to_lowercase().contains(&word) || summary.to_lowercase().contains(&word)
    };
    let installed = engine.installed().into_diagnostic()?;
    let mut found = 0;
    for (meta, _) in &installed {
        if matches(&meta.name, &meta.summary) {
            found += 1;
            println!(
                "{} {}-{} [installed] - {}",
                meta.name, meta.version, meta.source_release, meta.summary
            );
        }
    }
    let repos = Repositories::load(inst.root(), &inst.moss_dir())
        .and_then(|r| r.packages())
        .into_diagnostic()?;
    for repo in &repos {
        for e in &repo.entries {
            let m = &e.meta;
            if matches(&m.name, &m.summary) && !installed.iter().any(|(i, _)| i.id == e.hash) {
                found += 1;
                println!(
                    "{} {}-{} [{}] - {}",
                    m.name, m.version, m.source_release, repo.repo.id, m.summary
                );
            }
        }
    }
    if found == 0 {
        return Err(miette::miette!("no package matches {:?}", args.word));
    }
    Ok(())
}
