//! `boulder build A B C…` / `boulder build DIR…` with several recipes, or
//! `--plan`: read every recipe, order them by what provides which build
//! dependency, and build them into a local repository, independent recipes
//! at the same time.
//!
//! Each build runs as its own `boulder build RECIPE --repo REPO -j N`
//! process (its output goes to `REPO/logs/<recipe>.log`), so builds share
//! nothing but the cache and the repository, which are locked where they
//! are written.
//!
//! The jobs budget `-j J` (default: the CPU count) bounds both: at most `J`
//! builds run at once, and a build that starts while `W` recipes could run
//! (those running plus those ready, at most `J`) gets `max(1, J / W)` jobs:
//! a lone library gets all of them, twenty independent recipes on two CPUs
//! run two at a time with one job each.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use miette::IntoDiagnostic;

use super::build::BuildArgs;
use crate::plan::{self, digest, Assessment, LocalRepo, Plan, PlanError, ReadError};

/// Where each recipe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Built,
    UpToDate,
    Failed,
    /// Not built because the named dependency failed or was skipped.
    Skipped(String),
}

impl Status {
    fn describe(&self) -> String {
        match self {
            Status::Built => "built".to_string(),
            Status::UpToDate => "up to date".to_string(),
            Status::Failed => "FAILED".to_string(),
            Status::Skipped(dep) => format!("skipped because of {dep}"),
        }
    }
}

/// True when `paths` name exactly one recipe (a plain `boulder build`).
pub fn is_single(paths: &[PathBuf]) -> bool {
    match paths {
        [one] => crate::recipe::discover(std::slice::from_ref(one)).map_or(true, |f| f.len() == 1),
        _ => false,
    }
}

/// Where a single build's stones go: `-o`, or with `--repo` a staging
/// directory whose files are then published into the repository.
pub struct LocalOutput {
    repo: Option<(LocalRepo, tempfile::TempDir)>,
}

impl LocalOutput {
    pub fn new(args: &BuildArgs) -> miette::Result<Self> {
        let repo = match &args.repo {
            Some(dir) => {
                let repo = LocalRepo::new(dir);
                let staging = repo.staging().into_diagnostic()?;
                Some((repo, staging))
            }
            None => None,
        };
        Ok(LocalOutput { repo })
    }

    pub fn output_dir(&self, args: &BuildArgs) -> PathBuf {
        match &self.repo {
            Some((_, staging)) => staging.path().to_path_buf(),
            None => args.output.clone(),
        }
    }

    /// The repository for the root, once it has an index.
    pub fn repositories(&self) -> Vec<crate::root::profile::RepositorySpec> {
        self.repo
            .iter()
            .filter_map(|(repo, _)| repo.spec())
            .collect()
    }

    /// Moves the build's files into the repository and indexes it; the
    /// line to print.
    pub fn publish(
        &self,
        recipe: &Path,
        outcome: &crate::build::BuildOutcome,
    ) -> miette::Result<String> {
        let Some((repo, _)) = &self.repo else {
            return Ok(String::new());
        };
        let file = crate::build::recipe_file(recipe).map_err(miette::Report::from_err)?;
        let loaded = crate::recipe::load(&file).into_diagnostic()?;
        let name = &loaded.recipe.source.name.value;
        let mut files = outcome.stones.clone();
        if let Some((bin, json)) = &outcome.manifests {
            files.push(bin.clone());
            files.push(json.clone());
        }
        repo.publish(name, &files).into_diagnostic()?;
        Ok(format!(
            "published {} stone(s) into {} and indexed {}\n",
            outcome.stones.len(),
            repo.recipe_dir(name).display(),
            repo.index_path().display()
        ))
    }
}

/// The default repository: `repo` in the output directory.
pub fn repo_dir(args: &BuildArgs) -> PathBuf {
    args.repo
        .clone()
        .unwrap_or_else(|| args.output.join("repo"))
}

