//! Marks the tests whose requirement (the original tools' fixtures, a host
//! tool) this machine lacks, so that they show as ignored rather than passing,
//! and tells the scenarios where the workspace's binaries are.

use std::path::Path;

fn main() {
    test_support::probe::declare();
    binary_paths();
}

/// `CARGO_BIN_EXE_<name>` for `moss` and `boulder`: the variables cargo sets
/// for a package's own integration tests, here naming where
/// `cargo build --workspace --bins` (the README's first step) puts the other
/// packages' binaries, so a scenario reads the same wherever it lives.
fn binary_paths() {
    // OUT_DIR is <target>/<profile>/build/<package>-<hash>/out.
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        return;
    };
    let Some(profile_dir) = Path::new(&out_dir).ancestors().nth(3) else {
        return;
    };
    for name in ["moss", "boulder"] {
        let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        println!("cargo:rustc-env=CARGO_BIN_EXE_{name}={}", path.display());
    }
}
