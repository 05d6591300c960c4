//! Evaluator tests against a small in-memory library, so each case shows
//! exactly which macros exist.

use super::*;

const BASE: &str = r#"
actions:
    - scriptBase:
        description: prologue
        command: "set -e\ncd %(workdir)"
definitions:
    - name: "%(_name)"
    - jobs: "%(_jobs)"
    - workdir: "%(_workdir)"
    - cflags: "%(_cflags)"
    - prefix: "/usr"
    - libdir: "%(prefix)/lib%(libsuffix)"
    - libsuffix: ""
    - extra_params: "%(missing_one)"
    - cc_params: "-I%(extra_params)"
    - self_ref: "x%(self_ref)"
    - loop_a: "%(loop_b)"
    - loop_b: "%(loop_a)"
    - toplevel_builtin_user: "%(_name)"
flags:
    - base:
        c: "-pipe -O2"
        ld: "-Wl,-O1"
    - opt-speed:
        c: "-O3"
    - opt-size:
        c: "-Os"
        llvm:
            c: "-Oz"
    - jobsflag:
        c: "-flto=%(jobs)"
    - tiny:
        c: "x"
    - arch:
        c: "-march=foo"
tuning:
    - architecture:
        enabled: arch
    - base:
        enabled: [base, tiny]
    - optimize:
        options:
            - speed:
                enabled: opt-speed
            - size:
                enabled: opt-size
        default: speed
    - lto:
        enabled: jobsflag
defaultTuningGroups:
    - base
    - optimize
"#;

const TARGET: &str = r#"
definitions:
    - libsuffix: ""
"#;

const ACTIONS: &str = r#"
actions:
    - compile:
        description: compiles
        command: "cc %(cc_params)\n"
        dependencies: [binary(cc)]
    - make:
        description: runs make
        example: "%make"
        command: "make -j%(jobs)"
        dependencies: [binary(make)]
    - make_install:
        description: installs
        command: "%make install"
        dependencies: [binary(install)]
    - pause:
        description: stops
        command: "echo before\n%break_continue\necho after"
"#;

fn source(path: &str, text: &str) -> MacroSource {
    MacroSource {
        path: path.to_string(),
        label: path.to_string(),
        text: text.to_string(),
    }
}

fn library() -> MacroLibrary {
    MacroLibrary::from_layers(vec![vec![
        source("arch/base.yaml", BASE),
        source("arch/x86_64.yaml", TARGET),
        source("actions/test.yaml", ACTIONS),
    ]])
    .expect("test library loads")
}

fn facts() -> RecipeFacts {
    RecipeFacts {
        jobs: 8,
        workdir: Some("/mason/build/x86_64/src".into()),
        ..RecipeFacts::new("demo", "1.2", 3)
    }
}

fn expand(script: &str) -> Result<Expansion, Vec<MacroError>> {
    let library = library();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[]).expect("context");
    context.expand(script)
}

#[test]
fn expands_nested_definitions_and_actions() {
    let expansion = expand("%make_install DESTDIR=%(libdir) 100% %%s").unwrap();
    assert_eq!(
        expansion.text(),
        "make -j8 install DESTDIR=/usr/lib 100% %s"
    );
    let deps: Vec<&str> = expansion.dependencies.iter().map(String::as_str).collect();
    assert_eq!(deps, ["binary(install)", "binary(make)"]);
}

#[test]
fn builtins_are_rejected_at_top_level_but_allowed_when_configured() {
    let errors = expand("echo %(_name)").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].span, 5..13);
    assert_eq!(
        errors[0].kind,
        MacroErrorKind::BuiltinNotAllowed("name".into())
    );
    assert_eq!(errors[0].suggestion.as_deref(), Some("name"));

    let library = library();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[])
        .unwrap()
        .with_toplevel_builtins(true);
    assert_eq!(context.expand("%(_name)").unwrap().text(), "demo");
    // Inside a definition a builtin is always fine.
    assert_eq!(expand("%(toplevel_builtin_user)").unwrap().text(), "demo");
}

#[test]
fn reports_every_error_with_exact_spans_and_suggestions() {
    let script = "%mkae\n%(prefx) ok %(libdir)\n%(_nope) %(unclosed x";
    let errors = expand(script).unwrap_err();
    let summary: Vec<_> = errors
        .iter()
        .map(|e| (e.span.clone(), e.kind.clone(), e.suggestion.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                0..5,
                MacroErrorKind::UndefinedAction("mkae".into()),
                Some("make".into())
            ),
            (
                6..14,
                MacroErrorKind::UndefinedDefinition("prefx".into()),
                Some("prefix".into())
            ),
            (
                28..36,
                MacroErrorKind::BuiltinNotAllowed("nope".into()),
                None
            ),
            (
                37..47,
                MacroErrorKind::Unterminated("unclosed".into()),
                None
            ),
        ]
    );
    assert_eq!(&script[0..5], "%mkae");
    assert_eq!(&script[6..14], "%(prefx)");
    assert_eq!(&script[28..36], "%(_nope)");
    assert_eq!(&script[37..47], "%(unclosed");
}

