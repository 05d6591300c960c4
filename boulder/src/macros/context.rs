//! A script context: the macros of one target plus the builtins and flags of
//! one recipe build, ready to expand phase scripts.

use std::collections::{BTreeMap, HashMap};

use super::builtins::{plain_builtins, RecipeFacts};
use super::error::{MacroError, MacroErrorKind, TuningError, TuningErrorKind};
use super::eval::{Evaluator, Expansion};
use super::library::{MacroLibrary, TargetMacros};
use super::model::{Action, CompilerKind, Toolchain};
use super::syntax::{tokenize, MacroBody};
use super::tuning::{resolve, ResolvedTuning, TuningRequest};

/// Everything needed to expand the scripts of one target of one recipe.
#[derive(Debug, Clone)]
pub struct ScriptContext<'lib> {
    target: &'lib TargetMacros,
    facts: RecipeFacts,
    builtins: HashMap<String, MacroBody>,
    extra_definitions: BTreeMap<String, MacroBody>,
    tuning: ResolvedTuning,
    toplevel_builtins: bool,
}

impl<'lib> ScriptContext<'lib> {
    /// Resolves tuning for `target` (`x86_64`, `emul32/x86_64`, …) and installs
    /// the builtins. All tuning problems are returned together.
    pub fn new(
        library: &'lib MacroLibrary,
        target: &str,
        facts: &RecipeFacts,
        tuning: &[TuningRequest],
    ) -> Result<Self, Vec<TuningError>> {
        let Some(macros) = library.target(target) else {
            return Err(vec![TuningError {
                span: None,
                kind: TuningErrorKind::UnknownTarget {
                    target: target.to_string(),
                    known: library.targets().map(str::to_string).collect(),
                },
                suggestion: crate::suggest::closest_name(target, library.targets())
                    .map(str::to_string),
            }]);
        };
        let extra_groups = facts.pgo_stage.tuning_groups(facts.samplepgo);
        let resolved = resolve(macros, facts.toolchain, tuning, &extra_groups)?;
        let mut builtins = plain_builtins(facts, target);
        let mut errors = Vec::new();
        for kind in CompilerKind::ALL {
            let mut value = resolved.flags.get(&kind).cloned().unwrap_or_default();
            if facts.mold {
                match kind {
                    CompilerKind::C | CompilerKind::Cxx => value.push_str(" -fuse-ld=mold"),
                    CompilerKind::Rust => value.push_str(" -Clink-arg=-fuse-ld=mold"),
                    _ => {}
                }
            }
            match MacroBody::parse(value) {
                Ok(body) => {
                    builtins.insert(kind.builtin_name().to_string(), body);
                }
                Err(syntax) => errors.extend(syntax.into_iter().map(|error| TuningError {
                    span: None,
                    kind: TuningErrorKind::BadFlagString {
                        flags: kind.builtin_name().to_string(),
                        message: format!("unterminated `%({}`", error.name),
                    },
                    suggestion: None,
                })),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            target: macros,
            facts: facts.clone(),
            builtins,
            extra_definitions: BTreeMap::new(),
            tuning: resolved,
            toplevel_builtins: false,
        })
    }

    /// Allows `%(_x)` directly in expanded scripts (used for shell profiles).
    pub fn with_toplevel_builtins(mut self, allow: bool) -> Self {
        self.toplevel_builtins = allow;
        self
    }

    /// Adds (or overrides) a definition for this context only.
    pub fn add_definition(&mut self, name: &str, value: &str) -> Result<(), Vec<MacroError>> {
        let body = MacroBody::parse(value.trim()).map_err(|errors| {
            errors
                .into_iter()
                .map(|error| MacroError {
                    span: error.span,
                    kind: MacroErrorKind::Unterminated(error.name),
                    chain: vec![format!("definition \"{name}\"")],
                    suggestion: None,
                })
                .collect::<Vec<_>>()
        })?;
        self.extra_definitions.insert(name.to_string(), body);
        Ok(())
    }

    /// Expands `script`, reporting every problem with its span in `script`.
    pub fn expand(&self, script: &str) -> Result<Expansion, Vec<MacroError>> {
        self.expand_with(script, self.toplevel_builtins)
    }