/// The run's settings that change what a build makes.
fn settings(args: &BuildArgs) -> String {
    let data: Vec<String> = args
        .data_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    format!(
        "profile {}; build-release {}; arch {}; data-dirs [{}]",
        args.profile,
        args.build_release,
        crate::recipe::HOST_ARCH,
        data.join(", ")
    )
}

pub fn run(args: BuildArgs) -> miette::Result<ExitCode> {
    let single_only = [
        ("--install", args.install.is_some()),
        ("--verify", args.verify.is_some()),
        ("--break-on-failure", args.break_on_failure),
    ];
    if let Some((option, _)) = single_only.iter().find(|(_, given)| *given) {
        return Err(miette::miette!(
            help = "build the recipe alone, with --repo to use what the others made",
            "{option} works on one recipe, not on a run of several"
        ));
    }
    let repo_dir = repo_dir(&args);
    let started = Instant::now();
    let plan = match plan::plan(&args.recipes, &args.data_dirs, args.strict, &repo_dir) {
        Ok(plan) => plan,
        Err(PlanError::Read(errors)) => {
            render_read_errors(&errors);
            return Ok(ExitCode::FAILURE);
        }
        Err(error @ PlanError::Cycle(_)) => {
            eprintln!("error: {error}; nothing was built");
            return Ok(ExitCode::FAILURE);
        }
    };
    let repo = LocalRepo::new(&repo_dir);
    let settings = settings(&args);
    let assessed = plan.assess(&repo, &settings).into_diagnostic()?;
    if args.plan {
        let document = plan::json::document(&plan, &repo, &settings, &assessed);
        let text = serde_json::to_string_pretty(&document).into_diagnostic()?;
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let planned = started.elapsed();
    // `-q`: only failures, skips and the summary table.
    let quiet = super::output::verbosity() == super::output::Verbosity::Quiet;
    if !quiet {
        println!(
            "{} recipe(s) in order: {} (planned in {})",
            plan.recipes.len(),
            plan.order
                .iter()
                .map(|&i| plan.recipes[i].name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            seconds(planned)
        );
    }
    let results = Runner::new(&args, &plan, &repo, &settings, &assessed).run()?;
    print_summary(&plan, &repo, &results);
    let all_good = results
        .iter()
        .all(|(status, _)| matches!(status, Status::Built | Status::UpToDate));
    Ok(if all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn render_read_errors(errors: &[ReadError]) {
    for error in errors {
        match error {
            ReadError::Invalid { report, strictness } => {
                for diagnostic in report.diagnostics_with(*strictness) {
                    eprintln!("{:?}", miette::Report::new(diagnostic));
                }
                eprintln!("error: {error}");
            }
            other => eprintln!("error: {}", moss_core::util::with_causes(other)),
        }
    }
    eprintln!(
        "{} recipe(s) cannot be read; nothing was built",
        errors.len()
    );
}

/// Runs the builds of a plan in dependency order within the jobs budget.
struct Runner<'a> {
    args: &'a BuildArgs,
    plan: &'a Plan,
    repo: &'a LocalRepo,
    settings: &'a str,
    assessed: &'a [Assessment],
    budget: usize,
    /// How many recipes depend on each, directly or not.
    waiting_on: Vec<usize>,
}

/// A finished build: recipe index, success, time, the inputs it was given.
type Finished = (usize, bool, Duration, String);

impl<'a> Runner<'a> {
    fn new(
        args: &'a BuildArgs,
        plan: &'a Plan,
        repo: &'a LocalRepo,
        settings: &'a str,
        assessed: &'a [Assessment],
    ) -> Self {
        let budget = args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        Runner {
            args,
            plan,
            repo,
            settings,
            assessed,
            budget,
            waiting_on: dependents(plan),
        }
    }

    fn run(&self) -> miette::Result<Vec<(Status, Duration)>> {
        let count = self.plan.recipes.len();
        let mut status: Vec<Option<(Status, Duration)>> = vec![None; count];
        let mut outputs: Vec<Option<String>> = vec![None; count];
        let mut running: BTreeSet<usize> = BTreeSet::new();
        let (done_tx, done_rx) = mpsc::channel::<Finished>();
        std::thread::scope(|scope| -> miette::Result<()> {
            loop {
                // Settle what can be settled without building: skips and
                // up-to-date recipes, in order, until nothing changes.
                let mut ready = Vec::new();
                for &index in &self.plan.order {
                    if status[index].is_some() || running.contains(&index) {
                        continue;
                    }
                    let deps = self.plan.graph.dependencies(index);
                    if let Some(bad) = deps.iter().find(|&&d| {
                        matches!(
                            status[d],
                            Some((Status::Failed, _)) | Some((Status::Skipped(_), _))
                        )
                    }) {
                        let name = self.plan.recipes[*bad].name.clone();
                        println!(
                            "skipped {}: {name} did not build",
                            self.plan.recipes[index].name
                        );
                        status[index] = Some((Status::Skipped(name), Duration::ZERO));
                        continue;
                    }
                    if deps.iter().all(|&d| outputs[d].is_some()) {
                        ready.push(index);
                    }
                }
                let mut settled = false;
                let mut to_start = Vec::new();
                for index in ready {
                    let inputs = self.inputs(index, &outputs);
                    let recipe = &self.plan.recipes[index];
                    let current = self.repo.state(&recipe.name).filter(|s| s.inputs == inputs);
                    match current {
                        Some(state) if !self.args.force => {
                            outputs[index] = Some(state.outputs);
                            status[index] = Some((Status::UpToDate, Duration::ZERO));
                            settled = true;
                        }
                        _ => to_start.push((index, inputs)),
                    }
                }
                if settled {
                    continue;
                }
                // Recipes that more others wait for first: they open the way.
                to_start.sort_by_key(|(index, _)| std::cmp::Reverse(self.waiting_on[*index]));
                let free = self.budget.saturating_sub(running.len());
                let width = (running.len() + to_start.len()).clamp(1, self.budget);
                let jobs = (self.budget / width).max(1);
                for (index, inputs) in to_start.into_iter().take(free) {
                    running.insert(index);
                    let tx = done_tx.clone();
                    let recipe = &self.plan.recipes[index];
                    if super::output::verbosity() != super::output::Verbosity::Quiet {
                        println!("building {} (-j {jobs})", recipe.name);
                    }
                    let command = self.command(&recipe.path, jobs);
                    let log = self.repo.log_path(&recipe.name);
                    scope.spawn(move || {
                        let started = Instant::now();
                        let ok = run_logged(command, &log);
                        let _ = tx.send((index, ok, started.elapsed(), inputs));
                    });
                }
                if running.is_empty() {
                    break;
                }
                let (index, ok, took, inputs) = done_rx.recv().into_diagnostic()?;
                running.remove(&index);
                let name = &self.plan.recipes[index].name;
                let state = if ok {
                    self.repo
                        .record(name, &inputs)
                        .into_diagnostic()
                        .map(Some)?
                } else {
                    None
                };
                match state {
                    Some(state) => {
                        if super::output::verbosity() != super::output::Verbosity::Quiet {
                            println!("built {name} in {}", seconds(took));
                        }
                        outputs[index] = Some(state.outputs);
                        status[index] = Some((Status::Built, took));
                    }
                    None => {
                        println!("FAILED {name} after {}", seconds(took));
                        status[index] = Some((Status::Failed, took));
                    }
                }
            }
            Ok(())
        })?;
        Ok(status
            .into_iter()
            .map(|s| s.unwrap_or((Status::Failed, Duration::ZERO)))
            .collect())
    }

    /// The input digest of `index` given its dependencies' current outputs.
    fn inputs(&self, index: usize, outputs: &[Option<String>]) -> String {
        let dependencies: Vec<(String, String)> = self
            .plan
            .graph
            .dependencies(index)
            .into_iter()
            .map(|d| {
                (
                    self.plan.recipes[d].name.clone(),
                    outputs[d].clone().unwrap_or_default(),
                )
            })
            .collect();
        digest::inputs(
            &self.assessed[index].directory,
            self.settings,
            &dependencies,
        )
    }

    /// `boulder build RECIPE --repo REPO -j N` with this run's settings.
    fn command(&self, recipe: &Path, jobs: usize) -> Command {
        let args = self.args;
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("boulder"));
        let mut command = Command::new(exe);
        command
            .arg("build")
            .arg(recipe)
            .arg("--repo")
            .arg(self.repo.dir())
            .arg("-j")
            .arg(jobs.to_string())
            .arg("--profile")
            .arg(&args.profile)
            .arg("-b")
            .arg(args.build_release.to_string())
            .arg("--max-processes")
            .arg(args.max_processes.to_string())
            .arg("--tmp-size")
            .arg(args.tmp_size.to_string());
        for dir in &args.data_dirs {
            command.arg("--data-dir").arg(dir);
        }
        for dir in &args.sources {
            command.arg("--sources").arg(dir);
        }
        if args.strict {
            command.arg("--strict");
        }
        if let Some(dir) = &args.cache.cache_dir {
            command.arg("--cache-dir").arg(dir);
        }
        if let Some(dir) = &args.cache.profiles_dir {
            command.arg("--profiles-dir").arg(dir);
        }
        command
    }
}

/// For each recipe, the number of recipes that need it, directly or not.
fn dependents(plan: &Plan) -> Vec<usize> {
    let count = plan.recipes.len();
    let mut needed_by: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); count];
    // Dependencies come first in `order`, so walking it backwards sees every
    // user of a recipe before the recipe.
    for &index in plan.order.iter().rev() {
        let users = needed_by[index].clone();
        for dep in plan.graph.dependencies(index) {
            needed_by[dep].insert(index);
            needed_by[dep].extend(users.iter().copied());
        }
    }
    needed_by.iter().map(BTreeSet::len).collect()
}

