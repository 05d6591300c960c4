//! The bash scripts of a build: one per phase and target, and the rc file of
//! `boulder chroot`.
//!
//! A phase script is the expanded `%scriptBase` prologue (`set -o errexit -o
//! nounset -o pipefail -o xtrace`, the exported flags, `SOURCE_DATE_EPOCH`,
//! `PATH`, the compilers, `cd` into the work directory), the `boulder_break`
//! function, the recipe's `environment`, then the expanded phase. Each
//! breakpoint of the phase becomes a call `boulder_break continue|exit <line>`
//! naming the recipe line it came from, so the whole phase runs in one bash
//! process and keeps its state across breakpoints.

use std::collections::BTreeSet;

use thiserror::Error;

use crate::macros::{
    MacroError, MacroLibrary, PgoStage, ScriptContext, Segment, TuningError, TuningRequest,
};
use crate::recipe::check::{facts, tuning_requests};
use crate::recipe::problem::{line_column, LineIndex};
use crate::recipe::stages;
use crate::recipe::{Phase, Recipe, Script, Target};

/// The `boulder_break` used when nothing better is installed: it reports the
/// breakpoint and goes on (there is no terminal handling here).
pub const REPORTING_BREAK_FUNCTION: &str = r#"boulder_break() {
    { set +x; } 2>/dev/null
    echo "boulder: breakpoint ($1) at recipe line $2: no debugger attached, going on" >&2
    set -x
}"#;

/// Why a script could not be rendered. Recipes are validated before a build,
/// so these mean the macro library changed under the recipe.
#[derive(Debug, Error)]
pub enum ScriptError {
    #[error("target {target}: tuning: {}", join(.errors))]
    Tuning {
        target: String,
        errors: Vec<TuningError>,
    },
    #[error("target {target}, {what}: {}", join(.errors))]
    Macro {
        target: String,
        what: String,
        errors: Vec<MacroError>,
    },
    #[error("the recipe builds no target for this architecture")]
    NoTarget,
}

fn join<E: std::fmt::Display>(errors: &[E]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Build-wide values the macros need that do not come from the recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptOptions {
    /// `SOURCE_DATE_EPOCH` of the build.
    pub source_date_epoch: i64,
    /// Parallel jobs (`%(jobs)`).
    pub jobs: usize,
    /// Tuning requests applied before the recipe's own (the profile's defaults).
    pub base_tuning: Vec<TuningRequest>,
    /// The profile's `script-environment`, run after the prologue.
    pub script_environment: Option<String>,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        Self {
            source_date_epoch: 0,
            jobs: crate::cpus::available(),
            base_tuning: Vec::new(),
            script_environment: None,
        }
    }
}

/// One phase of one target, ready to run as `bash <file>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseScript {
    /// `x86_64`, `emul32/x86_64`.
    pub target: String,
    /// The PGO stage the phase belongs to (`None` for a plain build).
    pub stage: PgoStage,
    pub phase: Phase,
    /// The recipe line of the phase's key (the first line of its script).
    pub line: usize,
    /// The whole bash script.
    pub text: String,
    /// The line of `text` where the phase itself starts (after the prologue
    /// and environment), to map bash's line numbers back to the recipe.
    pub body_line: usize,
    /// Recipe line of each line of the phase body, in order.
    pub body_recipe_lines: Vec<usize>,
    /// Build dependencies the used actions declare.
    pub dependencies: BTreeSet<String>,
}

impl PhaseScript {
    /// The recipe line for line `script_line` (1-based) of [`PhaseScript::text`],
    /// if it lies in the phase body.
    pub fn recipe_line(&self, script_line: usize) -> Option<usize> {
        let index = script_line.checked_sub(self.body_line)?;
        self.body_recipe_lines.get(index).copied()
    }
}

