//! Reading every recipe of a run before anything is built: discovery below
//! the given paths, the full check of each (in parallel), and what planning
//! needs from each: names, build dependencies, declared providers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::recipe::check::{CheckReport, Engine, EngineError};
use crate::recipe::model::{PackageBlock, Recipe};
use crate::recipe::problem::Strictness;
use crate::recipe::{DiscoverError, LoadError};

/// One recipe of a run, as planning sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRecipe {
    /// The recipe file (absolute).
    pub path: PathBuf,
    /// The directory holding it: its files are inputs of the build.
    pub dir: PathBuf,
    pub name: String,
    pub version: String,
    pub release: u64,
    /// `builddeps` then `checkdeps`, as written.
    pub build_deps: Vec<String>,
    /// The names of the packages it makes (the source name first).
    pub packages: Vec<String>,
    /// Providers the recipe itself declares: `provides` entries and what
    /// its `paths` rules name (`/usr/lib/pkgconfig/x.pc` → `pkgconfig(x)`,
    /// `/usr/bin/x` → `binary(x)`), with the package that has them.
    pub declared: Vec<(String, String)>,
}

/// Why a recipe cannot take part in the run.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Macros(#[from] EngineError),
    #[error("the recipe {} has {} error(s)", report.path.display(), report.error_count(*strictness))]
    Invalid {
        report: Box<CheckReport>,
        strictness: Strictness,
    },
    #[error("two recipes are named {name}: {} and {}", first.display(), second.display())]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// Finds and checks every recipe below `paths`; every error of every
/// recipe is returned, or none.
pub fn read_all(
    paths: &[PathBuf],
    data_dirs: &[PathBuf],
    strict: bool,
) -> Result<Vec<PlannedRecipe>, Vec<ReadError>> {
    let files = crate::recipe::discover(paths).map_err(|e| vec![e.into()])?;
    // The same recipe named twice (`boulder build a a/stone.yaml`) is one.
    let mut seen = std::collections::HashSet::new();
    let files: Vec<PathBuf> = files
        .into_iter()
        .map(|f| std::fs::canonicalize(&f).unwrap_or(f))
        .filter(|f| seen.insert(f.clone()))
        .collect();
    let strictness = if strict {
        Strictness::Strict
    } else {
        Strictness::Lenient
    };
    let results = check_parallel(&files, data_dirs, strictness)?;
    let mut recipes = Vec::new();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(recipe) => recipes.push(recipe),
            Err(error) => errors.push(error),
        }
    }
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for recipe in &recipes {
        if let Some(first) = seen.insert(&recipe.name, &recipe.path) {
            errors.push(ReadError::DuplicateName {
                name: recipe.name.clone(),
                first: first.to_path_buf(),
                second: recipe.path.clone(),
            });
        }
    }
    if errors.is_empty() {
        Ok(recipes)
    } else {
        Err(errors)
    }
}

type Checked = Result<PlannedRecipe, ReadError>;

/// Checks the files on all CPUs (one macro engine per worker); results keep
/// the order of `files`.
fn check_parallel(
    files: &[PathBuf],
    data_dirs: &[PathBuf],
    strictness: Strictness,
) -> Result<Vec<Checked>, Vec<ReadError>> {
    // Loaded once here so that a library that cannot load is one error, not
    // one per recipe; each worker then loads its own.
    Engine::with_data_dirs(data_dirs).map_err(|error| vec![error.into()])?;
    Ok(moss_core::util::map_ordered_with(
        files,
        moss_core::util::available_cpus(),
        || Engine::with_data_dirs(data_dirs),
        |engine, file| match engine {
            Ok(engine) => check_one(engine, file, strictness),
            Err(_) => Engine::with_data_dirs(data_dirs)
                .map_err(ReadError::from)
                .and_then(|engine| check_one(&engine, file, strictness)),
        },
    ))
}

fn check_one(engine: &Engine, file: &Path, strictness: Strictness) -> Checked {
    let report = engine.check_file(file)?;
    if report.error_count(strictness) > 0 {
        return Err(ReadError::Invalid {
            report: Box::new(report),
            strictness,
        });
    }
    Ok(planned(file, &report.recipe))
}

/// What planning takes from a checked recipe.
pub fn planned(file: &Path, recipe: &Recipe) -> PlannedRecipe {
    let name = recipe.source.name.value.clone();
    let expand = |text: &str| {
        text.replace("%(name)", &name)
            .replace("%(version)", &recipe.source.version.value)
    };
    let mut packages = vec![name.clone()];
    let mut declared = Vec::new();
    declared_by(&name, &recipe.package, &mut declared, &expand);
    for sub in &recipe.packages {
        let package = expand(&sub.name.value);
        declared_by(&package, &sub.block, &mut declared, &expand);
        if !packages.contains(&package) {
            packages.push(package);
        }
    }
    PlannedRecipe {
        path: file.to_path_buf(),
        dir: file
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        name: name.clone(),
        version: recipe.source.version.value.clone(),
        release: recipe.source.release.value,
        build_deps: recipe
            .build
            .builddeps
            .iter()
            .chain(&recipe.build.checkdeps)
            .map(|d| d.value.clone())
            .collect(),
        packages,
        declared,
    }
}

fn declared_by(
    package: &str,
    block: &PackageBlock,
    out: &mut Vec<(String, String)>,
    expand: &dyn Fn(&str) -> String,
) {
    for provider in &block.provides {
        out.push((expand(&provider.value), package.to_string()));
    }
    for rule in &block.paths {
        if let Some(provider) = provider_of_path(&rule.glob.value) {
            out.push((provider, package.to_string()));
        }
    }
}

/// The provider a file at `path` gives its package, for the paths a recipe
/// names literally.
fn provider_of_path(path: &str) -> Option<String> {
    if path.contains(['*', '?', '[']) {
        return None;
    }
    let (dir, file) = path.rsplit_once('/')?;
    match dir {
        "/usr/lib/pkgconfig" | "/usr/share/pkgconfig" => file
            .strip_suffix(".pc")
            .map(|name| format!("pkgconfig({name})")),
        "/usr/lib32/pkgconfig" => file
            .strip_suffix(".pc")
            .map(|name| format!("pkgconfig32({name})")),
        "/usr/bin" => Some(format!("binary({file})")),
        "/usr/sbin" => Some(format!("sysbinary({file})")),
        _ => None,
    }
}