/// Runs `command` with its output in `log`; true when it succeeded.
fn run_logged(mut command: Command, log: &Path) -> bool {
    if let Some(parent) = log.parent() {
        let _ = fs::create_dir_all(parent);
    }
    let Ok(file) = fs::File::create(log) else {
        return false;
    };
    let Ok(err) = file.try_clone() else {
        return false;
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .status()
        .is_ok_and(|s| s.success())
}

fn seconds(duration: Duration) -> String {
    format!("{:.2}s", duration.as_secs_f64())
}

/// How much of a failed build's log the summary shows.
const FAILURE_LINES: usize = 40;

fn print_summary(plan: &Plan, repo: &LocalRepo, results: &[(Status, Duration)]) {
    let width = plan
        .recipes
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!("\n{:<width$}  {:<28}  {:>8}\n", "recipe", "status", "time");
    for &index in &plan.order {
        let (status, took) = &results[index];
        let time = if *took == Duration::ZERO {
            "-".to_string()
        } else {
            seconds(*took)
        };
        out.push_str(&format!(
            "{:<width$}  {:<28}  {:>8}\n",
            plan.recipes[index].name,
            status.describe(),
            time
        ));
    }
    for &index in &plan.order {
        if results[index].0 == Status::Failed {
            let name = &plan.recipes[index].name;
            let log = repo.log_path(name);
            let text = fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let shown = &lines[lines.len().saturating_sub(FAILURE_LINES)..];
            out.push_str(&format!(
                "\n── {name} failed; the end of its log ({}) ──\n",
                log.display()
            ));
            for line in shown {
                out.push_str(&format!("{line}\n"));
            }
        }
    }
    out.push_str(&format!("repository: {}\n", repo.dir().display()));
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}
