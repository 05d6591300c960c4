//! Up-front validation of whole recipes: structure, then the macro expansion of every
//! phase of every target and profile, so that every problem is reported before any
//! build work starts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::RecipeDiagnostic;
use super::model::{Phase, Script, Target, Toolchain, TuningSetting, Upstream};
use super::problem::{LineIndex, Strictness};
use super::stages;
use super::{LoadError, Problem, Recipe, HOST_ARCH};
use crate::macros::{
    self, Expansion, MacroError, MacroErrorKind, MacroLibrary, PgoStage, RecipeFacts,
    ScriptContext, Segment, TuningError, TuningErrorKind, TuningRequest,
};

/// What `check` found in one recipe file.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub path: PathBuf,
    pub text: Arc<String>,
    pub recipe: Recipe,
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// The problems as renderable diagnostics, as `recipe check` weighs them.
    pub fn diagnostics(&self) -> Vec<RecipeDiagnostic> {
        self.diagnostics_with(Strictness::Strict)
    }

    /// The problems as renderable diagnostics, errors or warnings under `strictness`.
    pub fn diagnostics_with(&self, strictness: Strictness) -> Vec<RecipeDiagnostic> {
        self.render(self.problems.clone(), strictness)
    }

    /// Other problems of this file as renderable diagnostics.
    pub fn diagnostics_for(&self, problems: Vec<Problem>) -> Vec<RecipeDiagnostic> {
        self.render(problems, Strictness::Strict)
    }

    /// How many problems refuse the recipe under `strictness`.
    pub fn error_count(&self, strictness: Strictness) -> usize {
        self.problems
            .iter()
            .filter(|p| p.is_error(strictness))
            .count()
    }

    /// One index for all problems, so positioning them is linear in their number.
    fn render(&self, problems: Vec<Problem>, strictness: Strictness) -> Vec<RecipeDiagnostic> {
        let name = self.path.display().to_string();
        let index = LineIndex::new(&self.text);
        problems
            .into_iter()
            .map(|p| RecipeDiagnostic::with_index(&name, &index, p, strictness))
            .collect()
    }
}

/// What a script of a build does: put the sources in place, or run a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Prepare,
    Phase(Phase),
}

impl Section {
    pub fn name(self) -> &'static str {
        match self {
            Section::Prepare => "prepare",
            Section::Phase(phase) => phase.name(),
        }
    }

    pub fn from_name(name: &str) -> Option<Section> {
        if name == "prepare" {
            Some(Section::Prepare)
        } else {
            Phase::from_name(name).map(Section::Phase)
        }
    }
}

/// What a build profile changes in the scripts of a recipe, and build-wide values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandOptions {
    /// Tuning requests applied before the recipe's own (a profile's defaults).
    pub base_tuning: Vec<TuningRequest>,
    /// Shell lines put after the prologue, before the recipe's environment (a
    /// profile's `script-environment`, e.g. a locale its roots have).
    pub script_environment: Option<String>,
    /// `%(jobs)`; the CPU count by default.
    pub jobs: usize,
}

impl Default for ExpandOptions {
    fn default() -> Self {
        Self {
            base_tuning: Vec::new(),
            script_environment: None,
            jobs: crate::cpus::available(),
        }
    }
}

/// One final script: prologue, environment and expanded phase, split at breakpoints.
#[derive(Debug, Clone)]
pub struct ExpandedScript {
    pub target: String,
    /// The PGO stage it belongs to (`None` for a plain build).
    pub stage: PgoStage,
    pub section: Section,
    /// The script with each breakpoint shown as a `# ---- breakpoint …` comment line.
    pub text: String,
    /// Build dependencies the used actions declare.
    pub dependencies: BTreeSet<String>,
}

/// Checks recipes against a macro library.
#[derive(Debug)]
pub struct Engine {
    library: MacroLibrary,
}

