//! The macro language of `stone.yaml` recipes and the macro library.
//!
//! # Public API
//!
//! * [`MacroLibrary`] — the macro files, embedded in the binary
//!   ([`MacroLibrary::embedded`], or [`MacroLibrary::embedded_shared`] to parse
//!   them once per process) plus optional data directories
//!   ([`MacroLibrary::with_data_dirs`]; `<dir>/macros/{arch,actions}`, later wins;
//!   [`MacroLibrary::with_user_and_extra_dirs`] puts [`user_data_dir`] first).
//!   Resolved per build target into [`TargetMacros`] (`library.target("x86_64")`).
//!   Lookups on the library itself use the host target.
//! * [`ScriptContext::new`]`(library, target, facts, tuning)` — resolves the
//!   recipe's [`TuningRequest`]s (all errors at once, [`TuningError`]) and the
//!   builtins from [`RecipeFacts`].
//! * [`ScriptContext::expand`]`(script)` → [`Expansion`] (text and breakpoint
//!   [`Segment`]s + the action `dependencies`), or **every** [`MacroError`] of the
//!   script, each with the byte span of the offending token in `script`, the call
//!   chain and a suggested name.
//! * [`ScriptContext::prologue`] (`%scriptBase`), [`ScriptContext::definitions`],
//!   [`ScriptContext::actions`], [`ScriptContext::environment_exports`] for the
//!   build shell and `.profile` generation.
//! * [`tokenize`] for syntax-only checks, [`fuzz_expand`] for the fuzz target,
//!   [`render_reference`] for the book's macro reference.
//!
//! A phase script is assembled as `prologue + "\n" + environment + "\n" + "\n" +
//! phase`, expanding environment and phase separately so each error span points
//! into the text it came from.

mod builtins;
mod context;
mod error;
mod eval;
mod library;
mod model;
mod reference;
mod schema;
mod syntax;
mod tuning;

pub use builtins::{paths, PgoStage, RecipeFacts};
pub use context::ScriptContext;
pub use error::{
    LoadError, LoadProblem, LoadWarning, MacroError, MacroErrorKind, TuningError, TuningErrorKind,
};
pub use eval::{Expansion, Segment, MAX_DEPTH, MAX_STEPS};
pub use library::{user_data_dir, MacroLibrary, MacroSource, TargetMacros};
pub use model::{
    Action, CompilerKind, Definition, Flag, FlagSet, PackageTemplate, PathRule, Toolchain,
    TuningGroup, TuningOption,
};
pub use reference::{render_reference, REFERENCE_TARGET};
pub use syntax::{tokenize, SyntaxError, Token, TokenKind};
pub use tuning::{GroupState, ResolvedTuning, TuningRequest, TuningSetting};

/// The fuzz target body: tokenizes and expands arbitrary bytes against the
/// embedded library. It must never panic; errors are expected and ignored.
pub fn fuzz_expand(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = tokenize(&text);
    let Ok(library) = MacroLibrary::embedded_shared() else {
        return;
    };
    let facts = RecipeFacts {
        jobs: 4,
        ..RecipeFacts::new("fuzz", "1.0", 1)
    };
    for (target, toplevel) in [("x86_64", false), ("emul32/x86_64", true)] {
        if let Ok(context) = ScriptContext::new(library, target, &facts, &[]) {
            let context = context.with_toplevel_builtins(toplevel);
            if let Ok(expansion) = context.expand(&text) {
                let _ = expansion.text();
            }
        }
    }
}

#[cfg(test)]
mod tests;
