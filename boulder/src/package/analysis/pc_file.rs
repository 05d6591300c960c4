//! A reader for pkg-config `.pc` files: variables, fields, and the module
//! names of `Requires`/`Requires.private` with version constraints dropped.

use std::collections::HashMap;

use thiserror::Error;

/// Expansion nesting beyond this is a cycle (or an attack).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PcError {
    #[error("line {line}: variable `{name}` is not defined")]
    Undefined { line: usize, name: String },
    #[error("line {line}: variable `{name}` refers to itself")]
    Cycle { line: usize, name: String },
    #[error("line {line}: `${{` is never closed")]
    Unclosed { line: usize },
}

/// A parsed `.pc` file.
#[derive(Debug, Default)]
pub struct PcFile {
    /// Raw variable values with the line they were defined on.
    variables: HashMap<String, (usize, String)>,
    /// Raw field values (`Name: value`) with their line.
    fields: Vec<(String, usize, String)>,
}

impl PcFile {
    /// Parses the text of a `.pc` file; `pcfiledir` is the directory holding it.
    pub fn parse(text: &str, pcfiledir: &str) -> Self {
        let mut file = PcFile::default();
        file.variables
            .insert("pcfiledir".into(), (0, pcfiledir.to_string()));
        file.variables
            .insert("pc_sysrootdir".into(), (0, String::new()));
        for (index, raw) in join_continuations(text).into_iter().enumerate() {
            let line = index + 1;
            let content = strip_comment(&raw);
            let content = content.trim();
            if content.is_empty() {
                continue;
            }
            let split = content.find([':', '=']);
            let Some(at) = split else { continue };
            let key = content[..at].trim();
            if key.is_empty() || key.contains(char::is_whitespace) {
                continue;
            }
            let value = content[at + 1..].trim().to_string();
            if content.as_bytes()[at] == b'=' {
                file.variables.insert(key.to_string(), (line, value));
            } else {
                file.fields.push((key.to_string(), line, value));
            }
        }
        file
    }

    /// Module names required by `Requires` and `Requires.private`, in order,
    /// without version constraints.
    pub fn required_modules(&self) -> Result<Vec<String>, PcError> {
        let mut modules = Vec::new();
        for (key, line, value) in &self.fields {
            if key == "Requires" || key == "Requires.private" {
                let expanded = self.expand(value, *line, 0)?;
                for module in module_names(&expanded) {
                    if !modules.contains(&module) {
                        modules.push(module);
                    }
                }
            }
        }
        Ok(modules)
    }

    fn expand(&self, text: &str, line: usize, depth: usize) -> Result<String, PcError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some(tail) = after.strip_prefix('{') {
                let close = tail.find('}').ok_or(PcError::Unclosed { line })?;
                let name = &tail[..close];
                let (defined_on, value) =
                    self.variables.get(name).ok_or_else(|| PcError::Undefined {
                        line,
                        name: name.to_string(),
                    })?;
                if depth >= MAX_DEPTH {
                    return Err(PcError::Cycle {
                        line: *defined_on,
                        name: name.to_string(),
                    });
                }
                out.push_str(&self.expand(value, *defined_on, depth + 1)?);
                rest = &tail[close + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Lines with backslash-newline continuations joined (line numbers then
/// count joined lines as one; good enough for messages).
fn join_continuations(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        if let Some(head) = raw.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(raw);
            lines.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn strip_comment(line: &str) -> &str {
    match line.find('#') {
        Some(at) => &line[..at],
        None => line,
    }
}

/// Splits a `Requires` value into module names: entries are separated by
/// commas or whitespace, and an operator (`=`, `<`, `>`, `<=`, `>=`, `!=`)
/// with the version after it is dropped.
fn module_names(value: &str) -> Vec<String> {
    let is_operator_char = |c: char| matches!(c, '<' | '>' | '=' | '!');
    let mut names = Vec::new();
    let mut chars = value.chars().peekable();
    let mut expect_version = false;
    while let Some(&c) = chars.peek() {
        if c == ',' || c.is_whitespace() {
            chars.next();
            continue;
        }
        if is_operator_char(c) {
            while chars.peek().is_some_and(|&c| is_operator_char(c)) {
                chars.next();
            }
            expect_version = true;
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c == ',' || c.is_whitespace() || is_operator_char(c) {
                break;
            }
            word.push(c);
            chars.next();
        }
        if expect_version {
            expect_version = false;
        } else {
            names.push(word);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_drop_versions_and_expand_variables() {
        let text = "prefix=/usr\nglib=glib-2.0\n# comment\nName: x\nRequires: ${glib} >= 2.50, gobject-2.0\nRequires.private: zlib>=1.2 libffi, ${glib}\nLibs: -L${prefix}/lib\n";
        let pc = PcFile::parse(text, "/usr/lib/pkgconfig");
        assert_eq!(
            pc.required_modules().expect("valid"),
            ["glib-2.0", "gobject-2.0", "zlib", "libffi"]
        );
    }

    #[test]
    fn operators_in_every_spacing() {
        assert_eq!(module_names("a = 1 b!=2,c<3 d <= 4"), ["a", "b", "c", "d"]);
        assert_eq!(module_names(""), Vec::<String>::new());
        assert_eq!(module_names(" , ,"), Vec::<String>::new());
    }

    #[test]
    fn bad_variables_are_errors() {
        let pc = PcFile::parse("Requires: ${nope}\n", "/d");
        assert_eq!(
            pc.required_modules(),
            Err(PcError::Undefined {
                line: 1,
                name: "nope".into()
            })
        );
        let pc = PcFile::parse("a=${b}\nb=${a}\nRequires: ${a}\n", "/d");
        assert!(matches!(pc.required_modules(), Err(PcError::Cycle { .. })));
        let pc = PcFile::parse("Requires: ${a\n", "/d");
        assert_eq!(pc.required_modules(), Err(PcError::Unclosed { line: 1 }));
    }

    #[test]
    fn dollar_escapes_and_pcfiledir() {
        let pc = PcFile::parse("Requires: $$x ${pcfiledir}\n", "/usr/lib/pkgconfig");
        assert_eq!(
            pc.required_modules().expect("valid"),
            ["$x", "/usr/lib/pkgconfig"]
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "[a-z${}=:#<>,!\\\\ \n.]{0,80}") {
            let _ = PcFile::parse(&text, "/d").required_modules();
        }
    }
}