/// The macro library could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("cannot load the macro library")]
pub struct EngineError(#[from] macros::LoadError);

impl Engine {
    /// An engine using the macros embedded in the binary.
    pub fn embedded() -> Result<Self, EngineError> {
        Ok(Engine {
            library: MacroLibrary::embedded()?,
        })
    }

    /// An engine using the embedded macros plus `dirs` (later directories win).
    pub fn with_data_dirs(dirs: &[PathBuf]) -> Result<Self, EngineError> {
        Ok(Engine {
            library: MacroLibrary::with_data_dirs(dirs)?,
        })
    }

    /// An engine using an already loaded library.
    pub fn new(library: MacroLibrary) -> Self {
        Engine { library }
    }

    /// The macro library the engine expands with.
    pub fn library(&self) -> &MacroLibrary {
        &self.library
    }

    /// Reads and checks the recipe at `path`.
    pub fn check_file(&self, path: &Path) -> Result<CheckReport, LoadError> {
        // Read only: `check_text` parses, once.
        let text = super::read_text(path)?;
        Ok(self.check_text(path, Arc::new(text)))
    }

    /// Reads and checks every file in `paths` on up to `jobs` threads (all
    /// cores for 0), one engine and macro library shared by all. The
    /// reports come back in the order of `paths`.
    pub fn check_files(
        &self,
        paths: &[PathBuf],
        jobs: usize,
    ) -> Vec<Result<CheckReport, LoadError>> {
        let jobs = if jobs == 0 {
            crate::cpus::available()
        } else {
            jobs
        }
        .min(paths.len());
        if jobs <= 1 {
            return paths.iter().map(|p| self.check_file(p)).collect();
        }
        // Workers take the next file from a shared counter, so one slow
        // recipe does not hold up a fixed share of the others.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut results: Vec<(usize, Result<CheckReport, LoadError>)> =
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..jobs)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut done = Vec::new();
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(path) = paths.get(i) else { break };
                                done.push((i, self.check_file(path)));
                            }
                            done
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| match w.join() {
                        Ok(done) => done,
                        Err(panic) => std::panic::resume_unwind(panic),
                    })
                    .collect()
            });
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// Checks recipe `text` (named `path` in diagnostics): every structural problem and
    /// every macro and tuning problem of every phase of every target and profile.
    pub fn check_text(&self, path: &Path, text: Arc<String>) -> CheckReport {
        let (recipe, mut problems) = super::parse(&text);
        let structural_failure = problems.iter().any(|p| p.code == "recipe::yaml");
        if !structural_failure {
            let mut found = Vec::new();
            let units = script_units(&recipe);
            let mut targets: Vec<&Target> = Vec::new();
            let built = recipe.targets(HOST_ARCH);
            for target in built.iter().chain(units.iter().map(|u| &u.target)) {
                // Profiles for targets we have no macros for are never built: skip them.
                let known = built.contains(target) || self.library.target(&target.name).is_some();
                if known && !targets.contains(&target) {
                    targets.push(target);
                }
            }
            for target in targets {
                // Tuning is resolved once per target, even when there is no script.
                let context = match self.context(&recipe, target, true) {
                    Ok(context) => Some(context),
                    Err(errors) => {
                        found.extend(
                            errors
                                .iter()
                                .map(|e| tuning_problem(e, &recipe, &target.name)),
                        );
                        // Keep checking the scripts without the recipe's tuning.
                        self.context(&recipe, target, false).ok()
                    }
                };
                let Some(context) = context else {
                    continue;
                };
                for unit in units.iter().filter(|u| &u.target == target) {
                    if let Err(errors) = context.expand(&unit.script.text) {
                        found.extend(
                            errors
                                .iter()
                                .map(|e| macro_problem(e, unit.script, unit.what)),
                        );
                    }
                }
            }
            // The same script is expanded once per target; report each problem once.
            let mut seen = BTreeSet::new();
            for problem in found {
                if seen.insert((
                    problem.span.start,
                    problem.span.end,
                    problem.message.clone(),
                )) {
                    problems.push(problem);
                }
            }
        }
        problems.sort_by_key(|p| (p.span.start, p.span.end));
        CheckReport {
            path: path.to_path_buf(),
            text,
            recipe,
            problems,
        }
    }

    /// The final scripts of a checked recipe, for `target` (all targets when `None`) and
    /// `section` (all when `None`), in the order upstream boulder runs them: targets
    /// (emul32 first), then PGO stages, then the prepare step and the phases.
    pub fn expand(
        &self,
        report: &CheckReport,
        target: Option<&str>,
        section: Option<Section>,
        options: &ExpandOptions,
    ) -> Result<Vec<ExpandedScript>, Vec<Problem>> {
        let recipe = &report.recipe;
        let targets = recipe.targets(HOST_ARCH);
        let selected: Vec<&Target> = match target {
            None => targets.iter().collect(),
            Some(name) => {
                let found: Vec<&Target> = targets.iter().filter(|t| t.name == name).collect();
                if found.is_empty() {
                    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
                    return Err(vec![Problem::new(
                        "recipe::unknown-target",
                        format!(
                            "this recipe does not build target `{name}` (it builds: {})",
                            names.join(", ")
                        ),
                        0..0,
                    )
                    .suggest(crate::suggest::closest_name(name, names))]);
                }
                found
            }
        };
        let wanted = |s: Section| section.is_none_or(|w| w == s);
        let prepare = stages::prepare_script(recipe);
        let mut scripts = Vec::new();
        for target in selected {
            let environment = recipe
                .environment(target)
                .filter(|e| !e.text.is_empty() && e.text != "(null)");
            for stage in stages::pgo_stages(recipe, target) {
                let tuning_problems = |errors: Vec<TuningError>| {
                    errors
                        .iter()
                        .map(|e| tuning_problem(e, recipe, &target.name))
                        .collect::<Vec<_>>()
                };
                if !prepare.is_empty() && wanted(Section::Prepare) {
                    // The prepare step runs in the build root, before any work dir exists.
                    let context = self
                        .stage_context(recipe, target, stage, options, false)
                        .map_err(tuning_problems)?;
                    let body = context.expand(&prepare).map_err(|errors| {
                        errors
                            .iter()
                            .map(|e| {
                                Problem::new(
                                    "recipe::macro",
                                    format!("in the prepare step: {e}"),
                                    0..0,
                                )
                            })
                            .collect::<Vec<_>>()
                    })?;
                    let mut parts = Assembly::new(&context, options.script_environment.as_deref())?;
                    parts.push_body(&body.text(), body.dependencies);
                    scripts.push(parts.finish(target, stage, Section::Prepare));
                }
                let context = self
                    .stage_context(recipe, target, stage, options, true)
                    .map_err(tuning_problems)?;
                for &p in stages::stage_phases(stage) {
                    if !wanted(Section::Phase(p)) {
                        continue;
                    }
                    let Some(script) = recipe
                        .phase_script(target, p)
                        .filter(|s| !s.text.is_empty())
                    else {
                        continue;
                    };
                    let merge = if p == Phase::Workload {
                        stages::workload_merge_action(recipe, stage)
                    } else {
                        None
                    };
                    scripts.push(assemble(
                        &context,
                        target,
                        stage,
                        p,
                        environment,
                        script,
                        merge,
                        options.script_environment.as_deref(),
                        &report.text,
                    )?);
                }
            }
        }
        Ok(scripts)
    }

    /// The macro context of one stage of `target`; `in_workdir: false` for the
    /// prepare step, which runs in the build root.
    fn stage_context(
        &self,
        recipe: &Recipe,
        target: &Target,
        stage: PgoStage,
        options: &ExpandOptions,
        in_workdir: bool,
    ) -> Result<ScriptContext<'_>, Vec<TuningError>> {
        let mut facts = facts(recipe, target);
        facts.pgo_stage = stage;
        facts.jobs = options.jobs;
        if !in_workdir {
            facts.workdir = None;
        }
        // The recipe's requests come last, so they override the profile's defaults.
        let mut requests = options.base_tuning.clone();
        requests.extend(tuning_requests(recipe));
        ScriptContext::new(&self.library, &target.name, &facts, &requests)
    }

    fn context(
        &self,
        recipe: &Recipe,
        target: &Target,
        with_tuning: bool,
    ) -> Result<ScriptContext<'_>, Vec<TuningError>> {
        let facts = facts(recipe, target);
        let requests = if with_tuning {
            tuning_requests(recipe)
        } else {
            Vec::new()
        };
        ScriptContext::new(&self.library, &target.name, &facts, &requests)
    }
}

