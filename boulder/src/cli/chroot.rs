//! `boulder chroot RECIPE [-- COMMAND...]`: enter the recipe's build root
//! (made when missing, with the same package set a build of it uses) in its
//! latest build directories, with the phase environment: macros as shell
//! functions, definitions as variables, the recipe's `environment`, and the
//! work directory. With a command, run it and exit with its status.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use miette::IntoDiagnostic;

use super::cache::CacheArgs;
use crate::build::beneath::Beneath;
use crate::build::breakpoint::Relay;
use crate::build::log::quiet;
use crate::build::script::RecipeScripts;
use crate::build::{prepare, BuildError};
use crate::recipe::problem::Strictness;
use crate::recipe::HOST_ARCH;
use crate::root::{self, BuildDirs};
use moss_core::sandbox::Stdio;

#[derive(Debug, Args)]
pub struct ChrootArgs {
    /// The recipe (`stone.yaml`, or the directory holding it).
    pub recipe: PathBuf,
    /// Profile the root is made from.
    #[arg(long, default_value = root::DEFAULT_PROFILE)]
    pub profile: String,
    /// Share the host's network (also on when the recipe sets `networking`).
    #[arg(long)]
    pub networking: bool,
    /// Use new, empty build directories instead of the latest build's.
    #[arg(long)]
    pub fresh: bool,
    /// Extra macro data directory (`DIR/macros/{arch,actions}`); repeatable, later wins.
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dirs: Vec<PathBuf>,
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

/// The user's terminal, when stdin is one.
fn user_terminal() -> Option<std::fs::File> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return None;
    }
    std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

pub fn run(args: ChrootArgs) -> miette::Result<ExitCode> {
    // The recipe, its phase environment and its root as `build` makes them
    // (as lenient as `build` by default, whose root this enters).
    let lenient = Strictness::Lenient;
    let checked = match prepare::check_recipe(&args.recipe, &args.data_dirs, lenient, &quiet) {
        Ok(checked) => checked,
        Err(BuildError::Invalid { report, strictness }) => {
            for diagnostic in report.diagnostics_with(strictness) {
                eprintln!("{:?}", miette::Report::new(diagnostic));
            }
            return Err(miette::miette!(
                "{} is not a valid recipe",
                report.path.display()
            ));
        }
        Err(other) => return Err(other).into_diagnostic(),
    };
    let recipe = &checked.checked.recipe;
    let name = recipe.source.name.value.clone();
    let cache = args.cache.open()?;
    let profile = root::Profile::load(&cache, &args.profile).into_diagnostic()?;
    let options = prepare::script_options(&cache, &profile, &checked.path, None);
    let scripts = RecipeScripts::new(
        checked.engine.library(),
        recipe,
        &checked.checked.text,
        HOST_ARCH,
        options,
    )
    .into_diagnostic()?;
    let phases = scripts.phases().into_diagnostic()?;
    let networking = args.networking || recipe.options.networking;
    // bash sets its own prompt unless the rc file does.
    let rc = format!(
        "{}PS1='({name}) \\w \\$ '\n",
        scripts.chroot_rc().into_diagnostic()?
    );
    let prepared = prepare::prepare_root(
        &cache,
        &prepare::RootFor {
            profile: &profile,
            profile_name: &args.profile,
            recipe,
            phases: &phases,
            repositories: &[],
            networking,
        },
    )
    .into_diagnostic()?;
    let dirs = match (args.fresh, BuildDirs::latest(&cache, &name)) {
        (false, Some(dirs)) => dirs,
        _ => BuildDirs::create(&cache, &name).into_diagnostic()?,
    };
    // The work directory lives below the target's build directory, which a
    // build makes before its first phase; a fresh set needs it too.
    // Through the directory's descriptor: a build may have left symlinks.
    let mason = Beneath::open(&dirs.mason).into_diagnostic()?;
    for target in scripts.targets() {
        mason
            .ensure_dir(Path::new("build").join(&target.target.name))
            .into_diagnostic()?;
    }
    mason.ensure_dir("recipe").into_diagnostic()?;
    if args.command.is_empty() {
        eprintln!(
            "Entering the build root of {name} ({}); build directories {}; leave with `exit`.",
            prepared.path.display(),
            dirs.base.display()
        );
    }
    let mut sandbox = root::sandbox(&prepared, &dirs, networking)
        .bind_ro(&checked.dir, "/mason/recipe")
        .env(RC_VARIABLE, rc);
    // On a terminal the shell gets a pseudo-terminal of boulder's own,
    // relayed to the user's: whatever runs in the root (the build's files
    // included) cannot push input into the user's terminal.
    let relay = user_terminal().and_then(|tty| Relay::start(&tty).ok());
    if let Some(slave) = relay.as_ref().and_then(|r| r.slave().ok()) {
        sandbox = sandbox
            .controlling_terminal(slave)
            .stdin(Stdio::Terminal)
            .stdout(Stdio::Terminal)
            .stderr(Stdio::Terminal);
    }
    if let Some(relay) = &relay {
        relay.attach();
    }
    let status = sandbox.run(shell_argv(&args.command));
    drop(relay);
    let status = status.into_diagnostic()?;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        _ => 1,
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
