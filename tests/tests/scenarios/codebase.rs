//! Checks on the shape of the code itself, read from the source tree:
//!
//! - the top-level modules of each library crate depend on each other one way
//!   only (no cycle among the `crate::…` edges), so every module can be read
//!   and tested with only the modules below it;
//! - every `#[error]` message leaves its source to the cause chain (see
//!   `codebase/error_messages.rs`);
//! - the book's architecture page names every top-level module of each crate,
//!   and no module that no longer exists.
//!
//! Run with `--nocapture` to see the dependency list of each crate.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const CRATES: [&str; 2] = ["moss-core", "boulder"];

/// The top-level modules that `src/lib.rs` declares, leaving out test-only ones.
fn top_level_modules(crate_dir: &Path) -> BTreeSet<String> {
    let lib = fs::read_to_string(crate_dir.join("src/lib.rs")).expect("read lib.rs");
    let mut modules = BTreeSet::new();
    let mut test_only = false;
    for line in lib.lines() {
        let line = line.trim();
        if line.starts_with("#[cfg(test)]") {
            test_only = true;
            continue;
        }
        let rest = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("pub(crate) mod "))
            .or_else(|| line.strip_prefix("mod "));
        if let Some(name) = rest.and_then(|r| r.strip_suffix(';')) {
            if !test_only {
                modules.insert(name.trim().to_string());
            }
        }
        if !line.starts_with("#[") {
            test_only = false;
        }
    }
    modules
}

