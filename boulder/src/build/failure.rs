//! Reading a failed phase's log: the lines that say what went wrong (not
//! the last screenful of noise) and the build dependencies that would
//! probably fix it.

use std::collections::BTreeSet;

/// How many relevant lines a report shows at most.
pub const MAX_RELEVANT: usize = 12;

/// The marker line the phase scripts' ERR trap prints: `<marker><line>`,
/// the script line of the command that failed.
pub const FAILED_LINE_MARKER: &str = "##boulder-failed-line:";

/// What the log of a failed phase says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnosis {
    /// The lines worth showing, in log order, at most [`MAX_RELEVANT`].
    pub relevant: Vec<String>,
    /// The command bash was running when it failed (its last xtrace line).
    pub command: Option<String>,
    /// The script line the ERR trap reported.
    pub script_line: Option<usize>,
    /// `binary(x)`, `pkgconfig(x)`, `cmake(x)` that look missing.
    pub suggestions: BTreeSet<String>,
    /// A sandbox limit the log says was reached.
    pub limit: Option<Limit>,
}

/// A limit of the build's sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// No more processes (`--max-processes`).
    Processes,
    /// A file system is full (`/tmp`: `--tmp-size`; or the disk).
    Space,
}

fn limit_of(line: &str) -> Option<Limit> {
    let lower = line.to_ascii_lowercase();
    if lower.contains("no space left on device") {
        Some(Limit::Space)
    } else if lower.contains("cannot fork")
        || lower.contains("fork: retry")
        || lower.contains("fork: resource temporarily unavailable")
        || lower.contains("vfork: resource temporarily unavailable")
    {
        Some(Limit::Processes)
    } else {
        None
    }
}

/// Whether `line` reports an error (compiler, linker, make, shell, tools).
fn is_error_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.contains("error:")
        || lower.contains("error ")
            && (lower.starts_with("error")
                || lower.contains("] error")
                || lower.contains(": error"))
        || lower.contains("undefined reference to")
        || lower.contains("command not found")
        || lower.contains("no such file or directory")
        || lower.contains("fatal:")
        || lower.contains("cannot find -l")
        || lower.contains("was not found in the pkg-config search path")
        || lower.contains("could not find a package configuration file")
        || lower.starts_with("make: ***")
        || lower.contains("*** [")
        || lower.contains("permission denied")
        || lower.ends_with(": not found")
        || lower.contains("no package '")
        || lower.contains(": failed to ")
        || lower.contains(": cannot ")
}

/// Reads the phase output `lines` (without tags).
pub fn diagnose(lines: &[String]) -> Diagnosis {
    let mut diagnosis = Diagnosis::default();
    let mut relevant = Vec::new();
    // Output lines (not xtrace or markers), for when no line looks like an error.
    let mut plain: Vec<&String> = Vec::new();
    for line in lines {
        if let Some(number) = line.strip_prefix(FAILED_LINE_MARKER) {
            diagnosis.script_line = number.trim().parse().ok();
            continue;
        }
        if let Some(traced) = line.strip_prefix("+ ") {
            diagnosis.command = Some(traced.to_string());
            continue;
        }
        if line.starts_with("++") || line == super::script::RECIPE_COMMANDS_MARKER {
            continue;
        }
        if let Some(suggestion) = suggestion(line) {
            diagnosis.suggestions.insert(suggestion);
        }
        if diagnosis.limit.is_none() {
            diagnosis.limit = limit_of(line);
        }
        if !line.contains("warning: setlocale") {
            plain.push(line);
        }
        if is_error_line(line) {
            relevant.push(line.clone());
        }
    }
    // Keep the first errors (the cause), then the last ones (the outcome).
    if relevant.len() > MAX_RELEVANT {
        let tail = relevant.split_off(relevant.len() - 3);
        relevant.truncate(MAX_RELEVANT - 4);
        relevant.push("…".to_string());
        relevant.extend(tail);
    }
    if relevant.is_empty() {
        let start = plain.len().saturating_sub(FALLBACK_LINES);
        relevant = plain[start..].iter().map(|l| l.to_string()).collect();
    }
    diagnosis.relevant = relevant;
    diagnosis
}

/// How many last output lines stand in when no line looks like an error.
const FALLBACK_LINES: usize = 5;

