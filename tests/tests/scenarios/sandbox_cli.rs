//! `moss sandbox` end to end: the real binary, real namespaces.

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;

fn root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("usr")).expect("mkdir usr");
    for link in ["bin", "lib", "lib64", "sbin"] {
        symlink(format!("usr/{link}"), dir.path().join(link)).expect("symlink");
    }
    dir
}

fn moss() -> Command {
    Command::new(env!("CARGO_BIN_EXE_moss"))
}

#[test]
fn runs_a_command_with_binds_and_propagates_its_exit_code() {
    let root = root();
    let build = tempfile::tempdir().expect("tempdir");
    let out = moss()
        .arg("sandbox")
        .arg(root.path())
        .args(["--bind-ro", "/usr"])
        .arg("--bind-rw")
        .arg(format!("{}:/mason/build", build.path().display()))
        .args([
            "--workdir",
            "/mason/build",
            "--hostname",
            "box",
            "--env-clear",
            "--",
        ])
        .args([
            "sh",
            "-c",
            "id -u; cat /proc/sys/kernel/hostname; echo x > made; exit 9",
        ])
        .output()
        .expect("run moss");
    assert_eq!(
        out.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\nbox\n");
    assert_eq!(
        fs::read_to_string(build.path().join("made")).expect("read"),
        "x\n"
    );
}

#[test]
fn a_signal_death_becomes_128_plus_the_signal() {
    let root = root();
    let status = moss()
        .arg("sandbox")
        .arg(root.path())
        .args(["--bind-ro", "/usr", "--", "sh", "-c", "kill -KILL $$"])
        .status()
        .expect("run moss");
    assert_eq!(status.code(), Some(128 + 9));
}

#[test]
fn setup_errors_are_reported_without_running_anything() {
    let root = root();
    let out = moss()
        .arg("sandbox")
        .arg(root.path())
        .args(["--bind-ro", "/nonexistent-host-dir:/x", "--", "true"])
        .output()
        .expect("run moss");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bind-mount") && stderr.contains("/nonexistent-host-dir"),
        "{stderr}"
    );
}

#[test]
#[cfg_attr(lacks_unshare, ignore = "needs /usr/bin/unshare")]
fn no_user_namespaces_gives_a_host_fix() {
    // Inside a user namespace of our own whose limit of nested user
    // namespaces is 0, the sandbox must explain how to fix the host.
    if !std::path::Path::new("/usr/bin/unshare").exists() {
        test_support::missing(
            "no_user_namespaces_gives_a_host_fix",
            "/usr/bin/unshare is absent",
        );
        return;
    }
    let root = root();
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces && exec {} sandbox {} -- true",
        env!("CARGO_BIN_EXE_moss"),
        root.path().display()
    );
    let out = Command::new("/usr/bin/unshare")
        .args(["--user", "--map-root-user", "sh", "-c", &script])
        .output()
        .expect("run unshare");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot create a user namespace"),
        "{stderr}"
    );
    assert!(stderr.contains("user.max_user_namespaces"), "{stderr}");
}
