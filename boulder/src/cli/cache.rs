//! `boulder cache prune|info`, and the cache options and import progress
//! display that every command using build roots shares.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Subcommand};
use miette::IntoDiagnostic;

use crate::root::{self, prune, Cache, ImportProgress};

/// Where the cache and the profiles are.
#[derive(Debug, Clone, Default, Args)]
pub struct CacheArgs {
    /// Cache directory (build roots, the store, imported repositories).
    /// Default: `$XDG_CACHE_HOME/boulder`.
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
    /// Directory of profile files (`NAME.yaml`). Default: `$XDG_CONFIG_HOME/boulder/profiles`.
    #[arg(long, value_name = "DIR", global = true)]
    pub profiles_dir: Option<PathBuf>,
}

impl CacheArgs {
    /// Opens the cache with import progress drawn on stderr.
    pub fn open(&self) -> miette::Result<Cache> {
        Ok(Cache::open(self.cache_dir.as_deref())
            .into_diagnostic()?
            .with_profiles_dir(self.profiles_dir.clone())
            .with_progress(Arc::new(ProgressDisplay::new())))
    }
}

/// Draws host-import progress: a bar on a terminal, plain lines otherwise.
pub struct ProgressDisplay {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    tty: bool,
}

impl ProgressDisplay {
    pub fn new() -> Self {
        ProgressDisplay {
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal(),
        }
    }
}

impl Default for ProgressDisplay {
    fn default() -> Self {
        Self::new()
    }
}

impl ImportProgress for ProgressDisplay {
    fn start(&self, total: usize) {
        eprintln!("Importing the host's toolchain ({total} packages) into the build cache…");
        if self.tty {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            if let Ok(mut slot) = self.bar.lock() {
                *slot = Some(bar);
            }
        }
    }

    fn package(&self, name: &str, repacked: bool) {
        let verb = if repacked { "packed" } else { "unchanged" };
        match self.bar.lock().ok().as_ref().and_then(|b| b.as_ref()) {
            Some(bar) => {
                bar.set_message(format!("{name} ({verb})"));
                bar.inc(1);
            }
            None => eprintln!("  {name}: {verb}"),
        }
    }

    fn finish(&self, repacked: usize, total: usize) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
        eprintln!("Host import done: {repacked} of {total} packages packed.");
    }

    fn wanted(&self, package: &str, reasons: &[String]) {
        eprintln!(
            "Importing {package} from the host for {}",
            reasons.join(", ")
        );
    }

    fn warn(&self, message: &str) {
        match self.bar.lock().ok().as_ref().and_then(|b| b.as_ref()) {
            Some(bar) => bar.println(format!("warning: {message}")),
            None => eprintln!("warning: {message}"),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Remove unused build roots, old build directories, unreferenced store assets, and
    /// downloaded sources and git mirrors unused for `--days`.
    Prune(PruneArgs),
    /// Show where the cache is and what it holds.
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Remove roots, build directories and sources unused for this many days.
    #[arg(long, default_value_t = 14)]
    pub days: u64,
    /// Then remove least recently used roots until roots and store fit in this many MiB.
    #[arg(long, value_name = "MIB")]
    pub max_size: Option<u64>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub cache: CacheArgs,
}

pub fn run(command: CacheCommand) -> miette::Result<ExitCode> {
    match command {
        CacheCommand::Prune(args) => {
            let cache = args.cache.open()?;
            let options = prune::PruneOptions {
                max_age: Duration::from_secs(args.days.saturating_mul(24 * 3600)),
                max_bytes: args.max_size.map(|m| m.saturating_mul(1 << 20)),
            };
            let report = prune::prune(&cache, &options).into_diagnostic()?;
            let upstreams = crate::upstream::UpstreamCache::new(cache.dir());
            let sources = crate::upstream::prune::prune_sources(&upstreams, options.max_age)
                .into_diagnostic()?;
            println!(
                "Removed {} root(s), {} build director(y/ies), {} store asset(s) ({} MiB), \
                 {} source archive(s) or git mirror(s) ({} MiB).",
                report.roots.len(),
                report.builds,
                report.assets,
                report.bytes >> 20,
                sources.entries,
                sources.bytes >> 20
            );
            Ok(ExitCode::SUCCESS)
        }
        CacheCommand::Info(args) => {
            let cache = args.cache.open()?;
            println!("cache:  {}", cache.dir().display());
            let roots = prune::roots(&cache);
            println!("roots:  {}", roots.len());
            for key in roots {
                println!("  {}", cache.roots_dir().join(key).display());
            }
            println!("builds: {}", root::BuildDirs::all(&cache).len());
            println!(
                "size:   {} MiB (roots and store)",
                prune::usage(&cache) >> 20
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
