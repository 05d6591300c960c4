//! The first steps of a build, which `boulder chroot` takes too, so that it
//! enters the very root, with the very phase environment, that a build of
//! the recipe gets: finding and checking the recipe, the profile's script
//! options, and the build root.

use std::fs;
use std::path::{Path, PathBuf};

use crate::package::emit::epoch;
use crate::recipe::check::{CheckReport, Engine as CheckEngine};
use crate::recipe::problem::Strictness;
use crate::recipe::Recipe;
use crate::root::profile::RepositorySpec;
use crate::root::{self, Cache, PreparedRoot, Profile, RootError, RootRequest};

use super::script::{self, PhaseScript, ScriptOptions};
use super::{io, recipe_file, BuildError, Event, Reporter};

/// A recipe found and checked, without errors at the strictness asked for.
pub struct CheckedRecipe {
    /// The recipe file, canonical.
    pub path: PathBuf,
    /// Its folder (mounted at `/mason/recipe`).
    pub dir: PathBuf,
    /// The macro library it was checked with.
    pub engine: CheckEngine,
    pub checked: CheckReport,
}

/// Finds the one recipe `path` names (a file or its folder) and checks it
/// with the macros of `data_dirs`; errors at `strictness` refuse it as a
/// whole ([`BuildError::Invalid`]), warnings go to `report`.
pub fn check_recipe(
    path: &Path,
    data_dirs: &[PathBuf],
    strictness: Strictness,
    report: Reporter<'_>,
) -> Result<CheckedRecipe, BuildError> {
    let path = recipe_file(path)?;
    let path = fs::canonicalize(&path).map_err(io("read", &path))?;
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let engine = CheckEngine::with_data_dirs(data_dirs)?;
    for warning in engine.library().warnings() {
        report(Event::Warning(&warning.to_string()));
    }
    let checked = engine.check_file(&path)?;
    if checked.error_count(strictness) > 0 {
        return Err(BuildError::Invalid {
            report: Box::new(checked),
            strictness,
        });
    }
    for warning in checked.diagnostics_with(strictness) {
        report(Event::Warning(&warning.summary()));
    }
    Ok(CheckedRecipe {
        path,
        dir,
        engine,
        checked,
    })
}

/// The script options of a build of the recipe at `recipe_path` under
/// `profile`: its `SOURCE_DATE_EPOCH`, `jobs` (or the default), and the
/// profile's tuning defaults and script environment. The epoch's git
/// lookup is remembered in `cache` between builds.
pub fn script_options(
    cache: &Cache,
    profile: &Profile,
    recipe_path: &Path,
    jobs: Option<usize>,
) -> ScriptOptions {
    let (source_date_epoch, _) = epoch::source_date_epoch_cached(recipe_path, &cache.epochs_dir());
    ScriptOptions {
        source_date_epoch,
        jobs: jobs.unwrap_or_else(|| ScriptOptions::default().jobs),
        base_tuning: profile.tuning_requests(),
        script_environment: profile.script_environment.clone(),
    }
}

/// What a build root of a recipe is made from.
pub struct RootFor<'a> {
    pub profile: &'a Profile,
    /// The name `profile` was loaded by.
    pub profile_name: &'a str,
    pub recipe: &'a Recipe,
    /// The recipe's phase scripts: the actions they use add dependencies.
    pub phases: &'a [PhaseScript],
    /// Repositories beside the profile's (the local one of `--repo`).
    pub repositories: &'a [RepositorySpec],
    pub networking: bool,
}

/// The build root of a recipe: the profile's base set, the recipe's build
/// and check dependencies, what its phase scripts use, and the toolchains its
/// options ask for; with the profile's and the recipe's environment.
pub fn prepare_root(cache: &Cache, what: &RootFor<'_>) -> Result<PreparedRoot, RootError> {
    let mut packages = script::root_packages(what.recipe, what.phases);
    packages.extend(what.profile.recipe_toolchain(&what.recipe.options));
    let request = RootRequest {
        profile: what.profile_name.to_string(),
        packages,
        networking: what.networking,
    };
    let mut prepared = root::prepare_with(cache, &request, what.repositories)?;
    prepared
        .environment
        .extend(what.profile.recipe_environment(&what.recipe.options));
    Ok(prepared)
}
