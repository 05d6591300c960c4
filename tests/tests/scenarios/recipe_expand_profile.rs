//! `boulder recipe expand --profile host` shows the host profile's
//! adaptations (tuning it turns off, the environment the sandbox sets);
//! without `--profile` the recipe is expanded as upstream boulder does.

use std::process::Command;

fn expand(recipe: &std::path::Path, extra: &[&str]) -> String {
    let profiles = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(["recipe", "expand", "--phase", "build"])
        .args(extra)
        .arg("--profiles-dir")
        .arg(profiles.path())
        .arg(recipe)
        .output()
        .expect("boulder runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_host_profile_drops_what_the_host_toolchain_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("stone.yaml"),
        "name: x\nversion: 1\nrelease: 1\nsummary: s\ndescription: d\nlicense: MIT\nhomepage: https://example.invalid\nbuild: |\n    %make\n",
    )
    .expect("recipe");
    let upstream = Command::new(env!("CARGO_BIN_EXE_boulder"))
        .args(["recipe", "expand", "--phase", "build"])
        .arg(dir.path())
        .output()
        .expect("boulder runs");
    let upstream = String::from_utf8_lossy(&upstream.stdout);
    assert!(upstream.contains("-mtls-dialect=gnu2"), "{upstream}");
    assert!(
        upstream.contains("-Wl,-z,pack-relative-relocs"),
        "{upstream}"
    );

    let host = expand(dir.path(), &["--profile", "host"]);
    assert!(!host.contains("-mtls-dialect=gnu2"), "{host}");
    assert!(!host.contains("pack-relative-relocs"), "{host}");
    assert!(!host.contains("--undefined-version"), "{host}");
    assert!(host.contains("--compress-debug-sections=zlib"), "{host}");
    assert!(
        host.contains("# profile host sets in the sandbox: COMPILER_PATH=/usr/lib/boulder/llvm"),
        "{host}"
    );
}
