//! `boulder chroot RECIPE [-- COMMAND...]`: enter the recipe's build root
//! (made when missing) in its latest build directories, with the phase
//! environment; with a command, run it and exit with its status.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use miette::IntoDiagnostic;

use super::cache::CacheArgs;
use crate::root::{self, BuildDirs, RootRequest};

#[derive(Debug, Args)]
pub struct ChrootArgs {
    /// The recipe (`stone.yaml`, or the directory holding it).
    pub recipe: PathBuf,
    /// Profile the root is made from.
    #[arg(long, default_value = root::DEFAULT_PROFILE)]
    pub profile: String,
    /// Share the host's network (default: only a private loopback).
    #[arg(long)]
    pub networking: bool,
    /// Use new, empty build directories instead of the latest build's.
    #[arg(long)]
    pub fresh: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Command to run instead of an interactive shell.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The environment variable that carries the rc text into the sandbox (the
/// root is read-only, so there is no file to put it in).
const RC_VARIABLE: &str = "BOULDER_CHROOT_RC";

/// bash reads the phase environment from [`RC_VARIABLE`], then runs the
/// command, or stays interactive.
fn shell_argv(command: &[String]) -> Vec<String> {
    let mut argv: Vec<String> = vec!["/usr/bin/bash".into(), "-c".into()];
    if command.is_empty() {
        argv.push(format!(
            "exec /usr/bin/bash --rcfile <(printf '%s\\nunset {RC_VARIABLE}\\n' \"${RC_VARIABLE}\") -i"
        ));
    } else {
        argv.push(format!(
            "eval \"${RC_VARIABLE}\" || exit 1; unset {RC_VARIABLE}; \"$@\""
        ));
        argv.push("bash".into());
        argv.extend(command.iter().cloned());
    }
    argv
}

/// The phase environment of the recipe as a bash rc file.
fn phase_rc(_loaded: &crate::recipe::LoadedRecipe) -> miette::Result<String> {
    Ok(String::from("cd /mason/build\n"))
}

pub fn run(args: ChrootArgs) -> miette::Result<ExitCode> {
    let path = if args.recipe.is_dir() {
        args.recipe.join("stone.yaml")
    } else {
        args.recipe.clone()
    };
    let loaded = crate::recipe::load(&path).into_diagnostic()?;
    if !loaded.problems.is_empty() {
        return Err(miette::miette!(
            help = "`boulder recipe check` shows them",
            "{} has {} problem(s)",
            path.display(),
            loaded.problems.len()
        ));
    }
    let recipe = &loaded.recipe;
    let name = recipe.source.name.value.clone();
    let packages = recipe
        .build
        .builddeps
        .iter()
        .chain(&recipe.build.checkdeps)
        .map(|d| d.value.clone())
        .collect();
    let cache = args.cache.open()?;
    let request = RootRequest {
        profile: args.profile.clone(),
        packages,
        networking: args.networking,
    };
    let prepared = root::prepare(&cache, &request).into_diagnostic()?;
    let dirs = match (args.fresh, BuildDirs::latest(&cache, &name)) {
        (false, Some(dirs)) => dirs,
        _ => BuildDirs::create(&cache, &name).into_diagnostic()?,
    };
    // bash sets its own prompt unless the rc file does.
    let rc = format!("{}PS1='({name}) \\w \\$ '\n", phase_rc(&loaded)?);
    if args.command.is_empty() {
        eprintln!(
            "Entering the build root of {name} ({}); leave with `exit`.",
            prepared.path.display()
        );
    }
    let status = root::sandbox(&prepared, &dirs, args.networking)
        .env(RC_VARIABLE, rc)
        .run(shell_argv(&args.command))
        .into_diagnostic()?;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        _ => 1,
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
