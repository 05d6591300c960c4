//! Triggers in real transactions: stones written with our writer ship a
//! trigger file and a static handler built with gcc; the handler records
//! where it ran (hostname, PID and mount namespaces, whether `/etc` was
//! writable, whether it saw the new tree) into a file it may write.

use crate::engine_support;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use engine_support::*;
use tempfile::TempDir;

/// `record OUTDIR VALUE [SEEN]`: appends one line about its surroundings to
/// OUTDIR/VALUE; exits 7 when VALUE is `fail`.
const RECORD_C: &str = r#"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    if (strcmp(argv[2], "fail") == 0) {
        fprintf(stderr, "record: told to fail\n");
        return 7;
    }
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST) { perror(argv[1]); return 3; }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[1], argv[2]);
    FILE *out = fopen(path, "a");
    if (!out) { perror(path); return 4; }
    char host[256] = {0}, pidns[256] = {0}, mntns[256] = {0};
    gethostname(host, sizeof host - 1);
    readlink("/proc/self/ns/pid", pidns, sizeof pidns - 1);
    readlink("/proc/self/ns/mnt", mntns, sizeof mntns - 1);
    int etc_rw = 0;
    int fd = open("/etc/.trigger-probe", O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) { etc_rw = 1; close(fd); unlink("/etc/.trigger-probe"); }
    struct stat st;
    int seen = argc > 3 ? stat(argv[3], &st) == 0 : -1;
    fprintf(out, "host=%s pidns=%s mntns=%s etc_rw=%d seen=%d\n", host, pidns, mntns, etc_rw, seen);
    return fclose(out) == 0 ? 0 : 5;
}
"#;

/// The static handler, compiled once per test.
fn record_binary(dir: &Path) -> Vec<u8> {
    let src = dir.join("record.c");
    let bin = dir.join("record");
    fs::write(&src, RECORD_C).unwrap();
    let out = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("gcc is needed to build the trigger handler");
    assert!(
        out.status.success(),
        "gcc -static failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::read(&bin).unwrap()
}

const TX_TRIGGER: &str = r#"
name: modules
description: records each kernel module directory
handlers:
    record:
        run: /usr/bin/record
        args: ["/usr/share/trigger-log", "$(version)", "/usr/lib/modules/$(version)/kernel"]
paths:
    "/usr/lib/modules/(version:*)/kernel":
        handlers: [record]
        type: directory
"#;

const SYS_TRIGGER: &str = r#"
name: sys-modules
after: sys-cleanup
inhibitors:
    paths: [/etc/no-sys-trigger]
handlers:
    record:
        run: /usr/bin/record
        args: ["/usr/share/trigger-sys", "$(version)"]
paths:
    "/usr/lib/modules/(version:*)/kernel":
        handlers: [record]
        type: directory
"#;

/// A delete handler, and a trigger that a chroot inhibits.
const CLEANUP_TRIGGER: &str = r#"
name: cleanup
handlers:
    remove:
        delete: ["/usr/share/doomed/$(file)"]
paths:
    "/usr/share/doomed/(file:*.tmp)":
        handlers: [remove]
"#;

const CHROOT_TRIGGER: &str = r#"
name: not-in-chroot
inhibitors:
    environment: [chroot]
handlers:
    record:
        run: /usr/bin/record
        args: ["/usr/share/chroot-log", "ran"]
paths:
    "/usr/lib/modules":
        handlers: [record]
"#;

struct Setup {
    _dir: TempDir,
    root: PathBuf,
    stones: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let stones = dir.path().join("stones");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&stones).unwrap();
    Setup {
        _dir: dir,
        root,
        stones,
    }
}

fn tools_stone(s: &Setup) -> PathBuf {
    let record = record_binary(&s.stones);
    write_stone(
        &s.stones,
        &meta("trigger-tools"),
        &[
            Item::File("bin/record", &record, 0o755),
            Item::File(
                "share/moss/triggers/tx.d/modules.yaml",
                TX_TRIGGER.as_bytes(),
                0o644,
            ),
            Item::File(
                "share/moss/triggers/tx.d/cleanup.yaml",
                CLEANUP_TRIGGER.as_bytes(),
                0o644,
            ),
            Item::File(
                "share/moss/triggers/tx.d/chroot.yaml",
                CHROOT_TRIGGER.as_bytes(),
                0o644,
            ),
            Item::File(
                "share/moss/triggers/sys.d/modules.yaml",
                SYS_TRIGGER.as_bytes(),
                0o644,
            ),
            Item::File("share/doomed/a.tmp", b"scratch a", 0o644),
            Item::File("share/doomed/b.tmp", b"scratch b", 0o644),
            Item::File("share/doomed/keep.txt", b"kept", 0o644),
        ],
    )
}