/// A script to validate, and the target whose macros apply to it.
struct ScriptUnit<'r> {
    target: Target,
    script: &'r Script,
    what: &'static str,
}

/// Every script of the recipe paired with the target it runs for: each built target's
/// phases (with profile fallback), plus the scripts of profiles for targets this recipe
/// does not build, checked against their own target's macros.
fn script_units(recipe: &Recipe) -> Vec<ScriptUnit<'_>> {
    let mut units = Vec::new();
    let built = recipe.targets(HOST_ARCH);
    for target in &built {
        if let Some(environment) = recipe.environment(target) {
            units.push(ScriptUnit {
                target: target.clone(),
                script: environment,
                what: "environment",
            });
        }
        for phase in Phase::ALL {
            if let Some(script) = recipe.phase_script(target, phase) {
                units.push(ScriptUnit {
                    target: target.clone(),
                    script,
                    what: phase.name(),
                });
            }
        }
    }
    for profile in &recipe.profiles {
        let target = profile_target(&profile.target.value);
        if built.contains(&target) {
            continue;
        }
        let block = &profile.build;
        let scripts = Phase::ALL
            .into_iter()
            .filter_map(|p| block.phase(p).map(|s| (s, p.name())))
            .chain(block.environment.as_ref().map(|s| (s, "environment")));
        for (script, what) in scripts {
            units.push(ScriptUnit {
                target: target.clone(),
                script,
                what,
            });
        }
    }
    units
}