#[test]
fn nested_errors_point_at_the_input_token_with_the_chain() {
    let errors = expand("echo\n  %compile\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    let error = &errors[0];
    assert_eq!(error.span, 7..15);
    assert_eq!(
        error.kind,
        MacroErrorKind::UndefinedDefinition("missing_one".into())
    );
    assert_eq!(
        error.chain,
        vec![
            "definition \"extra_params\"".to_string(),
            "definition \"cc_params\"".to_string(),
            "action \"compile\"".to_string(),
        ]
    );
    assert!(error
        .to_string()
        .contains("definition \"extra_params\" ← definition \"cc_params\" ← action \"compile\""));
}

#[test]
fn recursion_is_reported_not_looped() {
    let errors = expand("%(self_ref) %(loop_a)").unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(
        matches!(&errors[0].kind, MacroErrorKind::Recursive(name) if name == "definition \"self_ref\"")
    );
    assert_eq!(errors[0].span, 0..11);
    assert_eq!(errors[1].span, 12..21);
    assert_eq!(errors[1].chain.len(), 3);
}

#[test]
fn depth_limit_reports_the_chain() {
    // 200 distinct definitions, each calling the next: deeper than MAX_DEPTH.
    let mut text = String::from("definitions:\n");
    for i in 0..200 {
        text.push_str(&format!("    - d{i}: \"%(d{})\"\n", i + 1));
    }
    text.push_str("    - d200: end\n");
    let library = MacroLibrary::from_layers(vec![vec![
        source("arch/base.yaml", BASE),
        source("arch/x86_64.yaml", &text),
    ]])
    .unwrap();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[]).unwrap();
    let errors = context.expand("x %(d0)").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind, MacroErrorKind::TooDeep(MAX_DEPTH));
    assert_eq!(errors[0].span, 2..7);
    assert_eq!(errors[0].chain.len(), MAX_DEPTH);
    assert_eq!(
        errors[0].chain.last().map(String::as_str),
        Some("definition \"d0\"")
    );
    // 100 levels are fine.
    assert_eq!(context.expand("%(d100)").unwrap().text(), "end");
}

#[test]
fn exponential_expansion_is_cut_off() {
    let mut text = String::from("definitions:\n    - e0: x\n");
    for i in 1..40 {
        text.push_str(&format!("    - e{i}: \"%(e{p})%(e{p})\"\n", p = i - 1));
    }
    let library = MacroLibrary::from_layers(vec![vec![
        source("arch/base.yaml", BASE),
        source("arch/x86_64.yaml", &text),
    ]])
    .unwrap();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[]).unwrap();
    let errors = context.expand("%(e39)").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind, MacroErrorKind::TooLarge(MAX_STEPS));
}

/// The fixed bound would stop a long script: each line here is two input
/// tokens (`: ` after the line break, `%(prefix)`) and a third step for the
/// definition's value, so the script takes more than [`MAX_STEPS`] steps.
/// Its budget grows with its length and it expands whole.
#[test]
fn a_script_longer_than_the_fixed_bound_expands() {
    let lines = MAX_STEPS / 2 + 1;
    let script = ": %(prefix)\n".repeat(lines);
    let expansion = expand(&script).unwrap();
    let text = expansion.text();
    assert_eq!(text.len(), ": /usr\n".len() * lines);
    assert!(text.ends_with("\n: /usr\n"));
}

#[test]
fn breakpoints_split_segments_and_keep_the_input_span() {
    let expansion = expand("a\n%break_exit\nb\n  %pause\nc").unwrap();
    assert_eq!(
        expansion.segments,
        vec![
            Segment::Text("a\n".into()),
            Segment::Breakpoint {
                exit: true,
                input_span: 2..13
            },
            Segment::Text("\nb\n  echo before\n".into()),
            Segment::Breakpoint {
                exit: false,
                input_span: 18..24
            },
            Segment::Text("\necho after\nc".into()),
        ]
    );
    assert!(expansion.has_breakpoints());
}

