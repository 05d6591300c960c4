//! `boulder build [RECIPE] [-o DIR] [--install ROOT] [--verify MANIFEST]`:
//! build a recipe into stones and manifests, rendering progress, phase
//! output, the failure report and the timing table. Several recipes (or a
//! directory of them) and `--plan` go to [`super::build_many`].

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use clap::Args;

use super::cache::CacheArgs;
use super::output::{self, Verbosity};
use crate::build::failure::{Limit, FAILED_LINE_MARKER};
use crate::build::log::{format_duration, printable};
use crate::build::script::RECIPE_COMMANDS_MARKER;
use crate::build::{self, BuildError, BuildRequest, Event, PhaseFailure};
use crate::root;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Recipes (`stone.yaml` files, or directories searched for them). One recipe is
    /// built as it is; several are built in dependency order into the local repository.
    /// Default: the current directory.
    #[arg(default_value = ".", value_name = "RECIPE")]
    pub recipes: Vec<PathBuf>,
    /// Where the stones and manifests are written (for one recipe without `--repo`).
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
    /// Local repository: the stones go into `DIR/packages/<recipe>/`, `DIR/stone.index` is
    /// rewritten, and roots resolve from it before the profile's repositories (priority
    /// 1000). Default with several recipes: `OUTPUT/repo`.
    #[arg(long = "repo", value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Print the build plan as JSON (order, dependencies, digests) and build nothing.
    #[arg(long)]
    pub plan: bool,
    /// Build every recipe, also those that are up to date.
    #[arg(long)]
    pub force: bool,
    /// Install the new stones into this root (one moss transaction).
    #[arg(long, value_name = "ROOT")]
    pub install: Option<PathBuf>,
    /// Fail when the rebuild differs from the build that wrote this binary manifest
    /// (`manifest.<arch>.bin`): package metadata; file lists when its `.jsonc` lies beside
    /// it; file contents, modes and owners when its stones do. Every difference is listed.
    #[arg(long, value_name = "MANIFEST")]
    pub verify: Option<PathBuf>,
    /// Profile the build root is made from.
    #[arg(long, default_value = root::DEFAULT_PROFILE)]
    pub profile: String,
    /// Build release number of the stones.
    #[arg(short = 'b', long, default_value_t = 1)]
    pub build_release: u64,
    /// Parallel jobs (`%(jobs)`). Default: the number of CPUs.
    #[arg(short = 'j', long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Extra macro data directory (`DIR/macros/{arch,actions}`); repeatable, later wins.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dirs: Vec<PathBuf>,
    /// When a phase command fails, open the breakpoint console at it (needs a terminal).
    #[arg(long)]
    pub break_on_failure: bool,
    /// Without a terminal, fail at a breakpoint instead of reporting and skipping it.
    #[arg(long)]
    pub break_strict: bool,
    /// Refuse the recipe for every mistake `recipe check` reports, also for those
    /// upstream boulder accepts (unknown keys), which are otherwise warnings.
    #[arg(long)]
    pub strict: bool,
    /// Local source directory: a file whose sha256 is an upstream's is used instead of downloading it, whatever its name; git upstreams from `DIR/git/<host>/<path>`. Repeatable; `BOULDER_SOURCES` (`:`-separated) and `$XDG_CONFIG_HOME/boulder/sources` add more
    #[arg(long = "sources", value_name = "DIR")]
    pub sources: Vec<PathBuf>,
    /// At most this many processes in the build's sandbox (a fork bomb stops there).
    #[arg(long, value_name = "N", default_value_t = build::DEFAULT_MAX_PROCESSES)]
    pub max_processes: u64,
    /// Size of the build's /tmp (memory-backed), in bytes or with K, M, G.
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
    pub tmp_size: u64,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// A job count of at least 1 (`make -j 0` would be an error or unlimited).
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("the number of jobs must be at least 1".to_string()),
        Ok(jobs) => Ok(jobs),
        Err(_) => Err(format!("`{text}` is not a number of jobs")),
    }
}

/// `4096`, `512K`, `64M`, `4G`.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, shift) = match text.chars().last() {
        Some('K' | 'k') => (&text[..text.len() - 1], 10),
        Some('M' | 'm') => (&text[..text.len() - 1], 20),
        Some('G' | 'g') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (bytes, or a number with K, M or G)"))?;
    number
        .checked_mul(1 << shift)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("`{text}` is not a usable size"))
}