/// Kernel module trees: one `kernel` directory per version, plus paths the
/// pattern or its type filter must leave out.
fn kmods_stone(s: &Setup, release: u64, versions: &[&str]) -> PathBuf {
    let mut m = meta("kmods");
    m.source_release = release;
    let mut paths = Vec::new();
    for v in versions {
        paths.push((format!("lib/modules/{v}/kernel/a.ko"), format!("{v} a")));
        paths.push((format!("lib/modules/{v}/kernel/b.ko"), format!("{v} b")));
    }
    let mut items: Vec<Item<'_>> = paths
        .iter()
        .map(|(p, body)| Item::File(p, body.as_bytes(), 0o644))
        .collect();
    items.push(Item::File("lib/modules/5.0.0/extra/x.ko", b"x", 0o644));
    items.push(Item::Dir("lib/modules/9.9.9", 0o755));
    // A symlink named `kernel`: the `type: directory` filter skips it.
    items.push(Item::Link("lib/modules/9.9.9/kernel", "../5.0.0/extra"));
    write_stone(&s.stones, &m, &items)
}

/// OUTDIR's files and their lines.
fn log(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let e = e.unwrap();
        let text = fs::read_to_string(e.path()).unwrap();
        out.insert(
            e.file_name().to_string_lossy().into_owned(),
            text.lines().map(str::to_string).collect(),
        );
    }
    out
}

fn own_ns(kind: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} missing in {line:?}"))
}