fn profile_target(key: &str) -> Target {
    match key {
        "emul32" => Target {
            name: format!("emul32/{HOST_ARCH}"),
            emul32: true,
        },
        "native" => Target {
            name: HOST_ARCH.to_string(),
            emul32: false,
        },
        other => Target {
            name: other.to_string(),
            emul32: other.starts_with("emul32"),
        },
    }
}

/// The facts the macro builtins need, for one target.
pub fn facts(recipe: &Recipe, target: &Target) -> RecipeFacts {
    let source = &recipe.source;
    let mut facts = RecipeFacts::new(
        source.name.value.clone(),
        source.version.value.clone(),
        source.release.value,
    );
    facts.toolchain = match recipe.options.toolchain {
        Toolchain::Llvm => macros::Toolchain::Llvm,
        Toolchain::Gnu => macros::Toolchain::Gnu,
    };
    facts.mold = recipe.options.mold;
    facts.samplepgo = recipe.options.samplepgo;
    facts.compiler_cache = recipe.options.ccache;
    facts.workdir = work_dir(recipe, target);
    facts
}

/// `%(workdir)`: the first unpacked upstream inside the target's build root.
pub fn work_dir(recipe: &Recipe, target: &Target) -> Option<String> {
    let buildroot = format!("{}/{}", macros::paths::BUILD, target.name);
    recipe.upstreams.iter().find_map(|upstream| match upstream {
        Upstream::Archive {
            url,
            rename,
            unpack: true,
            unpackdir,
            ..
        } => {
            let dir = unpackdir
                .as_ref()
                .or(rename.as_ref())
                .map(|s| s.value.clone())
                .unwrap_or_else(|| stages::url_file_name(&url.value));
            Some(format!("{buildroot}/{dir}"))
        }
        Upstream::Git { url, clonedir, .. } => {
            let dir = clonedir
                .as_ref()
                .map(|s| s.value.clone())
                .unwrap_or_else(|| stages::url_file_name(&url.value));
            Some(format!("{buildroot}/{dir}"))
        }
        Upstream::Archive { .. } => None,
    })
}

