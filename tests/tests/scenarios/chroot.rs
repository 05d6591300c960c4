//! Acceptance of `boulder chroot`: every property of the build root checked
//! on its own, through the real binary, the real host import and real
//! namespaces. All tests share one cache (the host import is slow); boulder's
//! own locks keep them from racing.

use crate::common;

use common::{cache_dir, have_dpkg, workspace};

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use test_support::text;

fn chroot(command: &[&str]) -> Output {
    let recipe = workspace().join("recipes-example/hello");
    Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg("chroot")
        .arg(&recipe)
        .arg("--cache-dir")
        .arg(cache_dir())
        .arg("--")
        .args(command)
        .output()
        .expect("run boulder chroot")
}

fn sh(script: &str) -> Output {
    chroot(&["/bin/sh", "-c", script])
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn gcc_runs_inside() {
    if !have_dpkg() {
        return;
    }
    let out = chroot(&["gcc", "--version"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("gcc"), "{}", text(&out.stdout));
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn the_user_is_root_inside() {
    if !have_dpkg() {
        return;
    }
    let out = chroot(&["id", "-u"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "0");
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn home_and_the_checkout_are_not_visible() {
    if !have_dpkg() {
        return;
    }
    let checkout = workspace();
    assert!(checkout.is_dir());
    for path in [Path::new("/home"), checkout.as_path()] {
        let out = chroot(&["test", "-e", &path.display().to_string()]);
        assert_eq!(out.status.code(), Some(1), "{} is visible", path.display());
    }
    // The same probe does see what the root holds.
    let out = chroot(&["test", "-e", "/usr/bin/gcc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn usr_is_read_only() {
    if !have_dpkg() {
        return;
    }
    let out = chroot(&["touch", "/usr/bin/x"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Read-only file system"),
        "{}",
        text(&out.stderr)
    );
    // The build directory is writable.
    let out = chroot(&["touch", "/mason/build/probe"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn a_port_on_the_host_loopback_is_not_reachable() {
    if !have_dpkg() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    // Reachable from the host itself.
    TcpStream::connect(("127.0.0.1", port)).expect("host connects");
    let probe = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
    let out = chroot(&["bash", "-c", &probe]);
    assert!(
        !out.status.success(),
        "connected to the host's port {port} from the sandbox"
    );
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn ps_shows_only_the_sandbox() {
    if !have_dpkg() {
        return;
    }
    let out = chroot(&["ps", "-e", "-o", "pid=,comm="]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    let lines: Vec<&str> = listing.lines().collect();
    // The sandbox's init, bash (exec'd into ps) — nothing of the host.
    assert!(lines.len() <= 3, "{listing}");
    assert!(
        lines.iter().any(|l| l.trim_start().starts_with("1 ")),
        "{listing}"
    );
    assert!(lines.iter().any(|l| l.ends_with("ps")), "{listing}");
    let me = std::process::id().to_string();
    assert!(!listing.contains("cargo"), "{listing}");
    assert!(
        !lines
            .iter()
            .any(|l| l.split_whitespace().next() == Some(me.as_str())),
        "{listing}"
    );
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn the_command_status_is_the_exit_status() {
    if !have_dpkg() {
        return;
    }
    let out = sh("exit 7");
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let out = sh("cd /mason/build && printf 'int main(){return 3;}' > t.c && gcc -o t t.c && ./t");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn without_a_command_it_is_a_shell() {
    if !have_dpkg() {
        return;
    }
    use std::io::Write;
    let recipe = workspace().join("recipes-example/hello");
    let mut child = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .arg("chroot")
        .arg(&recipe)
        .arg("--cache-dir")
        .arg(cache_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run boulder chroot");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"echo \"in:$PWD:$(id -u)\"\nexit 4\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("in:"))
        .expect("the echo ran");
    assert!(line.starts_with("in:/mason/build/"), "{stdout}");
    assert!(line.ends_with(":0"), "{stdout}");
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn the_phase_environment_is_loaded() {
    if !have_dpkg() {
        return;
    }
    // Actions are functions, definitions variables, and the shell stands in
    // the work directory with the recipe mounted at /mason/recipe.
    let out = chroot(&[
        "bash",
        "-c",
        "type -t a_make && echo \"prefix=$d_prefix\" && pwd && test -f /mason/recipe/stone.yaml",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("function"), "{stdout}");
    assert!(stdout.contains("prefix=/usr"), "{stdout}");
    assert!(stdout.contains("/mason/build/"), "{stdout}");
}
