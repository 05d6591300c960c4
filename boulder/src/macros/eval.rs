//! The evaluator: walks tokens, expands macros recursively and records every
//! problem instead of stopping at the first one.

use std::collections::BTreeSet;
use std::ops::Range;

use super::context::ScriptContext;
use super::error::{MacroError, MacroErrorKind};
use super::syntax::{MacroBody, Token, TokenKind};
use crate::suggest::closest_name;

/// Nesting limit of macro calls, as in the original tool.
pub const MAX_DEPTH: usize = 128;
/// Upper bound of tokens processed for one script; stops exponential blow-ups
/// (`a: %(b)%(b)`, `b: %(c)%(c)`, …) from user data directories.
pub const MAX_STEPS: usize = 1_000_000;
/// A long script earns a budget in proportion to its length (a 1,000,000-line
/// phase is legitimate input): the bound becomes this many steps per input token
/// where that is more than [`MAX_STEPS`], so blow-ups stay cut off and large
/// scripts stay linear.
pub const STEPS_PER_INPUT_TOKEN: usize = 256;

/// One piece of an expanded script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Script text to run.
    Text(String),
    /// `%break_continue` (`exit == false`) or `%break_exit`. `input_span` is the
    /// span of the outermost input token that produced it (the breakpoint itself,
    /// or the action call whose expansion contains it).
    Breakpoint {
        exit: bool,
        input_span: Range<usize>,
    },
}

/// The result of expanding one script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    pub segments: Vec<Segment>,
    /// The `dependencies` of every action the script used, directly or nested.
    pub dependencies: BTreeSet<String>,
}

impl Expansion {
    /// All text segments joined, breakpoints left out.
    pub fn text(&self) -> String {
        self.segments
            .iter()
            .filter_map(|segment| match segment {
                Segment::Text(text) => Some(text.as_str()),
                Segment::Breakpoint { .. } => None,
            })
            .collect()
    }

    pub fn has_breakpoints(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::Breakpoint { .. }))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Action,
    Definition,
    Builtin,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Action => "action",
            Kind::Definition => "definition",
            Kind::Builtin => "builtin",
        }
    }
}

pub(crate) struct Evaluator<'c, 'lib> {
    context: &'c ScriptContext<'lib>,
    segments: Vec<Segment>,
    buffer: String,
    dependencies: BTreeSet<String>,
    errors: Vec<MacroError>,
    stack: Vec<(Kind, &'c str)>,
    steps: usize,
    /// The step bound of this script (see [`STEPS_PER_INPUT_TOKEN`]).
    budget: usize,
    aborted: bool,
    toplevel_builtins: bool,
}

impl<'c, 'lib> Evaluator<'c, 'lib> {
    pub(crate) fn new(context: &'c ScriptContext<'lib>, toplevel_builtins: bool) -> Self {
        Self {
            context,
            segments: Vec::new(),
            buffer: String::new(),
            dependencies: BTreeSet::new(),
            errors: Vec::new(),
            stack: Vec::new(),
            steps: 0,
            budget: MAX_STEPS,
            aborted: false,
            toplevel_builtins,
        }
    }

    /// Records a problem found before evaluation (a tokenizer error).
    pub(crate) fn push_error(&mut self, error: MacroError) {
        self.errors.push(error);
    }

    pub(crate) fn finish(mut self) -> Result<Expansion, Vec<MacroError>> {
        self.flush();
        if self.errors.is_empty() {
            Ok(Expansion {
                segments: self.segments,
                dependencies: self.dependencies,
            })
        } else {
            self.errors
                .sort_by_key(|error| (error.span.start, error.span.end));
            Err(self.errors)
        }
    }

    fn flush(&mut self) {
        if !self.buffer.is_empty() {
            self.segments
                .push(Segment::Text(std::mem::take(&mut self.buffer)));
        }
    }

    fn error(&mut self, span: Range<usize>, kind: MacroErrorKind, suggestion: Option<&str>) {
        let chain = self
            .stack
            .iter()
            .rev()
            .map(|(kind, name)| format!("{} \"{}\"", kind.label(), name))
            .collect();
        self.errors.push(MacroError {
            span,
            kind,
            chain,
            suggestion: suggestion.map(str::to_string),
        });
    }

    /// Evaluates `tokens` of `source`. `outer` is the span of the input token
    /// being expanded, `None` while walking the input itself.
    pub(crate) fn run(
        &mut self,
        source: &'c str,
        tokens: &'c [Token],
        outer: Option<&Range<usize>>,
    ) {
        if outer.is_none() {
            self.budget = MAX_STEPS.max(tokens.len().saturating_mul(STEPS_PER_INPUT_TOKEN));
        }
        for token in tokens {
            if self.aborted {
                return;
            }
            self.steps += 1;
            if self.steps > self.budget {
                let span = outer.unwrap_or(&token.span).clone();
                self.error(span, MacroErrorKind::TooLarge(self.budget), None);
                self.aborted = true;
                return;
            }
            let span = outer.unwrap_or(&token.span).clone();
            match &token.kind {
                TokenKind::Text => self.buffer.push_str(&source[token.span.clone()]),
                TokenKind::Escape => self.buffer.push('%'),
                TokenKind::Breakpoint { exit } => {
                    self.flush();
                    self.segments.push(Segment::Breakpoint {
                        exit: *exit,
                        input_span: span,
                    });
                }
                TokenKind::Action(name) => match self.context.lookup_action(name) {
                    Some(action) => {
                        self.dependencies
                            .extend(action.dependencies.iter().cloned());
                        self.enter(Kind::Action, name, &action.body, span);
                    }
                    None => {
                        let suggestion = closest_name(name, self.context.action_names());
                        self.error(
                            span,
                            MacroErrorKind::UndefinedAction(name.clone()),
                            suggestion,
                        );
                    }
                },
                TokenKind::Definition(name) => match self.context.lookup_definition(name) {
                    Some(body) => self.enter(Kind::Definition, name, body, span),
                    None => {
                        let suggestion = closest_name(name, self.context.definition_names());
                        self.error(
                            span,
                            MacroErrorKind::UndefinedDefinition(name.clone()),
                            suggestion,
                        );
                    }
                },
                TokenKind::Builtin(name) => {
                    if self.stack.is_empty() && !self.toplevel_builtins {
                        let suggestion =
                            self.context.lookup_definition(name).map(|_| name.as_str());
                        self.error(
                            span,
                            MacroErrorKind::BuiltinNotAllowed(name.clone()),
                            suggestion,
                        );
                        continue;
                    }
                    match self.context.lookup_builtin(name) {
                        Some(body) => self.enter(Kind::Builtin, name, body, span),
                        None => {
                            let suggestion = closest_name(name, self.context.builtin_names());
                            self.error(
                                span,
                                MacroErrorKind::UndefinedBuiltin(name.clone()),
                                suggestion,
                            );
                        }
                    }
                }
            }
        }
    }

    fn enter(&mut self, kind: Kind, name: &'c str, body: &'c MacroBody, span: Range<usize>) {
        if self.stack.contains(&(kind, name)) {
            self.stack.push((kind, name));
            self.error(
                span,
                MacroErrorKind::Recursive(format!("{} \"{}\"", kind.label(), name)),
                None,
            );
            self.stack.pop();
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            self.error(span, MacroErrorKind::TooDeep(MAX_DEPTH), None);
            return;
        }
        self.stack.push((kind, name));
        self.run(&body.text, &body.tokens, Some(&span));
        self.stack.pop();
    }
}
