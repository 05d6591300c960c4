//! One YAML reader for every file kind: the same value text, written into a recipe, a
//! macro file, a profile, a trigger and a repository configuration, reads as the same
//! string in all five (or is refused by all five). Recipes and macro files trim the
//! texts they keep, so the table compares trimmed text.

use std::path::Path;

use boulder::macros::MacroLibrary;
use boulder::root::profile::Profile;
use moss_core::trigger::Trigger;

/// How a value slot reads: the text, or refused (`Err`). A null is the empty text.
type Outcome = Result<String, ()>;

/// Reads a value slot of one file kind.
type Reader = fn(&str) -> Outcome;

/// Each row is a value as written after `key: ` in the file. Continuation lines are
/// written unindented here; each file kind indents them to its key's level, and `KEY`
/// in them becomes that kind's key (for the repeated-key row).
const TABLE: &[(&str, &str, Option<&str>)] = &[
    ("plain text", "hello world", Some("hello world")),
    ("plain text, folded", "hello\n  world", Some("hello world")),
    ("single-quoted", "'it''s: here'", Some("it's: here")),
    (
        "double-quoted escapes",
        r#""tab\there \u00e9 \"q\"""#,
        Some("tab\there é \"q\""),
    ),
    ("integer", "42", Some("42")),
    ("leading zero", "010", Some("010")),
    ("hex", "0x1F", Some("0x1F")),
    ("float keeps its text", "1.10", Some("1.10")),
    ("exponent", "1e3", Some("1e3")),
    ("boolean", "true", Some("true")),
    ("YAML 1.1 boolean is text", "yes", Some("yes")),
    ("tilde", "~", Some("")),
    ("null", "null", Some("")),
    ("empty", "", Some("")),
    ("quoted tilde is text", "'~'", Some("~")),
    ("core tag", "!!str 12", Some("12")),
    ("anchor", "&name anchored", Some("anchored")),
    (
        "literal block",
        "|\n  line one\n    indented\n  line two\n",
        Some("line one\n  indented\nline two"),
    ),
    ("literal block, strip", "|-\n  kept\n\n", Some("kept")),
    (
        "folded block",
        ">\n  folded\n  text\n\n  para\n",
        Some("folded text\npara"),
    ),
    ("tab after the colon", "\tafter a tab", Some("after a tab")),
    ("tab inside", "a\tb", Some("a\tb")),
    ("comment", "text # a comment", Some("text")),
    ("repeated key", "first\nKEY: second", None),
    ("a list is not text", "[a, b]", None),
    ("a map is not text", "{a: b}", None),
    ("broken syntax", "\"unclosed", None),
    ("colon in plain text", "a: b", None),
];

/// Indents continuation lines to `indent` and names the kind's key.
fn place(value: &str, key: &str, indent: &str) -> String {
    let mut lines = value.split('\n');
    let mut out = lines.next().unwrap_or("").to_string();
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(indent);
        }
        out.push_str(&line.replace("KEY", key));
    }
    out
}

fn separator(value: &str) -> &'static str {
    if value.starts_with('\t') {
        ":"
    } else {
        ": "
    }
}

fn recipe(value: &str) -> Outcome {
    let text = format!(
        "name: demo\nversion: 1.0\nrelease: 1\nlicense: MIT\nhomepage: https://example.invalid\ndescription: d\nsummary{}{}\n",
        separator(value),
        place(value, "summary", "")
    );
    let (recipe, problems) = boulder::recipe::parse(&text);
    if problems
        .iter()
        .any(|p| p.severity != boulder::recipe::problem::Severity::Warning)
    {
        return Err(());
    }
    Ok(recipe.package.summary.map(|s| s.value).unwrap_or_default())
}

fn macro_file(value: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let actions = dir.path().join("macros/actions");
    std::fs::create_dir_all(&actions).unwrap();
    let indent = "          ";
    std::fs::write(
        actions.join("kinds.yaml"),
        format!(
            "actions:\n    - yaml_kinds:\n          description: d\n          command: c\n          example{}{}\n",
            separator(value),
            place(value, "example", indent)
        ),
    )
    .unwrap();
    let library = MacroLibrary::with_data_dirs(&[dir.path().to_path_buf()]).map_err(|_| ())?;
    let action = library.host_target().action("yaml_kinds").ok_or(())?;
    Ok(action.example.clone().unwrap_or_default())
}

fn profile(value: &str) -> Outcome {
    let text = format!(
        "repositories:\n  - name: r\n    uri: file:///r\nscript-environment{}{}\n",
        separator(value),
        place(value, "script-environment", "")
    );
    let profile = Profile::parse("kinds", &text, None).map_err(|_| ())?;
    Ok(profile.script_environment.unwrap_or_default())
}

fn trigger(value: &str) -> Outcome {
    let text = format!(
        "name: kinds\ndescription{}{}\n",
        separator(value),
        place(value, "description", "")
    );
    let trigger = Trigger::parse(&text, Path::new("kinds.yaml")).map_err(|_| ())?;
    Ok(trigger.description.unwrap_or_default())
}

fn repo_config(value: &str) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kinds.yaml");
    std::fs::write(
        &path,
        format!(
            "kinds:\n  uri: file:///r\n  priority: 1\n  description{}{}\n",
            separator(value),
            place(value, "description", "  ")
        ),
    )
    .unwrap();
    let repos = moss_core::repo::config::parse_file(&path).map_err(|_| ())?;
    Ok(repos.get("kinds").ok_or(())?.description.clone())
}

#[test]
fn the_same_yaml_reads_the_same_in_every_file_kind() {
    let kinds: [(&str, Reader); 5] = [
        ("recipe", recipe),
        ("macro file", macro_file),
        ("profile", profile),
        ("trigger", trigger),
        ("repository config", repo_config),
    ];
    let mut wrong = Vec::new();
    for (row, value, expected) in TABLE {
        let expected: Outcome = expected.map(str::to_string).ok_or(());
        for (kind, read) in &kinds {
            let got = read(value).map(|text| text.trim().to_string());
            if got != expected {
                wrong.push(format!(
                    "{row} ({value:?}) in a {kind}: read {got:?}, expected {expected:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Errors name the line and column of the offending node and its key path.
#[test]
fn errors_carry_line_column_and_key_path() {
    let trigger = |text: &str| {
        Trigger::parse(text, Path::new("kinds.yaml"))
            .unwrap_err()
            .to_string()
    };
    let message = trigger(
        "name: kinds\nhandlers:\n  run-it:\n    run: /bin/true\npaths:\n  \"/usr/lib/x\":\n    handlers: [run-it]\n    type: fifo\n",
    );
    assert!(
        message.contains("line 8, column 11: paths./usr/lib/x.type: unknown variant `fifo`"),
        "{message}"
    );
    // No variant of an untagged enum fits: the error is about the whole value.
    let message = trigger("name: kinds\nhandlers:\n  run-it:\n    args: [a]\n");
    assert!(
        message.contains("line 4, column 5: handlers.run-it: data did not match"),
        "{message}"
    );
    let error = moss_core::yaml::from_str::<std::collections::BTreeMap<String, String>>(
        "a: 1\nb: 2\na: 3\n",
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 3, column 1: duplicate key `a` (first at line 1, column 1)"
    );
    let error = moss_core::yaml::from_str::<String>("a: [1\n").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("line 2, column 1: invalid YAML:"),
        "{error}"
    );
}