/// Every `.rs` file of module `name`: `src/name.rs` and everything below `src/name/`.
fn module_files(crate_dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let single = crate_dir.join("src").join(format!("{name}.rs"));
    if single.is_file() {
        files.push(single);
    }
    let mut pending = vec![crate_dir.join("src").join(name)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read_dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// Source text without comments (line comments, doc comments and block
/// comments), so that an intra-doc link is not counted as a dependency.
fn strip_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
            out.push(c as char);
            i += 1;
        } else if c == b'"' {
            in_string = true;
            out.push('"');
            i += 1;
        } else if source[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if source[i..].starts_with("/*") {
            let end = source[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            i = end;
        } else {
            // Keep multi-byte characters whole.
            let ch = source[i..].chars().next().expect("char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The names that follow `crate::` in `code`, including each name of a
/// grouped `crate::{a::…, b}` import.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at].chars().next_back().is_some_and(is_ident);
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: those at brace depth zero.
            let mut depth = 0usize;
            let mut at_item_start = true;
            for (idx, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_item_start = true,
                    c if at_item_start && depth == 0 && is_ident(c) => {
                        let name: String =
                            group[idx..].chars().take_while(|c| is_ident(*c)).collect();
                        names.insert(name);
                        at_item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// Edges `module -> modules it names` between the crate's top-level modules.
fn dependency_graph(crate_dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let modules = top_level_modules(crate_dir);
    let mut graph = BTreeMap::new();
    for module in &modules {
        let mut deps = BTreeSet::new();
        for file in module_files(crate_dir, module) {
            let source = fs::read_to_string(&file).expect("read module file");
            for name in crate_paths(&strip_comments(&source)) {
                if name != *module && modules.contains(&name) {
                    deps.insert(name);
                }
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// One cycle of the graph, as the list of modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        OnPath,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::OnPath);
        path.push(node.to_string());
        for next in &graph[node] {
            match marks[next.as_str()] {
                Mark::OnPath => {
                    let start = path.iter().position(|n| n == next).expect("on path");
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::Unseen => {
                    if let Some(cycle) = visit(next, graph, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks: BTreeMap<String, Mark> =
        graph.keys().map(|k| (k.clone(), Mark::Unseen)).collect();
    for node in graph.keys() {
        if marks[node.as_str()] == Mark::Unseen {
            if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

#[test]
fn top_level_modules_have_no_dependency_cycle() {
    let root = e2e::workspace_root();
    for krate in CRATES {
        let graph = dependency_graph(&root.join(krate));
        assert!(
            graph.len() > 3,
            "{krate}: found only {} modules",
            graph.len()
        );
        println!("{krate}:");
        for (module, deps) in &graph {
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            println!("  {module} -> {}", deps.join(", "));
        }
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{krate}: the modules depend on each other in a cycle: {}",
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn cycle_finder_sees_a_cycle_and_grouped_imports() {
    // The checker itself, on a small made-up crate text, so that the test
    // above cannot pass because the parsing found no edges.
    let code = strip_comments(
        "use crate::{a::X, b::{Y, Z}};\n// crate::c in a comment\nfn f() { crate::d::g(); }\nlet s = \"// not a comment\"; crate::e::h();",
    );
    let names: Vec<String> = crate_paths(&code).into_iter().collect();
    assert_eq!(names, ["a", "b", "d", "e"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(find_cycle(&graph).expect("a cycle"), ["a", "b", "c", "a"]);
}

/// The modules the architecture page names per crate, in the page's order:
/// the backticked names in the `module` column of its table's rows whose
/// `crate` column names a crate.
fn modules_on_architecture_page(page: &str) -> BTreeMap<String, Vec<String>> {
    let mut listed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in page.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "| `crate` | `modules` | job |" splits into ["", crate, modules, job, ""].
        if cells.len() < 4 {
            continue;
        }
        let krate = cells[1].trim_matches('`');
        if !CRATES.contains(&krate) {
            continue;
        }
        let entry = listed.entry(krate.to_string()).or_default();
        for part in cells[2].split('`').skip(1).step_by(2) {
            entry.push(part.to_string());
        }
    }
    listed
}

#[test]
fn architecture_page_lists_every_module() {
    let root = e2e::workspace_root();
    let page =
        fs::read_to_string(root.join("book/src/architecture.md")).expect("read architecture page");
    let listed = modules_on_architecture_page(&page);
    let mut problems = Vec::new();
    for krate in CRATES {
        let actual = top_level_modules(&root.join(krate));
        let order = listed.get(krate).cloned().unwrap_or_default();
        let named: BTreeSet<String> = order.iter().cloned().collect();
        for missing in actual.difference(&named) {
            problems.push(format!(
                "{krate}: module `{missing}` is not on book/src/architecture.md"
            ));
        }
        for stale in named.difference(&actual) {
            problems.push(format!(
                "{krate}: book/src/architecture.md names `{stale}`, which is no module"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[path = "codebase/error_messages.rs"]
mod error_messages;

#[test]
fn every_error_prints_its_cause_once() {
    let root = e2e::workspace_root();
    let (count, repeated) = error_messages::repeated_sources(&root, &CRATES);
    assert!(count > 100, "read only {count} #[error] attributes");
    println!("{count} #[error] messages read");
    let listed: Vec<String> = repeated
        .iter()
        .map(|r| format!("{}: the message shows `{}`, its source", r.at, r.field))
        .collect();
    assert!(
        listed.is_empty(),
        "{} message(s) print their cause twice (miette prints the source chain after the message):\n{}",
        listed.len(),
        listed.join("\n")
    );
}

#[test]
fn repeated_source_check_sees_each_form() {
    let found = error_messages::repeated_in(
        r#"
        enum E {
            #[error("{path}: {source}")]
            Named { path: String, source: std::io::Error },
            #[error("read failed: {0}")]
            Tuple(#[from] std::io::Error),
            #[error("{}: {}", path.display(), error)]
            Args { path: PathBuf, #[source] error: Error },
            #[error("{}", chain(.0))]
            Call(#[source] Error),
            #[error("cannot read {path}")]
            Fine { path: String, source: std::io::Error },
            #[error("{0} and {{0}}")]
            NotSource(String),
            #[error(transparent)]
            Transparent(#[from] Error),
            #[error("{}", .1)]
            Second(String, #[source] Error),
        }
        #[error("x: {inner:?}")]
        struct S { #[from] inner: Error }
        mod nested {
            #[error("{source}")]
            struct T { source: Error }
        }
        "#,
    );
    let at: Vec<(&str, &str)> = found
        .iter()
        .map(|r| (r.at.as_str(), r.field.as_str()))
        .collect();
    assert_eq!(
        at,
        [
            ("test.rs: E::Named", "source"),
            ("test.rs: E::Tuple", "0"),
            ("test.rs: E::Args", "error"),
            ("test.rs: E::Call", "0"),
            ("test.rs: E::Second", "1"),
            ("test.rs: S", "inner"),
            ("test.rs: T", "source"),
        ]
    );
}
