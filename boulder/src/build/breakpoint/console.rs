//! The console around the shell: a rustyline prompt on the terminal with
//! history in the cache directory and completion of its commands.

use std::path::{Path, PathBuf};

use rustyline::completion::Completer;
use rustyline::config::{Behavior, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use super::error::BreakError;
use super::terminal::Terminal;

/// The console's prompt.
pub const PROMPT: &str = "boulder> ";

/// The commands with a one-line help each, in the order `help` lists them.
pub const COMMANDS: [(&str, &str); 7] = [
    (
        "shell",
        "open a shell in the sandbox, with the script's state",
    ),
    ("continue", "resume the phase (at a failure: let it fail)"),
    ("abort", "stop the build here, keeping the root"),
    ("env", "the script's exported environment"),
    ("where", "recipe file, line and phase"),
    ("script", "what runs next"),
    ("help", "this list"),
];

/// What the user decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Choice {
    Shell,
    Continue,
    Abort,
}

/// The answers to `env`, `where` and `script` at this stop.
pub(crate) trait Facts {
    fn env(&self) -> String;
    fn location(&self) -> String;
    fn next_lines(&self) -> String;
}

/// Ask until the user picks `shell`, `continue` or `abort`.
pub(crate) fn ask(
    tty: &Terminal,
    history: Option<&Path>,
    facts: &dyn Facts,
) -> Result<Choice, BreakError> {
    let config = Config::builder()
        .behavior(Behavior::PreferTerm)
        .auto_add_history(true)
        .max_history_size(1000)
        .map_err(BreakError::Console)?
        .build();
    let mut editor: Editor<CommandHelper, DefaultHistory> =
        Editor::with_config(config).map_err(BreakError::Console)?;
    editor.set_helper(Some(CommandHelper));
    if let Some(history) = history {
        // A missing or unreadable history is not worth stopping for.
        let _ = editor.load_history(history);
    }
    let choice = loop {
        let line = match editor.readline(PROMPT) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                tty.say("(type `continue` to go on or `abort` to stop the build)");
                continue;
            }
            // End of input: nobody is there to answer, do not wait.
            Err(ReadlineError::Eof) => break Choice::Abort,
            Err(e) => return Err(BreakError::Console(e)),
        };
        if let Some(history) = history {
            save_history(&mut editor, history);
        }
        match resolve(line.trim()) {
            Ok("shell") => break Choice::Shell,
            Ok("continue") => break Choice::Continue,
            Ok("abort") => break Choice::Abort,
            Ok("env") => tty.say(facts.env().trim_end()),
            Ok("where") => tty.say(&facts.location()),
            Ok("script") => tty.say(facts.next_lines().trim_end()),
            Ok(_) => tty.say(&help()),
            Err(None) => {}
            Err(Some(message)) => tty.say(&message),
        }
    };
    Ok(choice)
}

fn save_history(editor: &mut Editor<CommandHelper, DefaultHistory>, path: &Path) {
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = editor.save_history(path);
}

fn help() -> String {
    COMMANDS
        .iter()
        .map(|(name, what)| format!("  {name:<9} {what}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The command named by `word` or a unique prefix of it; `Err(None)` for an
/// empty line, `Err(Some(message))` for anything else.
fn resolve(word: &str) -> Result<&'static str, Option<String>> {
    if word.is_empty() {
        return Err(None);
    }
    if let Some((name, _)) = COMMANDS.iter().find(|(name, _)| *name == word) {
        return Ok(name);
    }
    let matches: Vec<&str> = COMMANDS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| name.starts_with(word))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Some(format!(
            "unknown command `{word}`; commands:\n{}",
            help()
        ))),
        many => Err(Some(format!("`{word}` could be {}", many.join(", ")))),
    }
}

/// The default history file under a cache directory.
pub fn history_file(cache_dir: &Path) -> PathBuf {
    cache_dir.join("break-history")
}

struct CommandHelper;

impl Completer for CommandHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let typed = &line[..pos];
        if typed.contains(char::is_whitespace) {
            return Ok((pos, Vec::new()));
        }
        let candidates = COMMANDS
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| name.starts_with(typed))
            .map(String::from)
            .collect();
        Ok((0, candidates))
    }
}

impl Hinter for CommandHelper {
    type Hint = String;
}

impl Highlighter for CommandHelper {}

impl Validator for CommandHelper {}

impl Helper for CommandHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_resolve_by_unique_prefix() {
        assert_eq!(resolve("continue"), Ok("continue"));
        assert_eq!(resolve("c"), Ok("continue"));
        assert_eq!(resolve("sh"), Ok("shell"));
        assert_eq!(resolve(""), Err(None));
        assert!(matches!(resolve("s"), Err(Some(m)) if m.contains("shell, script")));
        assert!(matches!(resolve("make"), Err(Some(m)) if m.contains("unknown")));
    }

    #[test]
    fn completion_lists_matching_commands() {
        let history = DefaultHistory::new();
        let ctx = Context::new(&history);
        let (start, got) = CommandHelper.complete("s", 1, &ctx).unwrap();
        assert_eq!(start, 0);
        assert_eq!(got, vec!["shell".to_string(), "script".to_string()]);
        let (_, none) = CommandHelper.complete("env x", 5, &ctx).unwrap();
        assert!(none.is_empty());
    }
}