pub fn tuning_requests(recipe: &Recipe) -> Vec<TuningRequest> {
    recipe
        .tuning
        .iter()
        .map(|entry| {
            let setting = match &entry.setting {
                TuningSetting::Default | TuningSetting::Enabled(true) => {
                    macros::TuningSetting::Enable
                }
                TuningSetting::Enabled(false) => macros::TuningSetting::Disable,
                TuningSetting::Option(option) => macros::TuningSetting::Option(option.clone()),
            };
            TuningRequest {
                group: entry.group.value.clone(),
                setting,
                span: Some(entry.group.span.clone()),
            }
        })
        .collect()
}

/// Maps a span in script text to the recipe file.
fn file_span(script: &Script, span: &std::ops::Range<usize>) -> std::ops::Range<usize> {
    let start = script.file_offset(span.start);
    let end = if span.end > span.start {
        script.file_offset(span.end - 1) + 1
    } else {
        start
    };
    start..end.max(start)
}

fn macro_problem(error: &MacroError, script: &Script, what: &str) -> Problem {
    let span = file_span(script, &error.span);
    let (label, shown) = match &error.kind {
        MacroErrorKind::UndefinedAction(_) => (
            "unknown action",
            error.suggestion.as_ref().map(|s| format!("%{s}")),
        ),
        MacroErrorKind::UndefinedDefinition(_) => (
            "unknown definition",
            error.suggestion.as_ref().map(|s| format!("%({s})")),
        ),
        MacroErrorKind::UndefinedBuiltin(_) => (
            "unknown builtin",
            error.suggestion.as_ref().map(|s| format!("%(_{s})")),
        ),
        MacroErrorKind::Unterminated(_) => ("missing `)`", None),
        MacroErrorKind::BuiltinNotAllowed(_) => ("builtin used directly", None),
        _ => ("here", error.suggestion.clone()),
    };
    let mut problem =
        Problem::new("recipe::macro", format!("in `{what}`: {error}"), span).label(label);
    if let Some(shown) = shown {
        problem.help = Some(format!("did you mean `{shown}`?"));
    }
    problem.suggestion = error.suggestion.clone();
    if let MacroErrorKind::Unterminated(name) = &error.kind {
        problem.help = Some(format!(
            "close it: `%({name})`, or write `%%` for a literal `%`"
        ));
        problem.suggestion = Some(name.clone());
    }
    if matches!(error.kind, MacroErrorKind::UndefinedAction(_)) && problem.help.is_none() {
        problem.help = Some(
            "shell `%` (printf \"%s\", date +%Y) must be written `%%`; `boulder macros` lists every action"
                .into(),
        );
    }
    problem
}

fn tuning_problem(error: &TuningError, recipe: &Recipe, target: &str) -> Problem {
    let entry = error
        .span
        .as_ref()
        .and_then(|span| recipe.tuning.iter().find(|e| e.group.span == *span));
    let span = match (&error.kind, entry) {
        (TuningErrorKind::UnknownOption { .. }, Some(entry)) => entry.setting_span.clone(),
        (_, Some(entry)) => entry.group.span.clone(),
        (_, None) => error.span.clone().unwrap_or(0..0),
    };
    let message = match &error.kind {
        TuningErrorKind::UnknownTarget { .. } | TuningErrorKind::UnknownFlag { .. } => {
            format!("{error} (target {target})")
        }
        _ => error.to_string(),
    };
    let label = match error.kind {
        TuningErrorKind::UnknownGroup(_) => "unknown tuning group",
        TuningErrorKind::UnknownOption { .. } => "unknown option",
        _ => "here",
    };
    Problem::new("recipe::tuning", message, span)
        .label(label)
        .suggest(error.suggestion.as_deref())
}

/// A final script being put together: `%scriptBase`, the environment, the body.
struct Assembly {
    text: String,
    dependencies: BTreeSet<String>,
}

