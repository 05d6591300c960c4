//! `boulder build`: from a recipe to stones and manifests.
//!
//! [`build`] runs the whole pipeline:
//!
//! 1. validate the recipe (every problem reported at once);
//! 2. fetch the upstreams (a wrong hash stops here, before any root is made);
//! 3. prepare the build root ([`crate::root`]) and this build's own writable
//!    directories, and place the sources into `/mason/build/<target>`;
//! 4. run each phase as `bash` in the sandbox ([`script`], [`phases`]),
//!    streamed with a phase tag to the reporter and the build log;
//! 5. check the install tree ([`install_check`]: not empty, nothing outside
//!    `/usr` or under `/usr/local`), then collect and analyse it
//!    ([`package_plan`]);
//! 6. write the stones and manifests ([`crate::package::emit`]), compare
//!    them with an earlier build's under `--verify`
//!    ([`crate::package::emit::verify`]), copy them to the output
//!    directory, and install them with `--install` in one moss transaction.
//!
//! A failing phase gives a [`PhaseFailure`]: the phase, the recipe line, the
//! relevant log lines, builddep suggestions, the log path and the kept build
//! directories for `boulder chroot`.
//!
//! Steps 1 and 3 are [`prepare`]'s, which `boulder chroot` shares.
//!
//! * [`breakpoint`]: `%break_continue` / `%break_exit` and
//!   `--break-on-failure`: a shell with the script's state, and a console.
//! * [`script`]: the phase scripts as bash and the rc file of `boulder chroot`:
//!   `RecipeScripts::new(library, &recipe, &text, HOST_ARCH, ScriptOptions::default())?`
//!   then `.phases()` or `.chroot_rc()`.

pub(crate) mod beneath;
pub mod breakpoint;
pub(crate) mod failure;
pub(crate) mod install_check;
pub mod log;
pub mod package_plan;
pub(crate) mod pgo;
pub(crate) mod phases;
pub(crate) mod prepare;
pub mod script;
pub(crate) mod sources;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use moss_core::sandbox::{IdMapping, SandboxError};
use moss_core::stone::WriteOptions;
use moss_core::transaction::{Engine, EngineError, TransactionReport};
use thiserror::Error;

use crate::package::emit::verify::{self, Verified};
use crate::package::emit::{self, EmitError, EmitOptions, Emitted, SourceInfo};
use crate::recipe::check::{CheckReport, EngineError as CheckEngineError};
use crate::recipe::problem::Strictness;
use crate::recipe::{DiscoverError, LoadError, Phase, HOST_ARCH};
use crate::root::{self, BuildDirs, Cache, RootError};
use crate::upstream::UpstreamError;
use beneath::Beneath;
use failure::Diagnosis;
pub use log::{Event, Reporter, Timings};
use package_plan::{PackagingError, PlanError};
use script::{PhaseScript, RecipeScripts, ScriptError};

/// What to build and where the results go.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// A `stone.yaml` or the directory holding one.
    pub recipe: PathBuf,
    /// Where the stones and manifests are copied.
    pub output_dir: PathBuf,
    /// The profile whose repositories make the root.
    pub profile: String,
    /// Extra macro data directories.
    pub data_dirs: Vec<PathBuf>,
    /// Install the new stones into this root afterwards.
    pub install_root: Option<PathBuf>,
    /// Fail unless the fresh binary manifest matches this one.
    pub verify: Option<PathBuf>,
    /// The build release of the stones (1 by default).
    pub build_release: u64,
    /// Parallel jobs (`%(jobs)`); the CPU count when `None`.
    pub jobs: Option<usize>,
    /// The zstd level of the stones.
    pub compression_level: i32,
    /// Replaces the `boulder_break` shell function (default:
    /// [`breakpoint::bash_function`]).
    pub break_function: Option<String>,
    /// Open the breakpoint console at a failing command.
    pub break_on_failure: bool,
    /// Without a terminal, a breakpoint stops the build instead of being skipped.
    pub break_strict: bool,
    /// Refuse the recipe for everything `recipe check` refuses, also for what
    /// upstream boulder accepts (unknown keys), instead of warning.
    pub strict: bool,
    /// Local source directories (`--sources`), searched before
    /// `BOULDER_SOURCES` and the user configuration's.
    pub sources: Vec<PathBuf>,
    /// At most this many processes in a phase's sandbox ([`DEFAULT_MAX_PROCESSES`]).
    pub max_processes: u64,
    /// The size of a phase's `/tmp` in bytes ([`DEFAULT_TMP_SIZE`]).
    pub tmp_size: u64,
    /// Repositories the root resolves from beside the profile's (the
    /// local repository of `--repo`).
    pub repositories: Vec<root::profile::RepositorySpec>,
}