/// The macro context and recipe of one target, for one PGO stage of its build
/// (a target without a `workload` has one, `PgoStage::None`).
pub struct TargetScripts<'a> {
    pub target: Target,
    pub stage: PgoStage,
    context: ScriptContext<'a>,
    recipe: &'a Recipe,
    recipe_text: &'a str,
    script_environment: Option<String>,
}

/// What a build root must hold for a recipe, beyond the profile's toolchain
/// packages: its builddeps and checkdeps, the dependencies the actions of its
/// phase scripts declare, and `llvm-profdata` for LLVM PGO. `boulder build`
/// and `boulder chroot` ask for the same set, so they share one root.
pub fn root_packages(recipe: &Recipe, phases: &[PhaseScript]) -> Vec<String> {
    let mut packages: BTreeSet<String> = recipe
        .build
        .builddeps
        .iter()
        .chain(&recipe.build.checkdeps)
        .map(|d| d.value.clone())
        .collect();
    for script in phases {
        packages.extend(script.dependencies.iter().cloned());
    }
    let pgo = phases.iter().any(|p| p.stage != PgoStage::None);
    if pgo && recipe.options.toolchain == crate::recipe::model::Toolchain::Llvm {
        packages.insert("binary(llvm-profdata)".to_string());
    }
    packages.into_iter().collect()
}

/// Expands the scripts of one recipe.
pub struct RecipeScripts<'a> {
    targets: Vec<TargetScripts<'a>>,
    break_function: String,
}

impl<'a> RecipeScripts<'a> {
    /// Prepares every target the recipe builds on `arch` (emul32 first), each
    /// PGO stage of a target with a `workload` in the order they run.
    pub fn new(
        library: &'a MacroLibrary,
        recipe: &'a Recipe,
        recipe_text: &'a str,
        arch: &str,
        options: ScriptOptions,
    ) -> Result<Self, ScriptError> {
        // The recipe's requests come last, so they override the profile's defaults.
        let mut requests = options.base_tuning.clone();
        requests.extend(tuning_requests(recipe));
        let mut targets = Vec::new();
        for target in recipe.targets(arch) {
            for stage in stages::pgo_stages(recipe, &target) {
                let mut facts = facts(recipe, &target);
                facts.source_date_epoch = options.source_date_epoch;
                facts.jobs = options.jobs;
                facts.pgo_stage = stage;
                let context = ScriptContext::new(library, &target.name, &facts, &requests)
                    .map_err(|errors| ScriptError::Tuning {
                        target: target.name.clone(),
                        errors,
                    })?;
                targets.push(TargetScripts {
                    target: target.clone(),
                    stage,
                    context,
                    recipe,
                    recipe_text,
                    script_environment: options.script_environment.clone(),
                });
            }
        }
        if targets.is_empty() {
            return Err(ScriptError::NoTarget);
        }
        Ok(Self {
            targets,
            break_function: REPORTING_BREAK_FUNCTION.to_string(),
        })
    }

    /// Replaces the definition of the `boulder_break` shell function.
    pub fn with_break_function(mut self, definition: impl Into<String>) -> Self {
        self.break_function = definition.into();
        self
    }

    pub fn targets(&self) -> &[TargetScripts<'a>] {
        &self.targets
    }

    /// The target native to the host (the last one built; its final PGO stage).
    pub fn main_target(&self) -> &TargetScripts<'a> {
        // `new` refuses recipes without targets.
        &self.targets[self.targets.len() - 1]
    }

    /// Every phase script, targets in build order, then PGO stages, phases in
    /// run order: the instrumented stages build and run the workload, the
    /// final (or only) stage builds, installs and checks.
    pub fn phases(&self) -> Result<Vec<PhaseScript>, ScriptError> {
        let mut scripts = Vec::new();
        for target in &self.targets {
            for &phase in stages::stage_phases(target.stage) {
                if let Some(script) = target.phase(phase, &self.break_function)? {
                    scripts.push(script);
                }
            }
        }
        Ok(scripts)
    }

    /// The rc file of `boulder chroot` for the native target; see
    /// [`TargetScripts::chroot_rc`].
    pub fn chroot_rc(&self) -> Result<String, ScriptError> {
        self.main_target().chroot_rc(&self.break_function)
    }
}