    fn expand_with(
        &self,
        script: &str,
        toplevel_builtins: bool,
    ) -> Result<Expansion, Vec<MacroError>> {
        let (tokens, syntax_errors) = tokenize(script);
        let mut evaluator = Evaluator::new(self, toplevel_builtins);
        for error in syntax_errors {
            evaluator.push_error(MacroError {
                span: error.span,
                kind: MacroErrorKind::Unterminated(error.name),
                chain: Vec::new(),
                suggestion: None,
            });
        }
        evaluator.run(script, &tokens, None);
        evaluator.finish()
    }

    /// The expanded `%scriptBase` action: the bash prologue of every phase.
    pub fn prologue(&self) -> Result<Expansion, Vec<MacroError>> {
        self.expand("%scriptBase")
    }

    /// Every definition with its expanded value, sorted by name (for exporting
    /// into an interactive shell as `d_<name>`).
    pub fn definitions(&self) -> Result<Vec<(String, String)>, Vec<MacroError>> {
        let names: std::collections::BTreeSet<&str> = self.definition_names().collect();
        self.expand_each(names.into_iter().map(|name| (name, format!("%({name})"))))
    }

    /// Every action with its expanded command, sorted by name (`a_<name>`).
    pub fn actions(&self) -> Result<Vec<(String, String)>, Vec<MacroError>> {
        self.expand_each(
            self.target
                .actions()
                .filter(|action| action.name != "scriptBase")
                .map(|action| (action.name.as_str(), format!("%{}", action.name))),
        )
    }

    fn expand_each<'n>(
        &self,
        items: impl Iterator<Item = (&'n str, String)>,
    ) -> Result<Vec<(String, String)>, Vec<MacroError>> {
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for (name, script) in items {
            match self.expand(&script) {
                Ok(expansion) => values.push((name.to_string(), expansion.text())),
                Err(mut more) => errors.append(&mut more),
            }
        }
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }

    /// `CFLAGS`, `CXXFLAGS`, … with their expanded values, in a fixed order.
    pub fn environment_exports(&self) -> Result<Vec<(&'static str, String)>, Vec<MacroError>> {
        let mut exports = Vec::new();
        let mut errors = Vec::new();
        for kind in CompilerKind::ALL {
            let script = format!("%(_{})", kind.builtin_name());
            match self.expand_with(&script, true) {
                Ok(expansion) => exports.push((kind.env_name(), expansion.text())),
                Err(mut more) => errors.append(&mut more),
            }
        }
        if errors.is_empty() {
            Ok(exports)
        } else {
            Err(errors)
        }
    }

    /// The unexpanded flag string of `kind` after tuning (may contain `%(jobs)`).
    pub fn flags(&self, kind: CompilerKind) -> &str {
        self.builtins
            .get(kind.builtin_name())
            .map_or("", |body| body.text.as_str())
    }

    pub fn tuning(&self) -> &ResolvedTuning {
        &self.tuning
    }

    pub fn target(&self) -> &'lib TargetMacros {
        self.target
    }

    pub fn facts(&self) -> &RecipeFacts {
        &self.facts
    }

    pub fn toolchain(&self) -> Toolchain {
        self.facts.toolchain
    }

    pub(crate) fn lookup_action(&self, name: &str) -> Option<&Action> {
        self.target.action(name)
    }

    pub(crate) fn lookup_definition(&self, name: &str) -> Option<&MacroBody> {
        self.extra_definitions
            .get(name)
            .or_else(|| self.target.definition(name).map(|d| &d.body))
    }

    pub(crate) fn lookup_builtin(&self, name: &str) -> Option<&MacroBody> {
        self.builtins.get(name)
    }

    pub(crate) fn action_names(&self) -> impl Iterator<Item = &str> {
        self.target.actions().map(|action| action.name.as_str())
    }

    pub(crate) fn definition_names(&self) -> impl Iterator<Item = &str> {
        self.target
            .definitions()
            .map(|d| d.name.as_str())
            .chain(self.extra_definitions.keys().map(String::as_str))
    }

    pub(crate) fn builtin_names(&self) -> impl Iterator<Item = &str> {
        self.builtins.keys().map(String::as_str)
    }
}