/// The default process limit of a build: far above what `make -j` needs,
/// far below what takes a machine down.
pub const DEFAULT_MAX_PROCESSES: u64 = 8192;

/// The default size of a build's `/tmp` (a tmpfs, so memory): 4 GiB.
pub const DEFAULT_TMP_SIZE: u64 = 4 << 30;

impl BuildRequest {
    /// A request with the defaults: output to the current directory, the
    /// default cache and profile, build release 1.
    pub fn new(recipe: impl Into<PathBuf>) -> Self {
        Self {
            recipe: recipe.into(),
            output_dir: PathBuf::from("."),
            profile: root::DEFAULT_PROFILE.to_string(),
            data_dirs: Vec::new(),
            install_root: None,
            verify: None,
            build_release: 1,
            jobs: None,
            compression_level: moss_core::stone::DEFAULT_LEVEL,
            break_function: None,
            break_on_failure: false,
            break_strict: false,
            strict: false,
            sources: Vec::new(),
            max_processes: DEFAULT_MAX_PROCESSES,
            tmp_size: DEFAULT_TMP_SIZE,
            repositories: Vec::new(),
        }
    }
}

/// What a successful build made.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// The stones in the output directory, by package name.
    pub stones: Vec<PathBuf>,
    /// The manifests in the output directory (not written when verifying).
    pub manifests: Option<(PathBuf, PathBuf)>,
    /// What `--verify` compared, when it was given and everything matched.
    pub verification: Option<Verified>,
    pub installed: Option<TransactionReport>,
    pub timings: Timings,
    pub log: PathBuf,
    /// The build's own directories (kept for `boulder chroot`).
    pub build_dirs: PathBuf,
    pub source_date_epoch: i64,
}

/// A phase that failed, with what the report needs.
#[derive(Debug, Clone)]
pub struct PhaseFailure {
    pub recipe: PathBuf,
    pub target: String,
    pub phase: Phase,
    /// The recipe line of the failing command (the phase's line when unknown).
    pub line: usize,
    /// The recipe line of the phase key.
    pub phase_line: usize,
    /// `exit status: 2`, `signal: 9`.
    pub status: String,
    pub diagnosis: Diagnosis,
    pub log: PathBuf,
    /// The build directories and script, kept for `boulder chroot`.
    pub build_dirs: PathBuf,
    pub script: PathBuf,
    pub timings: Timings,
}

