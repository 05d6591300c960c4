//! A root on a full disk: read-only commands (list, info, search, verify)
//! still answer, an install that runs out of space fails and takes away
//! the packages and assets it had added, and once there is room again the
//! same install works.
//!
//! The disk is a small tmpfs mounted in a user and mount namespace of our
//! own (`unshare -Urm`), so the test runs the same as root and as an
//! unprivileged user.

use crate::engine_support;

use std::fs;
use std::path::Path;
use std::process::Command;

use engine_support::*;

/// Runs `script` with `sh` inside a new user and mount namespace, where the
/// tmpfs is mounted at `$DISK`; `None` when such namespaces are not allowed.
fn in_namespace(disk: &Path, size_kib: u64, script: &str) -> Option<std::process::Output> {
    let probe = Command::new("unshare")
        .args(["-Urm", "true"])
        .output()
        .ok()?;
    if !probe.status.success() {
        return None;
    }
    let full = format!("mount -t tmpfs -o size={size_kib}k tmpfs \"$DISK\" || exit 90\n{script}");
    Some(
        Command::new("unshare")
            .args(["-Urm", "sh", "-ec", &full])
            .env("DISK", disk)
            .env("MOSS", env!("CARGO_BIN_EXE_moss"))
            .output()
            .expect("running unshare"),
    )
}

#[test]
#[cfg_attr(lacks_unshare, ignore = "needs /usr/bin/unshare")]
fn full_disk_read_only_commands_work_and_a_failed_install_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let stones = dir.path().join("stones");
    fs::create_dir_all(&stones).unwrap();
    let base = write_stone(
        &stones,
        &meta("disk-base"),
        &[
            Item::File("bin/disk-base", b"#!/bin/sh\necho base\n", 0o755),
            Item::File("share/disk-base/readme", b"base package", 0o644),
        ],
    );
    // Content that does not compress: a few MiB that cannot fit.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..(3 << 20))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut items: Vec<Item<'_>> = Vec::new();
    let chunks: Vec<&[u8]> = noise.chunks(256 << 10).collect();
    let names: Vec<String> = (0..chunks.len())
        .map(|i| format!("share/disk-big/part{i}"))
        .collect();
    for (name, chunk) in names.iter().zip(&chunks) {
        items.push(Item::File(name, chunk, 0o644));
    }
    let big = write_stone(&stones, &meta("disk-big"), &items);

    let disk = dir.path().join("disk");
    fs::create_dir_all(&disk).unwrap();
    let script = format!(
        r#"
root="$DISK/root"
mkdir "$root"
"$MOSS" -D "$root" install "{base}" >/dev/null
assets() {{ find "$root/.moss/assets" -type f | sort; }}
assets > "$DISK/../assets-before"
# Fill the disk to the last block.
dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null || true
dd if=/dev/zero of="$DISK/filler2" bs=1k 2>/dev/null || true
echo "== list"; "$MOSS" -D "$root" list installed
echo "== info"; "$MOSS" -D "$root" info disk-base
echo "== search"; "$MOSS" -D "$root" search disk
echo "== verify"; "$MOSS" -D "$root" verify
echo "== install"
if "$MOSS" -D "$root" install "{big}" 2>"$DISK/../install-error"; then echo "install: unexpected success"; fi
assets > "$DISK/../assets-after"
echo "== list again"; "$MOSS" -D "$root" list installed
rm -f "$DISK/filler" "$DISK/filler2"
# Room for the databases but not for the content: it fails while caching.
avail=$(df -k --output=avail "$DISK" | tail -1)
dd if=/dev/zero of="$DISK/filler" bs=1k count=$((avail - 1536)) 2>/dev/null
echo "== install while caching"
if "$MOSS" -D "$root" install "{big}" 2>"$DISK/../caching-error"; then echo "install: unexpected success"; fi
assets > "$DISK/../assets-after-caching"
rm -f "$DISK/filler"
echo "== install with room"; "$MOSS" -D "$root" install "{big}"
echo "== verify again"; "$MOSS" -D "$root" verify
"#,
        base = base.display(),
        big = big.display()
    );
    let Some(out) = in_namespace(&disk, 8192, &script) else {
        return test_support::missing(
            "full_disk_read_only_commands_work_and_a_failed_install_cleans_up",
            "user and mount namespaces (unshare -Urm) are not available",
        );
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let section = |name: &str| -> String {
        let start = stdout
            .find(&format!("== {name}\n"))
            .unwrap_or_else(|| panic!("no section {name} in {stdout}\n{stderr}"));
        let rest = &stdout[start + name.len() + 4..];
        rest[..rest.find("== ").unwrap_or(rest.len())].to_string()
    };
    assert!(section("list").contains("disk-base"), "{stdout}");
    assert!(section("info").contains("disk-base"), "{stdout}");
    assert!(section("search").contains("disk-base"), "{stdout}");
    assert!(section("verify").contains(" 0 issue(s)"), "{stdout}");
    assert!(!stdout.contains("unexpected success"), "{stdout}");
    let error = fs::read_to_string(dir.path().join("install-error")).unwrap();
    assert!(
        error.contains("No space left on device") || error.contains("space"),
        "{error}"
    );
    // Nothing of the failed install stayed behind.
    assert_eq!(
        fs::read_to_string(dir.path().join("assets-before")).unwrap(),
        fs::read_to_string(dir.path().join("assets-after")).unwrap(),
        "{error}"
    );
    // Failing halfway through caching: what was stored is taken away again.
    let error = fs::read_to_string(dir.path().join("caching-error")).unwrap();
    assert!(error.contains("No space left on device"), "{error}");
    assert_eq!(
        fs::read_to_string(dir.path().join("assets-before")).unwrap(),
        fs::read_to_string(dir.path().join("assets-after-caching")).unwrap(),
        "{error}"
    );
    let after = section("list again");
    assert!(
        after.contains("disk-base") && !after.contains("disk-big"),
        "{after}"
    );
    assert!(
        section("install with room").contains("state 2 is active"),
        "{stdout}"
    );
    assert!(section("verify again").contains(" 0 issue(s)"), "{stdout}");
}