impl<'a> TargetScripts<'a> {
    pub fn context(&self) -> &ScriptContext<'a> {
        &self.context
    }

    /// The work directory of the phases (`%(workdir)`).
    pub fn workdir(&self) -> String {
        self.context
            .facts()
            .workdir
            .clone()
            .unwrap_or_else(|| self.buildroot())
    }

    /// `%(buildroot)`: `/mason/build/<target>`.
    pub fn buildroot(&self) -> String {
        format!("{}/{}", crate::macros::paths::BUILD, self.target.name)
    }

    fn macro_error(&self, what: &str, errors: Vec<MacroError>) -> ScriptError {
        ScriptError::Macro {
            target: self.target.name.clone(),
            what: what.to_string(),
            errors,
        }
    }

    /// `%scriptBase`, expanded.
    pub fn prologue(&self) -> Result<(String, BTreeSet<String>), ScriptError> {
        let expansion = self
            .context
            .prologue()
            .map_err(|e| self.macro_error("prologue (%scriptBase)", e))?;
        Ok((expansion.text(), expansion.dependencies))
    }

    /// The recipe's `environment` for this target, expanded (empty if none).
    pub fn environment(&self) -> Result<String, ScriptError> {
        match self.recipe.environment(&self.target) {
            None => Ok(String::new()),
            Some(script) => self
                .context
                .expand(&script.text)
                .map(|e| e.text())
                .map_err(|e| self.macro_error("environment", e)),
        }
    }

    /// Expands `text` (a package name, a path, a rundep) with this target's macros.
    pub fn expand_text(&self, text: &str) -> Result<String, ScriptError> {
        self.context
            .expand(text)
            .map(|e| e.text())
            .map_err(|e| self.macro_error(text, e))
    }

    /// The script of `phase`, if the recipe has one for this target.
    pub fn phase(
        &self,
        phase: Phase,
        break_function: &str,
    ) -> Result<Option<PhaseScript>, ScriptError> {
        let Some(script) = self
            .recipe
            .phase_script(&self.target, phase)
            .filter(|s| !s.text.is_empty())
        else {
            return Ok(None);
        };
        let (prologue, mut dependencies) = self.prologue()?;
        let environment = self.environment()?;
        let mut text = String::new();
        push_block(&mut text, &prologue);
        if let Some(lines) = &self.script_environment {
            push_block(&mut text, lines);
        }
        push_block(&mut text, break_function);
        push_block(&mut text, &error_trap());
        push_block(&mut text, &recipe_commands_marker());
        push_block(&mut text, &environment);
        let body_line = text.matches('\n').count() + 1;
        let (body, body_recipe_lines) = self.render_body(phase, script, &mut dependencies)?;
        text.push_str(&body);
        if phase == Phase::Workload {
            // An LLVM workload ends by merging the profiles it wrote.
            if let Some(merge) = stages::workload_merge_action(self.recipe, self.stage) {
                let expansion = self
                    .context
                    .expand(merge)
                    .map_err(|e| self.macro_error("the profile merge of the workload", e))?;
                push_block(&mut text, &expansion.text());
                dependencies.extend(expansion.dependencies);
            }
        }
        Ok(Some(PhaseScript {
            target: self.target.name.clone(),
            stage: self.stage,
            phase,
            line: self.line_of(script, 0),
            text,
            body_line,
            body_recipe_lines,
            dependencies,
        }))
    }

    fn line_of(&self, script: &Script, offset: usize) -> usize {
        line_column(self.recipe_text, script.file_offset(offset)).0
    }

    /// The phase text with breakpoints as `boulder_break` calls, and the
    /// recipe line of each output line. The script is expanded one input line
    /// at a time (a macro call never spans lines), so every output line,
    /// including those an action expands to, knows the recipe line it came from.
    fn render_body(
        &self,
        phase: Phase,
        script: &Script,
        dependencies: &mut BTreeSet<String>,
    ) -> Result<(String, Vec<usize>), ScriptError> {
        let mut body = String::new();
        let mut lines = Vec::new();
        let mut offset = 0;
        let mut errors = Vec::new();
        // One index for the whole phase: a lookup per line stays logarithmic.
        let index = LineIndex::new(self.recipe_text);
        for input in script.text.split_inclusive('\n') {
            let line = index.line(script.file_offset(offset));
            // The body ends with a line break here; count only what this line adds.
            let before = body.len();
            offset += input.len();
            let expansion = match self.context.expand(input) {
                Ok(expansion) => expansion,
                Err(mut more) => {
                    errors.append(&mut more);
                    continue;
                }
            };
            dependencies.extend(expansion.dependencies);
            let mut after_break = false;
            for segment in expansion.segments {
                match segment {
                    // Leftover indentation or line end around a breakpoint.
                    Segment::Text(chunk) if after_break && chunk.trim().is_empty() => {}
                    Segment::Text(chunk) => {
                        body.push_str(&chunk);
                        after_break = false;
                    }
                    Segment::Breakpoint { exit, .. } => {
                        let line_start = body.rfind('\n').map_or(0, |i| i + 1);
                        if body[line_start..].trim().is_empty() {
                            body.truncate(line_start);
                        } else {
                            body.push('\n');
                        }
                        let action = if exit { "exit" } else { "continue" };
                        body.push_str(&format!("boulder_break {action} {line}\n"));
                        after_break = true;
                    }
                }
            }
            if !body.is_empty() && !body.ends_with('\n') {
                body.push('\n');
            }
            let produced = body[before..].matches('\n').count();
            lines.extend(std::iter::repeat_n(line, produced));
        }
        if !errors.is_empty() {
            return Err(self.macro_error(phase.name(), errors));
        }
        Ok((body, lines))
    }

    /// A bash rc file for an interactive shell in the build root: the
    /// prologue without the shebang, `set`, `TERM` and work directory lines, every action as
    /// a shell function `a_<name>`, every definition as a variable
    /// `d_<name>`, the recipe's `environment`, and a `cd` into the work
    /// directory (created first, so a fresh root has somewhere to stand).
    pub fn chroot_rc(&self, break_function: &str) -> Result<String, ScriptError> {
        let (prologue, _) = self.prologue()?;
        let mut rc = String::from("# boulder chroot: the phase environment of this recipe\n");
        for line in prologue.lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("#!")
                || trimmed.starts_with("set ")
                || trimmed.starts_with("export TERM=")
                || trimmed.starts_with("TERM=")
                // The work directory check and `cd`: the rc makes and enters it last.
                || trimmed.starts_with("test -d ")
                || trimmed.starts_with("cd ")
            {
                continue;
            }
            rc.push_str(line);
            rc.push('\n');
        }
        push_block(&mut rc, break_function);
        let definitions = self
            .context
            .definitions()
            .map_err(|e| self.macro_error("definitions", e))?;
        for (name, value) in definitions {
            if shell_name(&name) {
                rc.push_str(&format!("d_{name}={}\nexport d_{name}\n", quote(&value)));
            }
        }
        let actions = self
            .context
            .actions()
            .map_err(|e| self.macro_error("actions", e))?;
        for (name, command) in actions {
            if shell_name(&name) {
                let body = command.trim_end();
                rc.push_str(&format!(
                    "a_{name}() {{\n:\n{body}\n}}\nexport -f a_{name}\n"
                ));
            }
        }
        push_block(&mut rc, &self.environment()?);
        let workdir = self.workdir();
        rc.push_str(&format!(
            "mkdir -p {dir} && cd {dir}\n",
            dir = quote(&workdir)
        ));
        Ok(rc)
    }
}

