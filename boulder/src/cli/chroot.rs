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
    let mut argv: Vec<String> = vec!["/usr/bin/bash".into()];
    if args.command.is_empty() {
        eprintln!(
            "Entering the build root of {name} ({}); leave with `exit`.",
            prepared.path.display()
        );
        argv.push("-i".into());
    } else {
        argv.extend(["-c".into(), "exec \"$@\"".into(), "bash".into()]);
        argv.extend(args.command.iter().cloned());
    }
    let status = root::sandbox(&prepared, &dirs, args.networking)
        .env("PS1", format!("({name}) \\w \\$ "))
        .run(&argv)
        .into_diagnostic()?;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        _ => 1,
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
