//! Two roots for the same recipe at once: both are ready and entered, and
//! they write to different directories (acceptance 2 of the build roots).
//! The overlap is made certain by a rendezvous on fifos, not by sleeps.

use crate::common;

use common::{cache_dir, have_dpkg};

use std::fs;
use std::sync::Barrier;

use boulder::root::{self, BuildDirs, Cache, RootRequest};

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn two_builds_of_one_recipe_share_no_writable_directory() {
    if !have_dpkg() {
        return;
    }
    let cache = Cache::open(Some(&cache_dir())).expect("cache");
    let request = RootRequest {
        profile: "host".into(),
        packages: vec!["binary(make)".into()],
        networking: false,
    };
    // Each sandbox writes its file, then meets the other on two fifos before
    // it looks: both are inside their roots, with both files written, before
    // either lists its directories. Opening a fifo blocks until the other
    // side opens it; `timeout` only turns a sandbox that never comes into a
    // failure instead of a hang.
    let rendezvous = tempfile::tempdir().expect("tempdir");
    for fifo in ["0to1", "1to0"] {
        nix::unistd::mkfifo(
            &rendezvous.path().join(fifo),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .expect("mkfifo");
    }
    let meet = [
        "timeout 600 sh -c 'echo here > /mason/rendezvous/0to1' && timeout 600 sh -c 'read _ < /mason/rendezvous/1to0'",
        "timeout 600 sh -c 'read _ < /mason/rendezvous/0to1' && timeout 600 sh -c 'echo here > /mason/rendezvous/1to0'",
    ];
    let barrier = Barrier::new(2);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let (cache, request, barrier) = (&cache, &request, &barrier);
                let (rendezvous, meet) = (rendezvous.path(), meet[i]);
                s.spawn(move || {
                    barrier.wait();
                    let prepared = root::prepare(cache, request).expect("prepare");
                    let dirs = BuildDirs::create(cache, "hello").expect("build dirs");
                    let script = format!(
                        "echo {i} > /mason/build/owner && {meet} && ls /mason/build /mason/install && cat /mason/build/owner"
                    );
                    let out = root::sandbox(&prepared, &dirs, false)
                        .bind_rw(rendezvous, "/mason/rendezvous")
                        .output(["/bin/sh", "-c", &script])
                        .expect("sandbox");
                    (i, prepared, dirs, out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let (a, b) = (&results[0], &results[1]);
    assert_eq!(a.1.path, b.1.path, "the same package set shares one root");
    for dir in [
        |d: &BuildDirs| d.base.clone(),
        |d: &BuildDirs| d.build.clone(),
        |d: &BuildDirs| d.install.clone(),
        |d: &BuildDirs| d.artefacts.clone(),
    ] {
        assert_ne!(dir(&a.2), dir(&b.2));
    }
    for (i, _, dirs, out) in &results {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        // Each sandbox saw only its own file, and it kept its own value.
        assert_eq!(
            stdout.lines().last(),
            Some(i.to_string().as_str()),
            "{stdout}"
        );
        assert_eq!(stdout.matches("owner").count(), 1, "{stdout}");
        let on_host = std::fs::read_to_string(dirs.build.join("owner")).expect("owner");
        assert_eq!(on_host.trim(), i.to_string());
    }
}

#[test]
#[cfg_attr(lacks_dpkg, ignore = "needs dpkg (the host profile)")]
fn networked_builds_sharing_a_root_all_start() {
    if !have_dpkg() {
        return;
    }
    let cache = Cache::open(Some(&cache_dir())).expect("cache");
    let request = RootRequest {
        profile: "host".into(),
        packages: vec!["binary(make)".into()],
        networking: true,
    };
    let prepared = root::prepare(&cache, &request).expect("prepare");
    let etc_files =
        || ["resolv.conf", "hosts"].map(|f| fs::read(prepared.path.join("etc").join(f)).ok());
    let before = etc_files();
    // Each networked sandbox binds the host's resolv.conf over the shared
    // root's; concurrent ones must never see it missing, and the root itself
    // must never change.
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (cache, prepared) = (&cache, &prepared);
            s.spawn(move || {
                let dirs = BuildDirs::create(cache, "hello").expect("build dirs");
                for _ in 0..10 {
                    let out = root::sandbox(prepared, &dirs, true)
                        .output([
                            "/bin/sh",
                            "-c",
                            "test -f /etc/resolv.conf && cat /etc/hosts >/dev/null",
                        ])
                        .expect("sandbox");
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            });
        }
    });
    assert_eq!(
        etc_files(),
        before,
        "a networked sandbox changed the shared root"
    );
}