pub fn run(args: BuildArgs) -> miette::Result<ExitCode> {
    if args.plan || !super::build_many::is_single(&args.recipes) {
        return super::build_many::run(args);
    }
    let recipe_arg = args.recipes[0].clone();
    let local = super::build_many::LocalOutput::new(&args)?;
    if let Some(verify) = &args.verify {
        let name = verify.to_string_lossy();
        if name.ends_with(".json") || name.ends_with(".jsonc") {
            return Err(miette::miette!(
                help = "pass manifest.<arch>.bin; the .jsonc is only a report for humans",
                "--verify compares the binary manifest, not {}",
                verify.display()
            ));
        }
    }
    let cache = args.cache.open()?;
    let request = BuildRequest {
        output_dir: local.output_dir(&args),
        repositories: local.repositories(),
        profile: args.profile.clone(),
        data_dirs: args.data_dirs.clone(),
        install_root: args.install.clone(),
        verify: args.verify.clone(),
        build_release: args.build_release,
        jobs: args.jobs,
        break_on_failure: args.break_on_failure,
        break_strict: args.break_strict,
        strict: args.strict,
        sources: args.sources.clone(),
        max_processes: args.max_processes,
        tmp_size: args.tmp_size,
        ..BuildRequest::new(&recipe_arg)
    };
    let renderer = Renderer::new();
    let report = |event: Event<'_>| renderer.render(event);
    match build::build(&request, &cache, &report) {
        Ok(outcome) => {
            let mut out = local.publish(&recipe_arg, &outcome)?;
            if let Some(verified) = &outcome.verification {
                out.push_str(&format!("verified: {} match\n", verified.summary()));
            }
            if let (Some(report), Some(root)) = (&outcome.installed, &args.install) {
                out.push_str(&format!(
                    "installed {} stone(s) into {} (state {})\n",
                    outcome.stones.len(),
                    root.display(),
                    report.state
                ));
            }
            if renderer.verbosity == Verbosity::Quiet {
                out.push_str(&summary(&outcome));
            } else {
                out.push_str(&format!("\n{}", outcome.timings.table()));
                out.push_str(&format!("build log: {}\n", outcome.log.display()));
            }
            print_stdout(&out);
            Ok(ExitCode::SUCCESS)
        }
        Err(BuildError::Invalid { report, strictness }) => {
            for diagnostic in report.diagnostics_with(strictness) {
                eprintln!("{:?}", miette::Report::new(diagnostic));
            }
            eprintln!(
                "{}: {} error(s); nothing was built",
                report.path.display(),
                report.error_count(strictness)
            );
            Ok(ExitCode::FAILURE)
        }
        Err(BuildError::Misinstalled(problem)) => {
            eprintln!("error: {}", problem.what());
            eprintln!("help: {}", problem.help());
            eprintln!("nothing was written");
            Ok(ExitCode::FAILURE)
        }
        Err(BuildError::VerifyMismatch { path, differences }) => {
            eprintln!(
                "error: the rebuild differs from the earlier build ({}) in {} way(s):",
                path.display(),
                differences.len()
            );
            for difference in &differences {
                eprintln!("  {difference}");
            }
            eprintln!("the new stones were not written");
            Ok(ExitCode::FAILURE)
        }
        Err(BuildError::PhaseFailed(failure)) => {
            eprint!("{}", failure_report(&failure, &recipe_arg));
            Ok(ExitCode::FAILURE)
        }
        Err(error) => Err(miette::Report::from_err(error)),
    }
}

/// The one line `-q` prints for a good build: the stones and the time.
fn summary(outcome: &build::BuildOutcome) -> String {
    let names: Vec<String> = outcome
        .stones
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let dir = outcome
        .stones
        .first()
        .and_then(|p| p.parent())
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    format!(
        "built {} stone(s) in {} into {dir}: {}\n",
        names.len(),
        format_duration(outcome.timings.total()),
        names.join(" ")
    )
}

fn print_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Renders the build's events by the verbosity: the traced prologue of a
/// phase (everything before [`RECIPE_COMMANDS_MARKER`]) only with `-v`;
/// with `-q` only warnings.
struct Renderer {
    verbosity: Verbosity,
    colour: bool,
    /// Whether the current phase is still in its prologue.
    in_prologue: AtomicBool,
    /// On a terminal, the spinner of a long step (unpacking), cleared by
    /// the next event.
    spinner: Mutex<Option<indicatif::ProgressBar>>,
}

impl Renderer {
    fn new() -> Self {
        Self {
            verbosity: output::verbosity(),
            colour: output::stdout_colour(),
            in_prologue: AtomicBool::new(false),
            spinner: Mutex::new(None),
        }
    }

