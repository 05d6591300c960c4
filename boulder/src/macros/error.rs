//! Error types of the macro engine. Every error carries enough context to be
//! rendered on its own: spans point into the text the caller passed in.

use std::ops::Range;

use thiserror::Error;

/// One problem found while expanding a script.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind}{}", render_chain(chain))]
pub struct MacroError {
    /// Byte range, in the expanded input text, of the outermost token that led
    /// to the problem (the bad token itself when it sits directly in the input).
    pub span: Range<usize>,
    pub kind: MacroErrorKind,
    /// The macros entered on the way to the problem, innermost first:
    /// `["definition \"extra\"", "action \"compile\""]`. Empty when the bad token
    /// is in the input itself.
    pub chain: Vec<String>,
    /// The closest known name, when one is close enough to be a likely typo.
    pub suggestion: Option<String>,
}

fn render_chain(chain: &[String]) -> String {
    if chain.is_empty() {
        String::new()
    } else {
        format!(" (in {})", chain.join(" ← "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MacroErrorKind {
    #[error("undefined action `%{0}`")]
    UndefinedAction(String),
    #[error("undefined definition `%({0})`")]
    UndefinedDefinition(String),
    #[error("undefined builtin `%(_{0})`")]
    UndefinedBuiltin(String),
    #[error("builtin `%(_{0})` is only allowed inside a definition or action; use `%({0})`")]
    BuiltinNotAllowed(String),
    #[error("unterminated definition `%({0}`: expected `)`")]
    Unterminated(String),
    #[error("`{0}` refers to itself; macros have no conditions, so this never ends")]
    Recursive(String),
    #[error("script call stack too deep (more than {0} nested macros)")]
    TooDeep(usize),
    #[error("expansion too large (more than {0} macro steps); giving up on this script")]
    TooLarge(usize),
}

impl MacroErrorKind {
    /// The macro name the error is about, when there is one.
    pub fn name(&self) -> Option<&str> {
        match self {
            MacroErrorKind::UndefinedAction(name)
            | MacroErrorKind::UndefinedDefinition(name)
            | MacroErrorKind::UndefinedBuiltin(name)
            | MacroErrorKind::BuiltinNotAllowed(name)
            | MacroErrorKind::Unterminated(name)
            | MacroErrorKind::Recursive(name) => Some(name),
            MacroErrorKind::TooDeep(_) | MacroErrorKind::TooLarge(_) => None,
        }
    }
}

/// A problem with a recipe's tuning request (or with the flags it resolves to).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind}")]
pub struct TuningError {
    /// The span of the offending request, as given in [`super::TuningRequest::span`].
    pub span: Option<Range<usize>>,
    pub kind: TuningErrorKind,
    pub suggestion: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TuningErrorKind {
    #[error("unknown tuning group `{0}`")]
    UnknownGroup(String),
    #[error("tuning group `{group}` has no option `{option}`{}", known_options(.known))]
    UnknownOption {
        group: String,
        option: String,
        known: Vec<String>,
    },
    #[error("tuning group `{group}` refers to unknown flag `{flag}`")]
    UnknownFlag { group: String, flag: String },
    #[error("the {flags} flag string is malformed: {message}")]
    BadFlagString { flags: String, message: String },
    #[error("unknown build target `{target}` (known: {})", .known.join(", "))]
    UnknownTarget { target: String, known: Vec<String> },
}

fn known_options(known: &[String]) -> String {
    if known.is_empty() {
        " (it has no options; use `true` or `false`)".to_string()
    } else {
        format!(" (options: {})", known.join(", "))
    }
}

/// Everything wrong with a set of macro files; loading reports all problems at once.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct LoadError {
    pub problems: Vec<LoadProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoadProblem {
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("{file}: {message}")]
    Yaml { file: String, message: String },
    #[error("{file}: {item} `{name}`: unterminated `%({macro_name}` at byte {offset}")]
    Syntax {
        file: String,
        item: &'static str,
        name: String,
        macro_name: String,
        offset: usize,
    },
    #[error("{item} `{name}` is defined twice: in {first} and in {second}")]
    Duplicate {
        item: &'static str,
        name: String,
        first: String,
        second: String,
    },
    #[error("{file}: tuning group `{group}` refers to unknown flag `{flag}` (target {target})")]
    UnknownFlag {
        file: String,
        group: String,
        flag: String,
        target: String,
    },
    #[error("{file}: tuning group `{group}`: default option `{option}` does not exist")]
    UnknownDefault {
        file: String,
        group: String,
        option: String,
    },
    #[error("no architecture files found (expected macros/arch/<target>.yaml)")]
    NoTargets,
}

/// A key in a macro file that no macro schema knows. Upstream boulder ignores such
/// keys, so the file still loads; the key is reported so a typo does not go unseen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}: {place}: unknown key `{key}` (ignored)")]
pub struct LoadWarning {
    pub file: String,
    /// `action \`make_install\`` or `the file`.
    pub place: String,
    pub key: String,
}