fn install(s: &Setup, stones: &[&Path]) -> std::process::Output {
    let mut args: Vec<String> = vec!["install".into()];
    args.extend(stones.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    moss(&s.root, &args)
}

fn assert_ok(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

#[test]
fn capture_runs_once_per_value_in_the_sandbox_over_the_new_tree() {
    let s = setup();
    let tools = tools_stone(&s);
    let kmods = kmods_stone(&s, 1, &["6.1.0", "6.2.0"]);
    let stderr = assert_ok(&install(&s, &[&tools, &kmods]));
    // Two kernel versions, two scratch files: two runs each, in both scopes.
    for runs in [
        "modules/record ×2",
        "cleanup/remove ×2",
        "sys-modules/record ×2",
    ] {
        assert!(stderr.contains(runs), "{runs} missing: {stderr}");
    }
    assert!(
        stderr.contains("trigger not-in-chroot inhibited: environment chroot"),
        "{stderr}"
    );

    // Transaction trigger: once per kernel version, the symlinked `kernel` skipped.
    let usr = s.root.join("usr");
    let tx = log(&usr.join("share/trigger-log"));
    assert_eq!(tx.keys().collect::<Vec<_>>(), ["6.1.0", "6.2.0"], "{tx:?}");
    for lines in tx.values() {
        assert_eq!(lines.len(), 1, "ran more than once: {lines:?}");
        let line = &lines[0];
        assert_eq!(field(line, "host"), moss_core::trigger::TRIGGER_HOSTNAME);
        assert_ne!(
            field(line, "pidns"),
            own_ns("pid"),
            "not in a PID namespace"
        );
        assert_ne!(
            field(line, "mntns"),
            own_ns("mnt"),
            "not in a mount namespace"
        );
        assert_eq!(field(line, "etc_rw"), "0", "/etc must be read-only: {line}");
        assert_eq!(
            field(line, "seen"),
            "1",
            "the new tree was not visible: {line}"
        );
    }
    // The delete handler ran inside the sandbox for each captured file only.
    assert!(!usr.join("share/doomed/a.tmp").exists());
    assert!(!usr.join("share/doomed/b.tmp").exists());
    assert!(usr.join("share/doomed/keep.txt").exists());
    assert!(
        !usr.join("share/chroot-log").exists(),
        "inhibited trigger ran"
    );

    // System trigger: after the swap, sandboxed (the root is not `/`), `/etc` writable.
    let sys = log(&usr.join("share/trigger-sys"));
    assert_eq!(
        sys.keys().collect::<Vec<_>>(),
        ["6.1.0", "6.2.0"],
        "{sys:?}"
    );
    for lines in sys.values() {
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_ne!(field(&lines[0], "pidns"), own_ns("pid"));
        assert_eq!(field(&lines[0], "etc_rw"), "1", "{}", lines[0]);
    }
    // Nothing a handler wrote reached the host root's /etc outside the root.
    assert!(s.root.join("etc").is_dir());
    assert!(!s.root.join("etc/.trigger-probe").exists());

    // The next transaction's triggers see that transaction's tree.
    let kmods2 = kmods_stone(&s, 2, &["6.2.0", "6.4.0"]);
    fs::write(s.root.join("etc/no-sys-trigger"), "").unwrap();
    let stderr = assert_ok(&install(&s, &[&kmods2]));
    assert!(
        stderr.contains("trigger sys-modules inhibited: path /etc/no-sys-trigger exists"),
        "{stderr}"
    );
    let tx = log(&usr.join("share/trigger-log"));
    assert_eq!(tx.keys().collect::<Vec<_>>(), ["6.2.0", "6.4.0"], "{tx:?}");
    assert!(tx.values().all(|l| l.len() == 1), "{tx:?}");
    assert!(
        !usr.join("share/trigger-sys").exists(),
        "inhibited trigger ran"
    );
    // The previous state's tree keeps its own results.
    let archived = log(&s.root.join(".moss/root/1/usr/share/trigger-log"));
    assert_eq!(archived.keys().collect::<Vec<_>>(), ["6.1.0", "6.2.0"]);

    // Activating a state runs its system triggers again, unless told not to.
    fs::remove_file(s.root.join("etc/no-sys-trigger")).unwrap();
    let out = moss(&s.root, &["state", "activate", "1"]);
    let stderr = assert_ok(&out);
    assert!(stderr.contains("sys-modules/record ×2"), "{stderr}");
    let sys = log(&usr.join("share/trigger-sys"));
    assert_eq!(
        sys.keys().collect::<Vec<_>>(),
        ["6.1.0", "6.2.0"],
        "{sys:?}"
    );
    assert!(sys.values().all(|l| l.len() == 2), "{sys:?}");
    let out = moss(&s.root, &["state", "activate", "--skip-triggers", "2"]);
    let stderr = assert_ok(&out);
    assert!(!stderr.contains("trigger"), "{stderr}");
    assert!(!usr.join("share/trigger-sys").exists());
}

#[test]
fn failing_transaction_trigger_leaves_the_old_state_active() {
    let s = setup();
    let tools = tools_stone(&s);
    let kmods = kmods_stone(&s, 1, &["6.1.0"]);
    assert_ok(&install(&s, &[&tools, &kmods]));
    let before = usr_snapshot(&s.root);
    let states_before = moss_ok(&s.root, &["state", "list"]);

    let breaker_yaml = "name: breaker\nhandlers:\n  boom:\n    run: /usr/bin/record\n    \
                        args: [/usr/share/breaker-log, fail]\npaths:\n  /usr/share/breaker:\n    \
                        handlers: [boom]\n    type: directory\n";
    let breaker = write_stone(
        &s.stones,
        &meta("breaker"),
        &[
            Item::Dir("share/breaker", 0o755),
            Item::File(
                "share/moss/triggers/tx.d/breaker.yaml",
                breaker_yaml.as_bytes(),
                0o644,
            ),
        ],
    );
    let out = install(&s, &[&breaker]);
    assert!(!out.status.success(), "a failing trigger must abort");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        mentions(&stderr, "transaction trigger breaker failed"),
        "{stderr}"
    );
    assert!(mentions(&stderr, "record: told to fail"), "{stderr}");

    assert_eq!(usr_snapshot(&s.root), before, "the live tree changed");
    assert_eq!(moss_ok(&s.root, &["state", "list"]), states_before);
    assert!(!s.root.join(".moss/root/staging").exists());
    assert!(!s.root.join("usr/share/breaker").exists());
    let list = moss_ok(&s.root, &["list", "installed"]);
    assert!(!list.contains("breaker"), "{list}");

    // The root still works: the next transaction goes through.
    let kmods2 = kmods_stone(&s, 2, &["6.3.0"]);
    assert_ok(&install(&s, &[&kmods2]));
    let tx = log(&s.root.join("usr/share/trigger-log"));
    assert_eq!(tx.keys().collect::<Vec<_>>(), ["6.3.0"]);
}

/// `scribble FILE`: opens FILE for writing and overwrites it; when the
/// open fails, says why and exits 9. Then replaces FILE by a new file
/// (write + rename), which only changes the tree's link.
const SCRIBBLE_C: &str = r#"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int fd = open(argv[1], O_WRONLY | O_TRUNC);
    if (fd >= 0) { write(fd, "scribbled", 9); close(fd); return 0; }
    fprintf(stderr, "scribble: open %s for writing: %s\n", argv[1], strerror(errno));
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.new", argv[2]);
    int out = open(tmp, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (out < 0 || write(out, "replaced", 8) != 8 || close(out) != 0) return 8;
    if (rename(tmp, argv[2]) != 0) return 8;
    return 9;
}
"#;

const SCRIBBLE_TRIGGER: &str = r#"
name: scribbler
handlers:
    scribble:
        run: /usr/bin/scribble
        args: ["/usr/share/victim/data", "/usr/share/victim/other"]
paths:
    "/usr/share/victim/data":
        handlers: [scribble]
"#;

/// A handler that opens a packaged file for writing fails with a clear
/// error (no CAP_DAC_OVERRIDE, no write bits), and the store keeps its
/// content; the file it wrote and renamed over another packaged file (in
/// the staged tree, which the failed transaction drops) never reached it.
#[test]
fn handlers_cannot_write_through_store_inodes() {
    let s = setup();
    let src = s.stones.join("scribble.c");
    let bin = s.stones.join("scribble");
    fs::write(&src, SCRIBBLE_C).unwrap();
    let out = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("gcc is needed to build the trigger handler");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let victim = write_stone(
        &s.stones,
        &meta("victim"),
        &[
            Item::File("share/victim/data", b"packaged data", 0o644),
            Item::File("share/victim/other", b"packaged other", 0o644),
            // The same content elsewhere: one store inode for both.
            Item::File("share/victim-copy/data", b"packaged data", 0o644),
        ],
    );
    let scribbler = write_stone(
        &s.stones,
        &meta("scribbler"),
        &[
            Item::File("bin/scribble", &fs::read(&bin).unwrap(), 0o755),
            Item::File(
                "share/moss/triggers/tx.d/scribbler.yaml",
                SCRIBBLE_TRIGGER.as_bytes(),
                0o644,
            ),
        ],
    );
    moss_ok(&s.root, &["install", victim.to_str().unwrap()]);
    let out = moss(&s.root, &["install", scribbler.to_str().unwrap()]);
    // A failed transaction trigger refuses the transaction, saying why.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        mentions(
            &stderr,
            "scribble: open /usr/share/victim/data for writing: Permission denied"
        ),
        "{stderr}"
    );
    // The live tree is the victim's state, untouched.
    let usr = s.root.join("usr");
    assert_eq!(
        fs::read(usr.join("share/victim/data")).unwrap(),
        b"packaged data"
    );
    assert_eq!(
        fs::read(usr.join("share/victim/other")).unwrap(),
        b"packaged other"
    );
    assert_eq!(
        fs::read(usr.join("share/victim-copy/data")).unwrap(),
        b"packaged data"
    );
    moss_ok(&s.root, &["verify"]);
    let store = s.root.join(".moss/assets/v2");
    let stored: Vec<Vec<u8>> = walkdir::WalkDir::new(&store)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| fs::read(e.path()).unwrap())
        .collect();
    assert!(stored.iter().any(|c| c == b"packaged data"));
    assert!(stored.iter().any(|c| c == b"packaged other"));
    assert!(!stored.iter().any(|c| c == b"scribbled" || c == b"replaced"));
}
