//! Tests of the embedded macro library (`macros/` at the workspace root).

use boulder::macros::{CompilerKind, MacroLibrary, RecipeFacts, ScriptContext};

fn facts() -> RecipeFacts {
    RecipeFacts {
        jobs: 4,
        ..RecipeFacts::new("demo", "1.0", 1)
    }
}

#[test]
fn embedded_library_loads_with_all_targets() {
    let library = MacroLibrary::embedded().unwrap_or_else(|error| panic!("{error}"));
    let targets: Vec<&str> = library.targets().collect();
    assert_eq!(targets, ["aarch64", "emul32/x86_64", "x86_64"]);
}

#[test]
fn prologue_expands_for_every_target() {
    let library = MacroLibrary::embedded().unwrap();
    for target in ["x86_64", "emul32/x86_64", "aarch64"] {
        let context = ScriptContext::new(&library, target, &facts(), &[]).unwrap();
        let prologue = context
            .prologue()
            .unwrap_or_else(|e| panic!("{target}: {e:?}"));
        let text = prologue.text();
        assert!(text.starts_with("#!/usr/bin/env bash\n"), "{text}");
        assert!(text.contains("export NINJA_STATUS=\"[%f/%t %es] \""));
        assert!(!context.flags(CompilerKind::C).is_empty());
    }
}