/// The build dependency a log line points at, if it is one of the common
/// cases: a missing command, pkg-config module or CMake package.
pub fn suggestion(line: &str) -> Option<String> {
    // bash: `script: line 3: foo: command not found`; make: `make: foo: No such file or directory`
    // or `/bin/sh: 1: foo: not found`.
    if let Some(before) = line.strip_suffix(": command not found") {
        return command_name(before).map(|name| format!("binary({name})"));
    }
    if let Some(before) = line.strip_suffix(": Command not found") {
        return command_name(before).map(|name| format!("binary({name})"));
    }
    if let Some(rest) = line.strip_prefix("/bin/sh: ") {
        if let Some(before) = rest.strip_suffix(": not found") {
            return command_name(before).map(|name| format!("binary({name})"));
        }
    }
    // pkg-config: `Package foo was not found in the pkg-config search path.`
    if let Some(rest) = line.trim().strip_prefix("Package ") {
        if let Some((name, _)) = rest.split_once(" was not found in the pkg-config search path") {
            return Some(format!("pkgconfig({name})"));
        }
    }
    // pkg-config via configure/meson: `No package 'foo' found`, `Dependency "foo" not found`.
    if let Some(name) = between(line, "No package '", "' found") {
        return Some(format!("pkgconfig({name})"));
    }
    if line.contains("Dependency") && line.contains("found: NO") {
        if let Some(name) = between(line, "Dependency ", " found: NO") {
            return Some(format!("pkgconfig({})", name.trim_matches('"')));
        }
    }
    // CMake: `Could not find a package configuration file provided by "Foo"`.
    if let Some(name) = between(
        line,
        "Could not find a package configuration file provided by \"",
        "\"",
    ) {
        return Some(format!("cmake({name})"));
    }
    if let Some(name) = between(line, "By not providing \"Find", ".cmake\"") {
        return Some(format!("cmake({name})"));
    }
    None
}

/// The last `: `-separated field, if it looks like a command name.
fn command_name(text: &str) -> Option<&str> {
    let name = text.rsplit(": ").next()?.trim();
    let ok = !name.is_empty()
        && !name.contains(' ')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-._/".contains(c));
    ok.then(|| name.rsplit('/').next().unwrap_or(name))
}

fn between<'a>(line: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = line.find(start)? + start.len();
    let rest = &line[from..];
    let to = rest.find(end)?;
    let name = &rest[..to];
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn finds_the_compiler_error_not_the_noise() {
        let log = lines(
            "+ make -j4\n\
             gcc -O2 -c hello.c\n\
             hello.c: In function 'main':\n\
             hello.c:3:5: error: 'undeclared' undeclared (first use in this function)\n\
             make: *** [Makefile:4: hello] Error 1\n\
             ##boulder-failed-line:57\n",
        );
        let diagnosis = diagnose(&log);
        assert_eq!(
            diagnosis.relevant,
            vec![
                "hello.c:3:5: error: 'undeclared' undeclared (first use in this function)",
                "make: *** [Makefile:4: hello] Error 1"
            ]
        );
        assert_eq!(diagnosis.command.as_deref(), Some("make -j4"));
        assert_eq!(diagnosis.script_line, Some(57));
        assert!(diagnosis.suggestions.is_empty());
    }

    #[test]
    fn suggests_builddeps_for_the_common_cases() {
        let cases = [
            (
                "/mason/build/.scripts/x86_64-build.sh: line 60: meson: command not found",
                "binary(meson)",
            ),
            ("/bin/sh: 1: yacc: not found", "binary(yacc)"),
            ("make: bison: Command not found", "binary(bison)"),
            (
                "Package zlib was not found in the pkg-config search path.",
                "pkgconfig(zlib)",
            ),
            (
                "configure: error: No package 'libfoo' found",
                "pkgconfig(libfoo)",
            ),
            (
                "  Could not find a package configuration file provided by \"Qt6\" with any",
                "cmake(Qt6)",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(suggestion(line).as_deref(), Some(expected), "{line}");
        }
        assert_eq!(suggestion("all fine"), None);
    }

    #[test]
    fn without_error_lines_the_last_output_stands_in() {
        let log = lines(
            "+ export CFLAGS=-O2
##boulder-recipe-commands
+ ./run-tests
ok 1
not ok 2 - frobnication
+ false
",
        );
        assert_eq!(
            diagnose(&log).relevant,
            vec!["ok 1", "not ok 2 - frobnication"]
        );
        let cp = lines(
            "+ cp -a a b
cp: failed to preserve ownership for 'b': Invalid argument
",
        );
        assert_eq!(
            diagnose(&cp).relevant,
            vec!["cp: failed to preserve ownership for 'b': Invalid argument"]
        );
    }
}