/// An ERR trap that prints the script line of the failing command for the
/// failure report (quietly: xtrace is switched off first).
/// The ERR trap: marks the failing line in the log and, under
/// `--break-on-failure`, opens the breakpoint console there (the hook is
/// defined by [`super::breakpoint::bash_function`]).
fn error_trap() -> String {
    format!(
        "trap '{{ __bb_status=$? __bb_line=$LINENO; set +x; }} 2>/dev/null; \
         echo \"{}$__bb_line\" >&2; {}' ERR",
        super::failure::FAILED_LINE_MARKER,
        super::breakpoint::FAILURE_HOOK,
    )
}

/// The line a phase prints where the recipe's own part (its `environment`,
/// then the phase) starts: output renderers show the traced prologue before
/// it only when asked to. The build log keeps every line.
pub const RECIPE_COMMANDS_MARKER: &str = "##boulder-recipe-commands";

/// Prints [`RECIPE_COMMANDS_MARKER`] untraced, then restores tracing as the
/// prologue left it.
fn recipe_commands_marker() -> String {
    format!(
        "{{ __bb_flags=$-; set +x; }} 2>/dev/null; echo '{RECIPE_COMMANDS_MARKER}'; \
         case $__bb_flags in *x*) set -x ;; esac"
    )
}

