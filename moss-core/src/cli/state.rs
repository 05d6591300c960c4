//! `moss state list|show ID|activate ID|prune --keep N`.

use std::path::Path;

use miette::IntoDiagnostic;

use crate::transaction::Engine;

#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// All states, oldest first; `*` marks the active one.
    List,
    /// One state and its selected packages.
    Show { id: i64 },
    /// Make an earlier state live again.
    Activate {
        id: i64,
        /// Do not run the system triggers of the activated tree.
        #[arg(long)]
        skip_triggers: bool,
    },
    /// Remove old states, their trees, and assets nothing needs any more.
    Prune {
        /// States to keep, the active one included.
        #[arg(short, long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        keep: u32,
    },
}

pub fn run(root: &Path, args: Args) -> miette::Result<()> {
    let mut engine = Engine::open(root).into_diagnostic()?;
    match args {
        Args::List => {
            let active = engine.active_state().into_diagnostic()?;
            let now = super::when::now();
            for s in engine.states().into_diagnostic()? {
                let mark = if Some(s.id) == active { "*" } else { " " };
                println!(
                    "{mark} {:>4}  {}  {:<8} {} package(s)",
                    s.id,
                    super::when::describe(s.created, now),
                    s.summary.as_deref().unwrap_or(""),
                    s.selections.len()
                );
            }
        }
        Args::Show { id } => {
            let state = engine.state(id).into_diagnostic()?;
            println!(
                "State {} ({}), created {}",
                state.id,
                state.summary.as_deref().unwrap_or(""),
                super::when::describe(state.created, super::when::now())
            );
            for sel in &state.selections {
                let name = engine
                    .package_by_id(&sel.package_id)
                    .into_diagnostic()?
                    .map_or_else(|| sel.package_id.clone(), |m| m.display_id());
                let how = if sel.explicit {
                    "explicit"
                } else {
                    "pulled in"
                };
                println!("  {name} ({how})");
            }
        }
        Args::Activate { id, skip_triggers } => {
            let report = engine.activate_with(id, !skip_triggers).into_diagnostic()?;
            match report.previous {
                Some(previous) => println!("state {} is active (was {previous})", report.state),
                None => println!("state {} is active (none was before)", report.state),
            }
            for line in report.triggers.report_lines() {
                eprintln!("{line}");
            }
        }
        Args::Prune { keep } => {
            let r = engine.prune(keep as usize).into_diagnostic()?;
            println!(
                "removed {} state(s){}, {} archived tree(s) ({} bytes), {} package(s), \
                 {} asset(s) ({} bytes), {} mode variant(s) ({} bytes)",
                r.states.len(),
                if r.states.is_empty() {
                    String::new()
                } else {
                    let ids: Vec<String> = r.states.iter().map(ToString::to_string).collect();
                    format!(" ({})", ids.join(", "))
                },
                r.trees,
                r.tree_bytes,
                r.packages,
                r.assets,
                r.asset_bytes,
                r.variants,
                r.variant_bytes
            );
        }
    }
    Ok(())
}
