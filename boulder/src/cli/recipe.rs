//! `boulder recipe check|expand|new|update|bump`: validate recipes, show their
//! final scripts; the subcommands that write recipes live beside this file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use miette::IntoDiagnostic;

use super::cache::CacheArgs;
use crate::macros::PgoStage;
use crate::recipe::check::ExpandOptions;
use crate::recipe::check::{self, CheckReport};
use crate::recipe::diagnostic::RecipeDiagnostic;
use crate::recipe::problem::Strictness;

#[derive(Debug, Subcommand)]
pub enum RecipeCommand {
    /// Validate recipes: every key, every upstream, every macro of every phase and target.
    Check(CheckArgs),
    /// Print the final phase scripts of a recipe, with every macro expanded.
    Expand(ExpandArgs),
    /// Draft a stone.yaml from an upstream archive: build system, licence and
    /// build dependencies detected, FIXME comments where you must decide.
    New(super::recipe_new::NewArgs),
    /// Set a new version: rewrite the version, upstream URLs and hashes (fetched),
    /// raise the release, and print the diff.
    Update(super::recipe_maintain::UpdateArgs),
    /// Raise the recipe's release and print the diff.
    Bump(super::recipe_maintain::BumpArgs),
    /// Print the recipe reference page of the book (generated from the schema).
    #[command(hide = true)]
    Reference,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Format {
    /// Rendered diagnostics, like rustc.
    #[default]
    Human,
    /// One JSON document on stdout (file, line, column, message, suggestion) for CI.
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Recipe files, or directories searched recursively for `stone.yaml`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Extra macro data directory (`DIR/macros/{arch,actions}`); repeatable, later wins.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExpandArgs {
    /// The recipe file (or a directory holding `stone.yaml`).
    pub path: PathBuf,
    /// Only this build target (`x86_64`, `emul32/x86_64`).
    #[arg(long)]
    pub target: Option<String>,
    /// Only this phase (prepare, setup, build, install, check, workload).
    #[arg(long)]
    pub phase: Option<String>,
    /// Extra macro data directory (`DIR/macros/{arch,actions}`); repeatable, later wins.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dirs: Vec<PathBuf>,
    /// Show the scripts as a build with this profile runs them (its tuning defaults
    /// and script environment), each line the profile changed preceded by a
    /// `# profile NAME changed the next line` comment. Without it: the recipe's own
    /// expansion, as upstream boulder runs it.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// `%(jobs)`, the parallel jobs the scripts ask for (default: the CPU count).
    #[arg(long, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Refuse the recipe for every mistake `recipe check` reports, also for those
    /// upstream boulder accepts (unknown keys), which are otherwise warnings.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(command: RecipeCommand) -> miette::Result<ExitCode> {
    match command {
        RecipeCommand::Check(args) => run_check(args),
        RecipeCommand::Expand(args) => run_expand(args),
        RecipeCommand::New(args) => super::recipe_new::run_new(args),
        RecipeCommand::Update(args) => super::recipe_maintain::run_update(args),
        RecipeCommand::Bump(args) => super::recipe_maintain::run_bump(args),
        RecipeCommand::Reference => {
            write_stdout(&crate::recipe::reference::markdown());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_check(args: CheckArgs) -> miette::Result<ExitCode> {
    let files = crate::recipe::discover(&args.paths).into_diagnostic()?;
    let engine = check::Engine::with_data_dirs(&args.data_dirs).into_diagnostic()?;
    warn_about_macro_files(&engine);
    let reports = engine
        .check_files(&files, 0)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .into_diagnostic()?;
    let errors: usize = reports
        .iter()
        .map(|r| r.error_count(Strictness::Strict))
        .sum();
    let warnings = reports.iter().map(|r| r.problems.len()).sum::<usize>() - errors;
    match args.format {
        Format::Human => print_human(&reports, errors, warnings),
        Format::Json => print_json(&reports, errors, warnings),
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_human(reports: &[CheckReport], errors: usize, warnings: usize) {
    // One buffered writer: a hundred thousand diagnostics are one stream, not a
    // lock and a flush each.
    let stderr = std::io::stderr();
    let mut err = std::io::BufWriter::new(stderr.lock());
    for report in reports {
        for diagnostic in report.diagnostics() {
            let _ = writeln!(err, "{:?}", miette::Report::new(diagnostic));
        }
    }
    let _ = err.flush();
    drop(err);
    let failed = reports
        .iter()
        .filter(|r| r.error_count(Strictness::Strict) > 0)
        .count();
    let warned = if warnings == 0 {
        String::new()
    } else {
        format!(", {warnings} warning(s)")
    };
    if errors == 0 {
        println!("checked {} recipe(s): all valid{warned}", reports.len());
    } else {
        println!(
            "checked {} recipe(s): {errors} error(s) in {failed} recipe(s){warned}",
            reports.len()
        );
    }
}

fn print_json(reports: &[CheckReport], errors: usize, warnings: usize) {
    let diagnostics: Vec<serde_json::Value> = reports
        .iter()
        .flat_map(|report| report.diagnostics())
        .map(|d: RecipeDiagnostic| {
            serde_json::json!({
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "code": d.problem.code,
                "severity": if d.is_error { "error" } else { "warning" },
                "message": d.problem.message,
                "label": d.problem.label,
                "suggestion": d.problem.suggestion,
                "help": d.problem.help,
                "offset": d.problem.span.start,
                "length": d.problem.span.end.saturating_sub(d.problem.span.start),
            })
        })
        .collect();
    let document = serde_json::json!({
        "recipes": reports.len(),
        "errors": errors,
        "warnings": warnings,
        "diagnostics": diagnostics,
    });
    write_stdout(&format!("{document:#}\n"));
}

fn run_expand(args: ExpandArgs) -> miette::Result<ExitCode> {
    let files = crate::recipe::discover(std::slice::from_ref(&args.path)).into_diagnostic()?;
    let [file] = files.as_slice() else {
        return Err(miette::miette!(
            "{} holds {} recipes; `expand` takes one",
            args.path.display(),
            files.len()
        ));
    };
    let engine = check::Engine::with_data_dirs(&args.data_dirs).into_diagnostic()?;
    warn_about_macro_files(&engine);
    let report = engine.check_file(file).into_diagnostic()?;
    // Like `build`: what upstream accepts is expanded, with a warning.
    let strictness = if args.strict {
        Strictness::Strict
    } else {
        Strictness::Lenient
    };
    for diagnostic in report.diagnostics_with(strictness) {
        eprintln!("{:?}", miette::Report::new(diagnostic));
    }
    if report.error_count(strictness) > 0 {
        return Ok(ExitCode::FAILURE);
    }
    let section = match args.phase.as_deref() {
        None => None,
        Some(name) => Some(check::Section::from_name(name).ok_or_else(|| {
            miette::miette!(
                help = "phases: prepare, setup, build, install, check, workload",
                "unknown phase `{name}`"
            )
        })?),
    };
    let mut plain = ExpandOptions::default();
    if let Some(jobs) = args.jobs {
        plain.jobs = jobs.get();
    }
    let profile = match &args.profile {
        None => None,
        Some(name) => {
            let cache = args.cache.open()?;
            Some(crate::root::Profile::load(&cache, name).into_diagnostic()?)
        }
    };
    let expand = |options: &ExpandOptions| {
        engine
            .expand(&report, args.target.as_deref(), section, options)
            .map_err(|problems| {
                for diagnostic in report.diagnostics_for(problems) {
                    eprintln!("{:?}", miette::Report::new(diagnostic));
                }
                miette::miette!("expansion failed")
            })
    };
    let scripts = match &profile {
        None => expand(&plain)?,
        Some(profile) => {
            let profiled = ExpandOptions {
                base_tuning: profile.tuning_requests(),
                script_environment: profile.script_environment.clone(),
                jobs: plain.jobs,
            };
            let mut scripts = expand(&profiled)?;
            let originals = expand(&plain)?;
            for (script, original) in scripts.iter_mut().zip(&originals) {
                script.text = mark_changes(&original.text, &script.text, &profile.name);
            }
            scripts
        }
    };
    let mut out = String::new();
    if let Some(profile) = &profile {
        // Set by the sandbox for every phase, not by the script.
        let mut environment: Vec<(String, String)> =
            profile.environment.clone().into_iter().collect();
        environment.extend(profile.recipe_environment(&report.recipe.options));
        for (name, value) in environment {
            out.push_str(&format!(
                "# profile {} sets in the sandbox: {name}={value}\n",
                profile.name
            ));
        }
    }
    let mut dependencies = std::collections::BTreeSet::new();
    for script in scripts {
        let stage = match script.stage {
            PgoStage::None => String::new(),
            stage => format!("pgo {} · ", stage.name()),
        };
        out.push_str(&format!(
            "# ---- target {} · {stage}phase {} ----\n",
            script.target,
            script.section.name()
        ));
        out.push_str(&script.text);
        if !script.text.ends_with('\n') {
            out.push('\n');
        }
        dependencies.extend(script.dependencies);
    }
    // What upstream adds to the build root for the actions the scripts use.
    let dependencies: Vec<String> = dependencies.into_iter().collect();
    out.push_str(&format!(
        "# ---- action dependencies: {} ----\n",
        dependencies.join(", ")
    ));
    write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

/// `changed` with a comment line before each line that is not in `original`
/// (a longest-common-subsequence match of whole lines), naming the profile.
fn mark_changes(original: &str, changed: &str, profile: &str) -> String {
    let old: Vec<&str> = original.lines().collect();
    let new: Vec<&str> = changed.lines().collect();
    // The common head and tail are matched directly; only the middle, where a
    // profile changes a few lines, gets the quadratic alignment.
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old[prefix..old.len() - suffix];
    let new_middle = &new[prefix..new.len() - suffix];
    let mut out = String::with_capacity(changed.len());
    for line in &new[..prefix] {
        out.push_str(line);
        out.push('\n');
    }
    for (line, changed) in new_middle.iter().zip(changed_lines(old_middle, new_middle)) {
        if changed {
            out.push_str(&format!("# profile {profile} changed the next line\n"));
        }
        out.push_str(line);
        out.push('\n');
    }
    for line in &new[new.len() - suffix..] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// For each line of `new`, whether it is outside a longest common subsequence
/// with `old`. Past a size where the table would be large, every line counts as
/// changed rather than spending quadratic time and memory.
fn changed_lines(old: &[&str], new: &[&str]) -> Vec<bool> {
    const MAX_CELLS: usize = 4_000_000;
    if old.len().saturating_mul(new.len()) > MAX_CELLS {
        return vec![true; new.len()];
    }
    // lcs[i][j]: common lines of old[i..] and new[j..].
    let mut lcs = vec![vec![0u32; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut changed = Vec::with_capacity(new.len());
    while j < new.len() {
        if i < old.len() && old[i] == new[j] {
            i += 1;
            changed.push(false);
        } else if i < old.len() && lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
            continue;
        } else {
            changed.push(true);
        }
        j += 1;
    }
    changed
}

/// Keys of extra macro files that nobody knows are ignored, with a warning.
fn warn_about_macro_files(engine: &check::Engine) {
    for warning in engine.library().warnings() {
        eprintln!("warning: {warning}");
    }
}

/// Writes to stdout, ignoring a closed pipe (`boulder recipe expand x | head`).
pub(super) fn write_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