/// Why a build stopped.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    #[error("{} holds {count} recipes; build them one at a time", path.display())]
    SeveralRecipes { path: PathBuf, count: usize },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Macros(#[from] CheckEngineError),
    #[error("the recipe {} has {} error(s)", report.path.display(), report.error_count(*strictness))]
    Invalid {
        report: Box<CheckReport>,
        /// How the problems were weighed (the report holds warnings too).
        strictness: Strictness,
    },
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("fetching the upstreams failed; nothing was built")]
    Upstream(#[source] UpstreamError),
    #[error("cannot prepare the build root")]
    Root(#[from] RootError),
    #[error("cannot place the sources into the build directory")]
    Extract(#[source] UpstreamError),
    #[error("cannot run the phase in the sandbox")]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Pgo(#[from] pgo::PgoError),
    #[error(
        "target {target} (`emul32: true`) needs a 32-bit C library and the compiler's 32-bit \
         support in the build root, and the root of profile `{profile}` has none (no \
         /usr/lib32/crt1.o; the profile's `toolchains: emul32` list brings them). On Debian \
         and Ubuntu install gcc-multilib and g++-multilib on the host, which the host \
         profile then imports"
    )]
    NoEmul32Toolchain { target: String, profile: String },
    #[error("phase `{}` failed ({}) at {}:{}", .0.phase.name(), .0.status, .0.recipe.display(), .0.line)]
    PhaseFailed(Box<PhaseFailure>),
    #[error("{stop}; the build root is kept ({}): `boulder chroot {}` enters it", build_dirs.display(), recipe.display())]
    Stopped {
        stop: Box<breakpoint::Stop>,
        recipe: PathBuf,
        build_dirs: PathBuf,
    },
    #[error(transparent)]
    Breakpoint(#[from] breakpoint::BreakError),
    /// A host-side file operation on the build's directories was refused
    /// (a symlink the build planted, for instance).
    #[error("boulder refused to work on a build directory the build tampered with")]
    Beneath(#[from] beneath::BeneathError),
    #[error("packaging failed")]
    Packaging(#[from] PackagingError),
    /// The install root is empty or holds files a stone cannot ship.
    #[error(transparent)]
    Misinstalled(#[from] install_check::InstallProblem),
    /// Analysis dropped every installed path (only `.la` files, say).
    #[error("no package got a file: analysis dropped everything that was installed")]
    NothingPackaged,
    #[error(transparent)]
    InstallRead(#[from] install_check::ReadError),
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error(
        "the rebuild differs from the earlier build ({}) in {} way(s):\n{}",
        path.display(),
        differences.len(),
        differences.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
    )]
    VerifyMismatch {
        path: PathBuf,
        /// One line per difference, package first.
        differences: Vec<String>,
    },
    #[error("cannot install the new stones into {}", root.display())]
    Install {
        root: PathBuf,
        #[source]
        source: Box<EngineError>,
    },
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BuildError + 'a {
    move |source| BuildError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Finds the one recipe `path` names.
pub fn recipe_file(path: &Path) -> Result<PathBuf, BuildError> {
    let mut files = crate::recipe::discover(std::slice::from_ref(&path.to_path_buf()))?;
    if files.len() != 1 {
        return Err(BuildError::SeveralRecipes {
            path: path.to_path_buf(),
            count: files.len(),
        });
    }
    Ok(files.remove(0))
}

/// Builds `request.recipe` with the roots and caches of `cache`; see the
/// module documentation.
pub fn build(
    request: &BuildRequest,
    cache: &Cache,
    report: Reporter<'_>,
) -> Result<BuildOutcome, BuildError> {
    let mut timings = Timings::default();

    // 1. Validate: every problem at once.
    let started = Instant::now();
    report(Event::Step("Checking the recipe"));
    let strictness = if request.strict {
        Strictness::Strict
    } else {
        Strictness::Lenient
    };
    let prepare::CheckedRecipe {
        path: recipe_path,
        dir: recipe_dir,
        engine,
        checked,
    } = prepare::check_recipe(&request.recipe, &request.data_dirs, strictness, report)?;
    let recipe = &checked.recipe;
    let profile = root::Profile::load(cache, &request.profile)?;
    let options = prepare::script_options(cache, &profile, &recipe_path, request.jobs);
    let source_date_epoch = options.source_date_epoch;
    let mut scripts =
        RecipeScripts::new(engine.library(), recipe, &checked.text, HOST_ARCH, options)?;
    let break_function = request
        .break_function
        .clone()
        .unwrap_or_else(|| breakpoint::bash_function().to_string());
    scripts = scripts.with_break_function(break_function);
    let phase_scripts = scripts.phases()?;
    let plan = package_plan::plan(recipe, &scripts)?;
    timings.add("validate", started.elapsed());

    // 2. Upstreams, before any root exists.
    let started = Instant::now();
    let upstreams = sources::upstreams(recipe);
    if !upstreams.is_empty() {
        report(Event::Step("Fetching upstreams"));
    }
    let source_dirs = crate::upstream::SourceDirs::configured(&request.sources);
    let fetched = sources::fetch(cache.dir(), &recipe_dir, &source_dirs, &upstreams)
        .map_err(|e| sources::locate_hashes(e, recipe, &checked.text, &recipe_path))
        .map_err(BuildError::Upstream)?;
    timings.add("upstreams", started.elapsed());

    // 3. The root and this build's directories.
    let started = Instant::now();
    report(Event::Step("Preparing the build root"));
    let networking = recipe.options.networking;
    let prepared = prepare::prepare_root(
        cache,
        &prepare::RootFor {
            profile: &profile,
            profile_name: &request.profile,
            recipe,
            phases: &phase_scripts,
            repositories: &request.repositories,
            networking,
        },
    )?;
    let targets = recipe.targets(HOST_ARCH);
    pgo::check_root_tools(recipe, &targets, &prepared.path, &request.profile)?;
    if let Some(target) = targets.iter().find(|t| t.emul32) {
        // gcc and clang need the 32-bit C runtime; fail before building anything.
        if !prepared.path.join("usr/lib32/crt1.o").exists() {
            return Err(BuildError::NoEmul32Toolchain {
                target: target.name.clone(),
                profile: request.profile.clone(),
            });
        }
    }
    let dirs = BuildDirs::create(cache, &recipe.source.name.value)?;
    let log = log::BuildLog::create(&dirs.base.join("build.log"));
    if !fetched.is_empty() {
        report(Event::Unpacking {
            upstreams: fetched.len(),
            targets: targets.len(),
        });
    }
    for target in &targets {
        let buildroot = dirs.build.join(&target.name);
        fs::create_dir_all(&buildroot).map_err(io("create", &buildroot))?;
        sources::extract(&fetched, &buildroot).map_err(BuildError::Extract)?;
        if crate::recipe::stages::pgo_stages(recipe, target) != [crate::macros::PgoStage::None] {
            let profiles = pgo::profile_dir(&dirs.build, &target.name);
            fs::create_dir_all(&profiles).map_err(io("create", &profiles))?;
        }
    }
    timings.add("root", started.elapsed());

    // 4. Phases. Everything boulder does on the host below the build's own
    // directories from here on goes through descriptors (see `beneath`).
    // Until the first phase starts, the time is the sandbox's: its mount
    // points, the scripts, namespaces, mounts and PID 1.
    let mut sandbox_started = Instant::now();
    let base = Beneath::open(&dirs.base)?;
    let mason = base.dir("mason")?;
    let scripts_dir = base.ensure_dir("scripts")?;
    let sandbox = root::sandbox(&prepared, &dirs, networking)
        .bind_ro(&recipe_dir, "/mason/recipe")
        .bind_ro(scripts_dir.path(), phases::GUEST_SCRIPTS_DIR)
        .max_processes(request.max_processes)
        .tmp_size(request.tmp_size);
    let mut id_mapping = None;
    let break_settings = breakpoint::Settings {
        on_failure: request.break_on_failure,
        strict: request.break_strict,
        history: Some(breakpoint::history_file(cache.dir())),
        channel_parent: dirs.base.clone(),
    };
    // The phases run in as few sandboxes as possible: one for a plain build;
    // a PGO build starts another at each stage, whose fresh sources the host
    // puts in place first.
    let mut groups: Vec<&[PhaseScript]> = Vec::new();
    let mut rest = phase_scripts.as_slice();
    while !rest.is_empty() {
        let first = (rest[0].target.as_str(), rest[0].stage);
        let len = rest
            .iter()
            .position(|s| {
                s.stage != crate::macros::PgoStage::None && (s.target.as_str(), s.stage) != first
            })
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(len.max(1));
        groups.push(group);
        rest = tail;
    }
    let mut current_stage: Option<(&str, crate::macros::PgoStage)> = None;
    for (index, group) in groups.into_iter().enumerate() {
        if index > 0 {
            sandbox_started = Instant::now();
        }
        let first = &group[0];
        if first.stage != crate::macros::PgoStage::None
            && current_stage.is_some_and(|(target, _)| target == first.target)
        {
            // A later stage of the same target starts from fresh sources.
            pgo::fresh_sources(&dirs.build, &first.target, &fetched)?;
        }
        ensure_mount_points(&mason)?;
        let session = breakpoint::Session::start_phases(
            &break_settings,
            group
                .iter()
                .map(|script| breakpoint::PhaseInfo {
                    recipe: recipe_path.clone(),
                    phase: script.phase.name().to_string(),
                    lines: breakpoint::LineMap::from_body(
                        script.body_line as u32,
                        script.body_recipe_lines.iter().map(|&l| l as u32),
                    ),
                })
                .collect(),
        )?;
        let jobs: Vec<phases::PhaseJob<'_>> = group
            .iter()
            .map(|script| phases::PhaseJob {
                script,
                home: format!("{}/{}", crate::macros::paths::BUILD, script.target),
            })
            .collect();
        let mut started = |index: usize| {
            let script = &group[index];
            let stage = (script.target.as_str(), script.stage);
            if current_stage != Some(stage) && script.stage != crate::macros::PgoStage::None {
                let what = match script.stage {
                    crate::macros::PgoStage::One => "instrumented build and workload",
                    crate::macros::PgoStage::Two => {
                        "context-sensitive instrumented build and workload"
                    }
                    _ => "build with the merged profile",
                };
                report(Event::Step(&format!(
                    "PGO stage {} of {}: {what}",
                    script.stage.name(),
                    script.target
                )));
            }
            current_stage = Some(stage);
            report(Event::Phase {
                target: &script.target,
                phase: script.phase,
                line: script.line,
            });
        };
        let run = phases::run(
            &session.sandbox(sandbox.clone()),
            &jobs,
            &scripts_dir,
            &log,
            report,
            session.output_sync(),
            &mut started,
        )
        .map_err(|error| match error {
            phases::RunError::Write(error) => BuildError::Beneath(error),
            phases::RunError::Sandbox(error) => BuildError::Sandbox(error),
        })?;
        if let Some(first) = run.first_started {
            timings.add("sandbox", first.saturating_duration_since(sandbox_started));
        }
        for (script, elapsed) in group.iter().zip(&run.elapsed) {
            let stage = match script.stage {
                crate::macros::PgoStage::None => String::new(),
                stage => format!(" (pgo {})", stage.name()),
            };
            timings.add(
                format!("{} {}{stage}", script.phase.name(), script.target),
                *elapsed,
            );
        }
        if id_mapping.is_none() {
            id_mapping = Some(IdMapping::detect());
        }
        if let Some(stop) = session.finish()? {
            return Err(BuildError::Stopped {
                stop: Box::new(stop),
                recipe: request.recipe.clone(),
                build_dirs: dirs.base.clone(),
            });
        }
        if !run.status.success() {
            let script = &group[run.last().min(group.len() - 1)];
            let diagnosis = failure::diagnose(&run.lines);
            let line = diagnosis
                .script_line
                .and_then(|l| script.recipe_line(l))
                .unwrap_or(script.line);
            return Err(BuildError::PhaseFailed(Box::new(PhaseFailure {
                recipe: recipe_path.clone(),
                target: script.target.clone(),
                phase: script.phase,
                line,
                phase_line: script.line,
                status: run.status.to_string(),
                diagnosis,
                log: log.path().to_path_buf(),
                build_dirs: dirs.base.clone(),
                script: scripts_dir.display_path(phases::script_name(script)),
                timings,
            })));
        }
    }

    // 5. Packaging. The build is over (its PID namespace is gone), so the
    // install tree changes no more; a symlink in place of the install root
    // is refused, and the root is named through its descriptor from here on.
    let started = Instant::now();
    report(Event::Step("Analysing the install tree"));
    let install = mason.dir("install")?;
    let install_root = install.pinned_for_children();
    let checked = install_check::check(&install_root)??;
    for dir in &checked.dropped_directories {
        report(Event::Warning(&format!(
            "{dir}: empty directory outside /usr, not packaged"
        )));
    }
    let mut analysis = package_plan::package(&plan, recipe, &install_root, &prepared.path)?;
    for warning in &analysis.warnings {
        report(Event::Warning(&format!(
            "{}: {}",
            warning.path, warning.message
        )));
    }
    if analysis.packages.is_empty() {
        return Err(BuildError::NothingPackaged);
    }
    let unmatched: Vec<String> = plan
        .subpackages
        .iter()
        .map(|p| p.name.clone())
        .filter(|name| !analysis.packages.iter().any(|p| &p.name == name))
        .collect();
    if !unmatched.is_empty() {
        report(Event::Warning(
            &install_check::UnmatchedPackages(&unmatched).to_string(),
        ));
    }
    package_plan::sandbox_owners(
        &mut analysis.packages,
        &id_mapping.unwrap_or_else(IdMapping::detect),
    );
    timings.add("analysis", started.elapsed());

    // 6. Emission, verification, output, install.
    let started = Instant::now();
    let source = SourceInfo {
        name: recipe.source.name.value.clone(),
        version: recipe.source.version.value.clone(),
        release: recipe.source.release.value,
        homepage: recipe.source.homepage.value.clone(),
        licenses: recipe
            .source
            .license
            .iter()
            .map(|l| l.value.clone())
            .collect(),
        build_deps: recipe
            .build
            .builddeps
            .iter()
            .chain(&recipe.build.checkdeps)
            .map(|d| d.value.clone())
            .collect(),
    };
    // A fresh directory of boulder's own, out of the build's reach (the
    // build could have planted symlinks in `/mason/artefacts`).
    let artefacts = base.create_dir("artefacts")?;
    let emit_options = EmitOptions {
        output_dir: artefacts.path().to_path_buf(),
        install_root: install_root.clone(),
        build_release: request.build_release,
        architecture: HOST_ARCH.to_string(),
        source_date_epoch,
        write: WriteOptions {
            level: request.compression_level,
            ..WriteOptions::default()
        },
        manifests: true,
    };
    report(Event::Step("Writing stones"));
    let mut emitted = emit::emit(&source, &analysis.packages, &plan.info, &emit_options)?;
    let mut verification = None;
    if let (Some(given), Some((bin, json))) = (&request.verify, &emitted.manifests) {
        report(Event::Step("Verifying against the earlier build"));
        let stones: Vec<PathBuf> = emitted.stones.iter().map(|s| s.path.clone()).collect();
        let fresh = verify::Fresh {
            manifest_bin: bin,
            manifest_json: json,
            stones: &stones,
        };
        match verify::verify(&fresh, given)? {
            Ok(verified) => verification = Some(verified),
            Err(differences) => {
                return Err(BuildError::VerifyMismatch {
                    path: given.clone(),
                    differences,
                })
            }
        }
        // The earlier manifests stay as they are.
        emitted.manifests = None;
    }
    let (stones, manifests) = publish(&emitted, &request.output_dir, report)?;
    timings.add("emit", started.elapsed());

    let mut installed = None;
    if let Some(target_root) = &request.install_root {
        let started = Instant::now();
        report(Event::Step("Installing"));
        let install_error = |source| BuildError::Install {
            root: target_root.clone(),
            source: Box::new(source),
        };
        fs::create_dir_all(target_root).map_err(io("create", target_root))?;
        let mut engine = Engine::open(target_root).map_err(install_error)?;
        installed = Some(engine.install(&stones).map_err(install_error)?);
        timings.add("install", started.elapsed());
    }
    log.flush();
    Ok(BuildOutcome {
        stones,
        manifests,
        verification,
        installed,
        timings,
        log: log.path().to_path_buf(),
        build_dirs: dirs.base.clone(),
        source_date_epoch,
    })
}

/// The directories the sandbox mounts onto inside `/mason` must be real
/// directories before each sandbox starts: an earlier one may have put a
/// symlink there, and the sandbox would create its mount point through it.
fn ensure_mount_points(mason: &Beneath) -> Result<(), BuildError> {
    let guest_break = breakpoint::GUEST_DIR.trim_start_matches("/mason/");
    for name in [phases::SCRIPTS_MOUNT_POINT, guest_break, "recipe"] {
        mason.ensure_dir(name)?;
    }
    Ok(())
}

type Published = (Vec<PathBuf>, Option<(PathBuf, PathBuf)>);

/// Hardlinks (or copies) the emitted files into `output_dir`, replacing
/// files of the same name.
fn publish(
    emitted: &Emitted,
    output_dir: &Path,
    report: Reporter<'_>,
) -> Result<Published, BuildError> {
    fs::create_dir_all(output_dir).map_err(io("create", output_dir))?;
    let place = |from: &Path| -> Result<PathBuf, BuildError> {
        let name = from.file_name().unwrap_or_default();
        let to = output_dir.join(name);
        if to.exists() {
            fs::remove_file(&to).map_err(io("replace", &to))?;
        }
        if fs::hard_link(from, &to).is_err() {
            fs::copy(from, &to).map_err(io("copy into", &to))?;
            if let Ok(meta) = fs::metadata(from) {
                if let Ok(modified) = meta.modified() {
                    if let Ok(file) = fs::File::options().write(true).open(&to) {
                        let _ = file.set_modified(modified);
                    }
                }
            }
        }
        let size = fs::metadata(&to).map(|m| m.len()).unwrap_or(0);
        report(Event::Wrote { path: &to, size });
        Ok(to)
    };
    let stones = emitted
        .stones
        .iter()
        .map(|s| place(&s.path))
        .collect::<Result<Vec<_>, _>>()?;
    let manifests = match &emitted.manifests {
        Some((bin, json)) => Some((place(bin)?, place(json)?)),
        None => None,
    };
    Ok((stones, manifests))
}