#[test]
fn tuning_sorts_dedupes_and_drops_short_strings() {
    let library = library();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[]).unwrap();
    assert_eq!(context.flags(CompilerKind::C), "-O3 -march=foo -pipe -O2");
    assert_eq!(context.flags(CompilerKind::Ld), "-Wl,-O1");

    let requests = [
        TuningRequest::new("optimize", TuningSetting::Option("size".into())),
        TuningRequest::new("lto", TuningSetting::Enable),
    ];
    let context = ScriptContext::new(&library, "x86_64", &facts(), &requests).unwrap();
    assert_eq!(
        context.flags(CompilerKind::C),
        "-Oz -flto=%(jobs) -march=foo -pipe -O2"
    );
    let exports = context.environment_exports().unwrap();
    assert_eq!(
        exports[0],
        ("CFLAGS", "-Oz -flto=8 -march=foo -pipe -O2".to_string())
    );

    let gnu = RecipeFacts {
        toolchain: Toolchain::Gnu,
        mold: true,
        ..facts()
    };
    let context = ScriptContext::new(&library, "x86_64", &gnu, &requests).unwrap();
    assert_eq!(
        context.flags(CompilerKind::C),
        "-Os -flto=%(jobs) -march=foo -pipe -O2 -fuse-ld=mold"
    );
}

#[test]
fn tuning_errors_are_all_reported_with_suggestions() {
    let library = library();
    let requests = [
        TuningRequest {
            group: "optimise".into(),
            setting: TuningSetting::Enable,
            span: Some(10..18),
        },
        TuningRequest {
            group: "optimize".into(),
            setting: TuningSetting::Option("sped".into()),
            span: Some(30..44),
        },
        TuningRequest::new("lto", TuningSetting::Option("full".into())),
    ];
    let errors = ScriptContext::new(&library, "x86_64", &facts(), &requests).unwrap_err();
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0].span, Some(10..18));
    assert_eq!(errors[0].suggestion.as_deref(), Some("optimize"));
    assert_eq!(errors[1].suggestion.as_deref(), Some("speed"));
    assert!(
        errors[2].to_string().contains("has no options"),
        "{}",
        errors[2]
    );
}

#[test]
fn duplicate_names_in_one_layer_are_reported_with_both_files() {
    let error = MacroLibrary::from_layers(vec![vec![
        source("arch/base.yaml", BASE),
        source("arch/x86_64.yaml", TARGET),
        source("actions/a.yaml", ACTIONS),
        source(
            "actions/b.yaml",
            "actions:\n    - make:\n        description: again\n        command: gmake\n",
        ),
    ]])
    .unwrap_err();
    assert_eq!(
        error.problems,
        vec![LoadProblem::Duplicate {
            item: "action",
            name: "make".into(),
            first: "actions/a.yaml".into(),
            second: "actions/b.yaml".into(),
        }]
    );
}

#[test]
fn later_layers_override_earlier_ones() {
    let library = MacroLibrary::from_layers(vec![
        vec![
            source("arch/base.yaml", BASE),
            source("arch/x86_64.yaml", TARGET),
            source("actions/test.yaml", ACTIONS),
        ],
        vec![source(
            "actions/test.yaml",
            "actions:\n    - make:\n        description: ours\n        command: ninja\n",
        )],
    ])
    .unwrap();
    let context = ScriptContext::new(&library, "x86_64", &facts(), &[]).unwrap();
    assert_eq!(
        context.expand("%make_install").unwrap().text(),
        "ninja install"
    );
}

#[test]
fn load_errors_name_the_file() {
    let error = MacroLibrary::from_layers(vec![vec![
        source("arch/base.yaml", BASE),
        source(
            "arch/x86_64.yaml",
            "definitions:\n    - broken: \"%(oops\"\nunknownKey: 1\n",
        ),
    ]])
    .unwrap_err();
    assert_eq!(error.problems.len(), 1, "{error}");
    assert!(error.to_string().contains("arch/x86_64.yaml"), "{error}");
    let error = MacroLibrary::from_layers(vec![vec![
        source("arch/base.yaml", BASE),
        source(
            "arch/x86_64.yaml",
            "definitions:\n    - broken: \"%(oops\"\n",
        ),
    ]])
    .unwrap_err();
    assert!(
        matches!(&error.problems[0], LoadProblem::Syntax { macro_name, .. } if macro_name == "oops")
    );
}

#[test]
fn unknown_target_is_an_error() {
    let library = library();
    let errors = ScriptContext::new(&library, "x86-64", &facts(), &[]).unwrap_err();
    assert_eq!(errors[0].suggestion.as_deref(), Some("x86_64"));
}
