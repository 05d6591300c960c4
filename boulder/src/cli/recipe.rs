//! `boulder recipe check|expand`: validate recipes and show their final scripts.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use miette::IntoDiagnostic;

use crate::recipe::check::{self, CheckReport};
use crate::recipe::diagnostic::RecipeDiagnostic;
use crate::recipe::problem::Strictness;

#[derive(Debug, Subcommand)]
pub enum RecipeCommand {
    /// Validate recipes: every key, every upstream, every macro of every phase and target.
    Check(CheckArgs),
    /// Print the final phase scripts of a recipe, with every macro expanded.
    Expand(ExpandArgs),
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
    /// Only this phase (setup, build, install, check, workload).
    #[arg(long)]
    pub phase: Option<String>,
    /// Extra macro data directory (`DIR/macros/{arch,actions}`); repeatable, later wins.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dirs: Vec<PathBuf>,
    /// Refuse the recipe for every mistake `recipe check` reports, also for those
    /// upstream boulder accepts (unknown keys), which are otherwise warnings.
    #[arg(long)]
    pub strict: bool,
    /// Expand as a build with this profile would: the profile's tuning
    /// defaults go first, and the whole script a phase runs (prologue and
    /// environment included) is printed. Without it: the recipe alone, as
    /// upstream boulder expands it.
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Directory of profile files (`NAME.yaml`), with `--profile`.
    /// Default: `$XDG_CONFIG_HOME/boulder/profiles`.
    #[arg(long, value_name = "DIR")]
    pub profiles_dir: Option<PathBuf>,
}

pub fn run(command: RecipeCommand) -> miette::Result<ExitCode> {
    match command {
        RecipeCommand::Check(args) => run_check(args),
        RecipeCommand::Expand(args) => run_expand(args),
        RecipeCommand::Reference => {
            write_stdout(&crate::recipe::reference::markdown());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_check(args: CheckArgs) -> miette::Result<ExitCode> {
    let files = crate::recipe::discover(&args.paths).into_diagnostic()?;
    let engine = check::Engine::with_data_dirs(&args.data_dirs).into_diagnostic()?;
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        reports.push(engine.check_file(file).into_diagnostic()?);
    }
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
    let phase = match args.phase.as_deref() {
        None => None,
        Some(name) => Some(crate::recipe::Phase::from_name(name).ok_or_else(|| {
            miette::miette!(
                help = "phases: setup, build, install, check, workload",
                "unknown phase `{name}`"
            )
        })?),
    };
    if let Some(profile) = &args.profile {
        return expand_with_profile(&engine, &report, profile, &args, phase);
    }
    let scripts = engine
        .expand(&report, args.target.as_deref(), phase)
        .map_err(|problems| {
            for diagnostic in report.diagnostics_for(problems) {
                eprintln!("{:?}", miette::Report::new(diagnostic));
            }
            miette::miette!("expansion failed")
        })?;
    let mut out = String::new();
    for script in scripts {
        out.push_str(&format!(
            "# ---- target {} · phase {} ----\n",
            script.target,
            script.phase.name()
        ));
        out.push_str(&script.text);
        if !script.text.ends_with('\n') {
            out.push('\n');
        }
    }
    write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

/// The phase scripts a build with `profile` runs, as the build makes them.
fn expand_with_profile(
    engine: &check::Engine,
    report: &CheckReport,
    profile: &str,
    args: &ExpandArgs,
    phase: Option<crate::recipe::Phase>,
) -> miette::Result<ExitCode> {
    use crate::build::script::{RecipeScripts, ScriptOptions};
    let cache = crate::root::Cache::open(None)
        .into_diagnostic()?
        .with_profiles_dir(args.profiles_dir.clone());
    let profile = crate::root::Profile::load(&cache, profile).into_diagnostic()?;
    let options = ScriptOptions {
        base_tuning: profile.tuning_requests(),
        ..ScriptOptions::default()
    };
    let scripts = RecipeScripts::new(
        engine.library(),
        &report.recipe,
        &report.text,
        crate::recipe::HOST_ARCH,
        options,
    )
    .into_diagnostic()?
    .phases()
    .into_diagnostic()?;
    let mut out = String::new();
    // Set by the sandbox, not by the script.
    let mut environment: Vec<(String, String)> = profile.environment.clone().into_iter().collect();
    environment.extend(profile.recipe_environment(&report.recipe.options));
    for (name, value) in environment {
        out.push_str(&format!("# profile environment: {name}={value}\n"));
    }
    for script in scripts {
        if args.target.as_deref().is_some_and(|t| t != script.target)
            || phase.is_some_and(|p| p != script.phase)
        {
            continue;
        }
        out.push_str(&format!(
            "# ---- target {} · phase {} · profile {} ----\n",
            script.target,
            script.phase.name(),
            profile.name
        ));
        out.push_str(&script.text);
        if !script.text.ends_with('\n') {
            out.push('\n');
        }
    }
    write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

/// Writes to stdout, ignoring a closed pipe (`boulder recipe expand x | head`).
fn write_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