impl Assembly {
    /// Starts with the expanded prologue, then the profile's script environment.
    fn new(
        context: &ScriptContext<'_>,
        script_environment: Option<&str>,
    ) -> Result<Self, Vec<Problem>> {
        let prologue = context.prologue().map_err(|errors| {
            errors
                .iter()
                .map(|e| {
                    Problem::new(
                        "recipe::macro",
                        format!("in the prologue (%scriptBase): {e}"),
                        0..0,
                    )
                })
                .collect::<Vec<_>>()
        })?;
        let mut text = prologue.text();
        text.push('\n');
        if let Some(lines) = script_environment {
            text.push_str(lines);
            if !lines.ends_with('\n') {
                text.push('\n');
            }
        }
        Ok(Self {
            text,
            dependencies: prologue.dependencies,
        })
    }

    fn push_body(&mut self, body: &str, dependencies: BTreeSet<String>) {
        self.text.push_str(body);
        self.dependencies.extend(dependencies);
    }

    /// Ends the script with a blank line, as upstream does: a phase whose last
    /// line ends in `\` continues into nothing.
    fn finish(mut self, target: &Target, stage: PgoStage, section: Section) -> ExpandedScript {
        if !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.text.push('\n');
        ExpandedScript {
            target: target.name.clone(),
            stage,
            section,
            text: self.text,
            dependencies: self.dependencies,
        }
    }
}

/// Builds one phase script: `%scriptBase`, the environment, then the phase (and
/// the profile merge that ends an LLVM workload), with breakpoints shown as
/// comment markers.
#[allow(clippy::too_many_arguments)]
fn assemble(
    context: &ScriptContext<'_>,
    target: &Target,
    stage: PgoStage,
    phase: Phase,
    environment: Option<&Script>,
    script: &Script,
    merge: Option<&str>,
    script_environment: Option<&str>,
    recipe_text: &str,
) -> Result<ExpandedScript, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut parts = Assembly::new(context, script_environment)?;
    if let Some(environment) = environment {
        match context.expand(&environment.text) {
            // As upstream, only the phase's own actions bring dependencies, not the
            // environment's (llvm's defines functions with %cmake and %patch there).
            Ok(expansion) => parts.push_body(&expansion.text(), BTreeSet::new()),
            Err(errors) => problems.extend(
                errors
                    .iter()
                    .map(|e| macro_problem(e, environment, "environment")),
            ),
        }
    }
    parts.push_body("\n\n", BTreeSet::new());
    match context.expand(&script.text) {
        Ok(expansion) => {
            let body = render_breakpoints(&expansion, script, recipe_text);
            parts.push_body(&body, expansion.dependencies);
        }
        Err(errors) => problems.extend(
            errors
                .iter()
                .map(|e| macro_problem(e, script, phase.name())),
        ),
    }
    if let Some(merge) = merge {
        match context.expand(merge) {
            Ok(expansion) => parts.push_body(&expansion.text(), expansion.dependencies),
            Err(errors) => problems.extend(errors.iter().map(|e| {
                Problem::new(
                    "recipe::macro",
                    format!("in the profile merge ending the workload: {e}"),
                    0..0,
                )
            })),
        }
    }
    if problems.is_empty() {
        Ok(parts.finish(target, stage, Section::Phase(phase)))
    } else {
        Err(problems)
    }
}

/// The expanded text with each breakpoint as a comment line naming its recipe line.
fn render_breakpoints(expansion: &Expansion, script: &Script, recipe_text: &str) -> String {
    let lines = LineIndex::new(recipe_text);
    let mut text = String::new();
    for segment in &expansion.segments {
        match segment {
            Segment::Text(chunk) => text.push_str(chunk),
            Segment::Breakpoint { exit, input_span } => {
                let offset = script.file_offset(input_span.start);
                let (line, _) = lines.line_column(offset);
                let action = if *exit { "exit" } else { "continue" };
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&format!(
                    "# ---- breakpoint ({action}) at recipe line {line}: the phase pauses here for a shell ----\n"
                ));
            }
        }
    }
    text
}