    fn render(&self, event: Event<'_>) {
        if let Some(spinner) = self.spinner.lock().ok().and_then(|mut s| s.take()) {
            spinner.finish_and_clear();
        }
        let quiet = self.verbosity == Verbosity::Quiet;
        let line = match event {
            Event::Step(_)
            | Event::Phase { .. }
            | Event::Wrote { .. }
            | Event::Output { .. }
            | Event::Unpacking { .. }
                if quiet =>
            {
                if let Event::Phase { .. } = event {
                    self.in_prologue.store(true, Ordering::Relaxed);
                }
                return;
            }
            Event::Step(step) => format!("» {step}\n"),
            Event::Unpacking { upstreams, targets } => {
                let step = format!("» Unpacking {upstreams} upstream(s) for {targets} target(s)");
                if std::io::stderr().is_terminal() {
                    let spinner = indicatif::ProgressBar::new_spinner();
                    if let Ok(style) =
                        indicatif::ProgressStyle::with_template("{spinner} {elapsed}")
                    {
                        spinner.set_style(style);
                    }
                    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
                    if let Ok(mut slot) = self.spinner.lock() {
                        *slot = Some(spinner);
                    }
                }
                format!("{step}\n")
            }
            Event::Phase {
                target,
                phase,
                line,
            } => {
                self.in_prologue.store(true, Ordering::Relaxed);
                let header = format!("» Phase {} ({target}, recipe line {line})", phase.name());
                if self.colour {
                    format!("\x1b[1m{header}\x1b[0m\n")
                } else {
                    format!("{header}\n")
                }
            }
            Event::Output { phase, line } => {
                if line == RECIPE_COMMANDS_MARKER {
                    self.in_prologue.store(false, Ordering::Relaxed);
                    return;
                }
                if line.starts_with(FAILED_LINE_MARKER)
                    || (self.verbosity < Verbosity::Verbose
                        && self.in_prologue.load(Ordering::Relaxed))
                {
                    return;
                }
                // The build's bytes never drive the terminal.
                let line = printable(line);
                if self.colour {
                    format!("\x1b[2m{:>7} │\x1b[0m {line}\n", phase.name())
                } else {
                    format!("{:>7} │ {line}\n", phase.name())
                }
            }
            Event::Warning(warning) => {
                if self.colour {
                    format!("\x1b[33mwarning:\x1b[0m {warning}\n")
                } else {
                    format!("warning: {warning}\n")
                }
            }
            Event::Wrote { path, size } => format!("wrote {} ({size} bytes)\n", path.display()),
        };
        print_stdout(&line);
    }
}

/// The report of a failed phase: where, what the log says, what may fix it.
pub fn failure_report(failure: &PhaseFailure, recipe_arg: &Path) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\nerror: phase `{}` of target {} failed ({})\n",
        failure.phase.name(),
        failure.target,
        failure.status
    ));
    out.push_str(&format!(
        "  --> {}:{}\n",
        failure.recipe.display(),
        failure.line
    ));
    if let Ok(text) = std::fs::read_to_string(&failure.recipe) {
        if let Some(source) = text.lines().nth(failure.line.saturating_sub(1)) {
            out.push_str(&format!("{:>5} │ {source}\n", failure.line));
        }
    }
    let diagnosis = &failure.diagnosis;
    if let Some(command) = &diagnosis.command {
        out.push_str(&format!("failing command: {}\n", printable(command)));
    }
    if !diagnosis.relevant.is_empty() {
        out.push_str("what the log says:\n");
        for line in &diagnosis.relevant {
            out.push_str(&format!("  │ {}\n", printable(line)));
        }
    }
    match diagnosis.limit {
        Some(Limit::Processes) => out.push_str(
            "help: the build reached its process limit; raise it with `--max-processes N` if the build really needs more\n",
        ),
        Some(Limit::Space) => out.push_str(
            "help: a file system is full; if it is /tmp (memory-backed), raise its size with `--tmp-size SIZE`\n",
        ),
        None => {}
    }
    if !diagnosis.suggestions.is_empty() {
        let list: Vec<&str> = diagnosis.suggestions.iter().map(String::as_str).collect();
        out.push_str(&format!(
            "help: something is missing from the build root; add to `builddeps`: {}\n",
            list.join(", ")
        ));
    }
    out.push_str(&format!("full log: {}\n", failure.log.display()));
    out.push_str(&format!(
        "the build root is kept ({}): `boulder chroot {}` enters it\n",
        failure.build_dirs.display(),
        recipe_arg.display()
    ));
    if !failure.timings.entries.is_empty() {
        out.push_str(&format!("\n{}", failure.timings.table()));
    }
    out
}
