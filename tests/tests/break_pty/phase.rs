//! The child side: run the recipe's build phase the way the build does, in a
//! sandbox over a test root, with a breakpoint session; print the outcome.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use boulder::build::breakpoint::{
    bash_function, history_file, LineMap, PhaseInfo, Session, Settings, StopReason,
};
use moss_core::sandbox::Sandbox;

/// Set (to the scenario directory) when this binary is the phase runner.
pub const CHILD_VAR: &str = "BOULDER_BREAK_TEST_CHILD";
/// The runner's exit codes when a breakpoint stopped the phase.
pub const STOPPED_EXIT: i32 = 10;
pub const STOPPED_ABORT: i32 = 11;
pub const STOPPED_NO_TERMINAL: i32 = 12;

/// A root whose `/usr` is the host's (bound at run time) with the
/// merged-usr links, and the host directories bound into it.
pub fn make_root(dir: &Path) {
    let root = dir.join("root");
    fs::create_dir_all(root.join("usr")).expect("mkdir root/usr");
    for link in ["bin", "lib", "lib64", "sbin"] {
        symlink(format!("usr/{link}"), root.join(link)).expect("symlink");
    }
    fs::create_dir_all(dir.join("install/usr/share")).expect("mkdir install");
    fs::create_dir_all(dir.join("build")).expect("mkdir build");
}

/// The `build: |` block of the test recipe with its recipe line numbers.
fn build_phase(recipe: &str) -> Vec<(u32, String)> {
    let mut lines = recipe.lines().enumerate();
    let mut body = Vec::new();
    for (_, line) in lines.by_ref() {
        if line.trim() == "build: |" {
            break;
        }
    }
    for (n, line) in lines {
        if !line.is_empty() && !line.starts_with("        ") {
            break;
        }
        body.push((n as u32 + 1, line.get(8..).unwrap_or("").to_string()));
    }
    body
}

/// Render the phase as the build does: prologue, `boulder_break`, the body
/// with breakpoints as calls.
fn render(body: &[(u32, String)]) -> (String, u32) {
    let mut script = String::from("#!/usr/bin/bash\nset -e -u -x -o pipefail\n");
    script.push_str(bash_function());
    let body_start = script.lines().count() as u32 + 1;
    for (n, line) in body {
        match line.trim() {
            "%break_continue" => script.push_str(&format!("boulder_break continue {n}\n")),
            "%break_exit" => script.push_str(&format!("boulder_break exit {n}\n")),
            _ => {
                script.push_str(line);
                script.push('\n');
            }
        }
    }
    (script, body_start)
}

pub fn run(dir: &Path) -> i32 {
    let recipe_path = dir.join("stone.yaml");
    let recipe = fs::read_to_string(&recipe_path).expect("read the recipe");
    let flags = fs::read_to_string(dir.join("flags")).unwrap_or_default();
    let body = build_phase(&recipe);
    let (script, body_start) = render(&body);
    fs::write(dir.join("build/phase.sh"), &script).expect("write the script");
    let lines = LineMap::align(
        body.iter().map(|(n, l)| (*n, l.as_str())),
        &script,
        body_start,
    );
    let settings = Settings {
        on_failure: flags.lines().any(|f| f == "on-failure"),
        strict: flags.lines().any(|f| f == "strict"),
        history: Some(history_file(&dir.join("cache"))),
        channel_parent: dir.join("run"),
    };
    let phase = PhaseInfo {
        recipe: recipe_path,
        phase: "build".into(),
        lines,
    };
    let session = Session::start(&settings, phase).expect("start the breakpoint session");
    let sandbox = Sandbox::new(dir.join("root"))
        .hostname("boulder")
        .bind_ro("/usr", "/usr")
        .bind_rw(dir.join("build"), "/mason/build")
        .bind_rw(dir.join("install"), "/mason/install")
        .workdir("/mason/build")
        .env_clear()
        .env("PATH", "/usr/bin:/usr/sbin")
        .env("HOME", "/mason/build");
    let status = session
        .sandbox(sandbox)
        .run(["/usr/bin/bash", "/mason/build/phase.sh"])
        .expect("run the phase in the sandbox");
    let stop = session.finish().expect("finish the breakpoint session");
    match stop {
        Some(stop) => {
            eprintln!("boulder: {stop}");
            match stop.reason {
                StopReason::BreakExit => STOPPED_EXIT,
                StopReason::Aborted => STOPPED_ABORT,
                StopReason::NoTerminal => STOPPED_NO_TERMINAL,
            }
        }
        None => {
            eprintln!("phase ended: {status}");
            status.code().unwrap_or(1)
        }
    }
}
