//! Every error type of the libraries prints each cause once.
//!
//! The binaries render an error with miette, which prints the message and
//! then every error of its `source()` chain on a line of its own. A
//! `thiserror` message that also interpolates its source (`"{path}: {source}"`)
//! therefore shows that cause twice. This check reads every `#[error("…")]`
//! attribute of moss-core and boulder and fails for each message that names a
//! field the derive treats as the source: one marked `#[source]` or `#[from]`,
//! or one named `source`.

use std::fs;
use std::path::{Path, PathBuf};

use syn::parse::ParseStream;
use syn::{Attribute, Fields, Item, LitStr};

/// One `#[error(...)]` message that interpolates its own source.
#[derive(Debug, PartialEq)]
pub struct Repeated {
    /// `file: Type::Variant`.
    pub at: String,
    /// The field the message names, which is also the source.
    pub field: String,
}

/// The message of an `#[error("…", args…)]` attribute: its format string and
/// the text of its extra arguments; `None` for `#[error(transparent)]`
/// (which prints the inner error, not a message of its own).
fn error_message(attr: &Attribute) -> Option<(String, String)> {
    let syn::Meta::List(list) = &attr.meta else {
        return None;
    };
    let tokens = list.tokens.to_string();
    if tokens.trim() == "transparent" {
        return None;
    }
    attr.parse_args_with(|input: ParseStream| {
        let format: LitStr = input.parse()?;
        // The extra arguments, as the text of their tokens.
        let args = input.step(|cursor| {
            let mut args = Vec::new();
            let mut rest = *cursor;
            while let Some((token, next)) = rest.token_tree() {
                args.push(token.to_string());
                rest = next;
            }
            Ok((args.join(" "), rest))
        })?;
        Ok((format.value(), args))
    })
    .map(Some)
    .unwrap_or_else(|e| panic!("cannot read #[error({tokens})]: {e}"))
}

/// The names of the fields a format string interpolates: `x` of `{x}` and
/// `{x:?}`, `0` of `{0}`; `{{` is a literal brace and `{}` an extra argument.
pub fn interpolated(format: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = format;
    while let Some(at) = rest.find('{') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('{') {
            rest = after;
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

/// Whether the text of extra format arguments (`path.display(), .0`) uses
/// field `name`: a tuple field as `.0`, a named one as `.name` or `name`.
pub fn argument_uses(args: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = args[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        from = end;
        let before = args[..start].trim_end();
        let whole = !args[..start].ends_with(is_ident) && !args[end..].starts_with(is_ident);
        if !whole {
            continue;
        }
        // `.0` as an argument (also inside a call), not `x.0`.
        let field_access = before.ends_with('.') && {
            let prior = before[..before.len() - 1].trim_end();
            !prior.ends_with(|c: char| is_ident(c) || c == ')' || c == ']')
        };
        let is_tuple_index = name.chars().all(|c| c.is_ascii_digit());
        if field_access || (!is_tuple_index && !before.ends_with('.')) {
            return true;
        }
    }
    false
}

/// The names of the fields `thiserror` takes as the source of `fields`.
fn source_fields(fields: &Fields) -> Vec<String> {
    let mut names = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let name = field
            .ident
            .as_ref()
            .map_or_else(|| index.to_string(), ToString::to_string);
        let marked = field
            .attrs
            .iter()
            .any(|a| a.path().is_ident("source") || a.path().is_ident("from"));
        if marked || name == "source" {
            names.push(name);
        }
    }
    names
}

fn check(at: &str, attrs: &[Attribute], fields: &Fields, found: &mut Vec<Repeated>) {
    let sources = source_fields(fields);
    for attr in attrs.iter().filter(|a| a.path().is_ident("error")) {
        let Some((format, args)) = error_message(attr) else {
            continue;
        };
        let named = interpolated(&format);
        for source in &sources {
            if named.contains(source) || argument_uses(&args, source) {
                found.push(Repeated {
                    at: at.to_string(),
                    field: source.clone(),
                });
            }
        }
    }
}

fn check_items(file: &str, items: &[Item], count: &mut usize, found: &mut Vec<Repeated>) {
    for item in items {
        match item {
            Item::Enum(e) => {
                for variant in &e.variants {
                    let at = format!("{file}: {}::{}", e.ident, variant.ident);
                    *count += variant
                        .attrs
                        .iter()
                        .filter(|a| a.path().is_ident("error"))
                        .count();
                    check(&at, &variant.attrs, &variant.fields, found);
                }
            }
            Item::Struct(s) => {
                let at = format!("{file}: {}", s.ident);
                *count += s
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("error"))
                    .count();
                check(&at, &s.attrs, &s.fields, found);
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    check_items(file, items, count, found);
                }
            }
            _ => {}
        }
    }
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read source directory") {
        let path = entry.expect("read_dir entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Every message of the crates that repeats its source, and how many
/// `#[error]` attributes were read.
pub fn repeated_sources(root: &Path, crates: &[&str]) -> (usize, Vec<Repeated>) {
    let mut count = 0;
    let mut found = Vec::new();
    for krate in crates {
        let mut files = Vec::new();
        rust_files(&root.join(krate).join("src"), &mut files);
        files.sort();
        for path in files {
            let text = fs::read_to_string(&path).expect("read source file");
            let file = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{}: cannot parse: {e}", path.display()));
            let shown = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            check_items(&shown, &file.items, &mut count, &mut found);
        }
    }
    (count, found)
}

/// The check on made-up error types, so that it cannot pass by seeing nothing.
pub fn repeated_in(text: &str) -> Vec<Repeated> {
    let file = syn::parse_file(text).expect("parse test text");
    let mut count = 0;
    let mut found = Vec::new();
    check_items("test.rs", &file.items, &mut count, &mut found);
    found
}