fn push_block(text: &mut String, block: &str) {
    text.push_str(block);
    if !text.ends_with('\n') {
        text.push('\n');
    }
}

/// Whether `name` can be part of a bash variable or function name.
fn shell_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Single-quotes `value` for bash.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scripts_for(text: &str, check: impl FnOnce(&RecipeScripts<'_>)) {
        let library = MacroLibrary::embedded().expect("macros");
        let (recipe, problems) = crate::recipe::parse(text);
        assert!(problems.is_empty(), "{problems:?}");
        let options = ScriptOptions {
            source_date_epoch: 1_700_000_000,
            jobs: 3,
            base_tuning: Vec::new(),
            script_environment: None,
        };
        let scripts = RecipeScripts::new(&library, &recipe, text, "x86_64", options).expect("ok");
        check(&scripts);
    }

    const RECIPE: &str = "name: demo\nversion: 1\nrelease: 1\nsummary: s\nlicense: MIT\nhomepage: https://example.invalid\ndescription: d\ntoolchain: gnu\nenvironment: |\n    export DEMO_VAR=1\nbuild: |\n    echo one\n    %break_continue\n    echo two\n    %break_exit\n    echo three\ninstall: |\n    %install_bin demo\n";

    #[test]
    fn phases_have_prologue_environment_and_breakpoint_calls() {
        scripts_for(RECIPE, |scripts| {
            let phases = scripts.phases().expect("phases");
            let names: Vec<_> = phases.iter().map(|p| p.phase).collect();
            assert_eq!(names, vec![Phase::Build, Phase::Install]);
            let build = &phases[0];
            assert_eq!(build.line, 12);
            assert!(build.text.starts_with("#!/usr/bin/bash\n"));
            assert!(build.text.contains("set -o errexit\n"));
            assert!(build.text.contains("set -o nounset\n"));
            assert!(build
                .text
                .contains("SOURCE_DATE_EPOCH=\"1700000000\"; export SOURCE_DATE_EPOCH"));
            assert!(build.text.contains("CC=\"gcc\"; export CC"));
            assert!(build.text.contains("boulder_break() {"));
            let env_at = build.text.find("export DEMO_VAR=1").expect("environment");
            let body_at = build.text.find("echo one").expect("body");
            assert!(env_at < body_at);
            assert!(build.text.contains("\nboulder_break continue 13\n"));
            assert!(build.text.contains("\nboulder_break exit 15\n"));
            let lines: Vec<&str> = build.text.lines().collect();
            let one = lines.iter().position(|l| *l == "echo one").unwrap() + 1;
            assert_eq!(build.recipe_line(one), Some(12));
            let three = lines.iter().position(|l| *l == "echo three").unwrap() + 1;
            assert_eq!(build.recipe_line(three), Some(16));
            assert_eq!(build.recipe_line(1), None);
        });
    }

    #[test]
    fn the_break_function_can_be_replaced() {
        scripts_for(RECIPE, |scripts| {
            let phases = RecipeScripts::new(
                MacroLibrary::embedded_shared().expect("macros"),
                scripts.main_target().recipe,
                RECIPE,
                "x86_64",
                ScriptOptions::default(),
            )
            .expect("ok")
            .with_break_function("boulder_break() { :; }")
            .phases()
            .expect("phases");
            assert!(phases[0].text.contains("boulder_break() { :; }"));
            assert!(!phases[0].text.contains("no debugger attached"));
        });
    }

    #[test]
    fn chroot_rc_has_functions_variables_and_workdir() {
        scripts_for(RECIPE, |scripts| {
            let rc = scripts.chroot_rc().expect("rc");
            assert!(!rc.contains("#!/usr/bin/bash"));
            assert!(!rc.contains("set -o errexit"));
            assert!(!rc.contains("TERM="));
            assert!(rc.contains("export CFLAGS"));
            assert!(rc.contains("a_make() {"));
            assert!(rc.contains("export -f a_make"));
            assert!(rc.contains("d_prefix='/usr'"));
            assert!(rc.contains("export DEMO_VAR=1"));
            assert!(rc.ends_with("mkdir -p '/mason/build/x86_64' && cd '/mason/build/x86_64'\n"));
        });
    }

    #[test]
    #[cfg_attr(lacks_bash, ignore = "needs bash")]
    fn rc_and_scripts_are_valid_bash() {
        let Ok(bash) = which("bash") else {
            test_support::missing("rc_and_scripts_are_valid_bash", "no bash on this host");
            return;
        };
        scripts_for(RECIPE, |scripts| {
            let mut texts = vec![scripts.chroot_rc().expect("rc")];
            texts.extend(
                scripts
                    .phases()
                    .expect("phases")
                    .into_iter()
                    .map(|p| p.text),
            );
            for text in texts {
                let out = std::process::Command::new(&bash)
                    .args(["-n", "-c", &text])
                    .output()
                    .expect("bash runs");
                assert!(
                    out.status.success(),
                    "{}\n{text}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        });
    }

    fn which(name: &str) -> Result<std::path::PathBuf, ()> {
        ["/usr/bin", "/bin"]
            .iter()
            .map(|dir| std::path::Path::new(dir).join(name))
            .find(|p| p.exists())
            .ok_or(())
    }

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn profile_tuning_is_a_default_the_recipe_overrides() {
        use crate::macros::{TuningRequest, TuningSetting};
        let library = MacroLibrary::embedded().expect("macros");
        let ldflags = |text: &str| {
            let (recipe, problems) = crate::recipe::parse(text);
            assert!(problems.is_empty(), "{problems:?}");
            let options = ScriptOptions {
                base_tuning: vec![TuningRequest::new(
                    "compress-debug",
                    TuningSetting::Option("zlib".into()),
                )],
                ..ScriptOptions::default()
            };
            let scripts =
                RecipeScripts::new(&library, &recipe, text, "x86_64", options).expect("ok");
            scripts
                .phases()
                .expect("phases")
                .into_iter()
                .map(|phase| phase.text)
                .collect::<String>()
        };
        let base = "name: a\nversion: 1\nrelease: 1\nsummary: s\nlicense: MIT\nhomepage: h\ndescription: d\nbuild: |\n    true\n";
        assert!(ldflags(base).contains("--compress-debug-sections=zlib"));
        let own = format!("{base}tuning:\n    - compress-debug: none\n");
        let text = ldflags(&own);
        assert!(!text.contains("--compress-debug-sections=zlib"), "{text}");
    }
}
