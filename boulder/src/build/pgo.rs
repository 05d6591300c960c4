//! Profile-guided optimisation in the build driver: what a PGO build needs from
//! the root, and fresh sources for each stage.
//!
//! A target with a `workload` is built in stages (see [`crate::recipe::stages`]):
//! stage one builds instrumented and runs the workload, which writes profiles
//! into `/mason/build/<target>-pgo`; LLVM's workload ends with `llvm-profdata
//! merge`; `cspgo` adds a second instrumented stage; the final stage builds
//! again with the merged profile and installs. Each stage starts from freshly
//! unpacked sources, as upstream does, so no object of an instrumented build
//! ends up in the package; the profile directory lives beside the build
//! directory and survives the stages.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

use crate::macros::PgoStage;
use crate::recipe::model::Toolchain;
use crate::recipe::{stages, Recipe, Target};
use crate::upstream::{Fetched, UpstreamError};

/// Why a PGO build cannot run or go on.
#[derive(Debug, Error)]
pub enum PgoError {
    #[error(
        "target {target} has a `workload`, so it is built with profile-guided optimisation, \
         but the build root of profile `{profile}` has no `{tool}`: the LLVM toolchain merges \
         the profiles with it. Use a profile whose root has the LLVM tools (or add `{tool}` to \
         the recipe's builddeps where the profile's repositories provide it)"
    )]
    MissingTool {
        target: String,
        profile: String,
        tool: &'static str,
    },
    #[error(
        "{} is not a plain directory (a build may have replaced it with a link); \
         the next PGO stage is not prepared there",
        path.display()
    )]
    NotADirectory { path: PathBuf },
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot place the sources for the next PGO stage")]
    Extract(#[source] UpstreamError),
}

/// The tools the root must hold for the PGO stages of `targets`. gcc reads and
/// merges its own profile files; LLVM needs `llvm-profdata`.
pub fn check_root_tools(
    recipe: &Recipe,
    targets: &[Target],
    root: &Path,
    profile: &str,
) -> Result<(), PgoError> {
    if recipe.options.toolchain != Toolchain::Llvm {
        return Ok(());
    }
    for target in targets {
        let pgo = stages::pgo_stages(recipe, target) != [PgoStage::None];
        if pgo && !root.join("usr/bin/llvm-profdata").exists() {
            return Err(PgoError::MissingTool {
                target: target.name.clone(),
                profile: profile.to_string(),
                tool: "llvm-profdata",
            });
        }
    }
    Ok(())
}

/// `<build>/<target>-pgo`: where the instrumented stages write their profiles
/// (`%(pgo_dir)` in the sandbox). Made before the first stage runs.
pub fn profile_dir(build: &Path, target: &str) -> PathBuf {
    build.join(format!("{target}-pgo"))
}

/// Empties the build directory of `target` below `build` and unpacks the
/// sources into it again, for the next PGO stage.
///
/// The previous stage could write anywhere below `build`, so every directory on
/// the way (`emul32` of `emul32/x86_64`) is checked not to be a link first; no
/// process of the build runs between two phases, so nothing can change it after
/// the check. `remove_dir_all` itself does not follow links inside the tree.
pub fn fresh_sources(build: &Path, target: &str, fetched: &[Fetched]) -> Result<(), PgoError> {
    let mut path = build.to_path_buf();
    let parts: Vec<Component<'_>> = Path::new(target).components().collect();
    for (index, part) in parts.iter().enumerate() {
        let Component::Normal(name) = part else {
            return Err(PgoError::NotADirectory {
                path: path.join(target),
            });
        };
        path.push(name);
        let last = index + 1 == parts.len();
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_dir() => {}
            // The target directory itself may be anything: it is replaced.
            Ok(_) if last => {
                fs::remove_file(&path).map_err(io("remove", &path))?;
            }
            Ok(_) => return Err(PgoError::NotADirectory { path }),
            Err(error) if error.kind() == io::ErrorKind::NotFound && last => {}
            Err(error) => return Err(io("inspect", &path)(error)),
        }
    }
    if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_dir()) {
        fs::remove_dir_all(&path).map_err(io("remove", &path))?;
    }
    fs::create_dir(&path).map_err(io("create", &path))?;
    super::sources::extract(fetched, &path).map_err(PgoError::Extract)
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> PgoError + 'a {
    move |source| PgoError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LLVM_PGO: &str = "name: p\nversion: 1\nrelease: 1\nsummary: s\nlicense: MIT\nhomepage: https://example.invalid\ndescription: d\nbuild: |\n    make\nworkload: |\n    ./p\n";

    #[test]
    fn llvm_pgo_needs_llvm_profdata_in_the_root() {
        let (recipe, problems) = crate::recipe::parse(LLVM_PGO);
        assert!(problems.is_empty(), "{problems:?}");
        let targets = recipe.targets("x86_64");
        let root = tempfile::tempdir().expect("tempdir");
        let error = check_root_tools(&recipe, &targets, root.path(), "bare").expect_err("missing");
        let message = error.to_string();
        assert!(message.contains("has no `llvm-profdata`"), "{message}");
        assert!(message.contains("profile `bare`"), "{message}");
        fs::create_dir_all(root.path().join("usr/bin")).expect("mkdir");
        fs::write(root.path().join("usr/bin/llvm-profdata"), "").expect("write");
        check_root_tools(&recipe, &targets, root.path(), "bare").expect("present");
        // gcc merges its own profiles: nothing to check.
        let gnu = LLVM_PGO.replace("build:", "toolchain: gnu\nbuild:");
        let (recipe, _) = crate::recipe::parse(&gnu);
        let empty = tempfile::tempdir().expect("tempdir");
        check_root_tools(&recipe, &targets, empty.path(), "bare").expect("gnu");
    }

    #[test]
    fn fresh_sources_refuse_a_linked_parent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let build = dir.path().join("build");
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(elsewhere.join("x86_64")).expect("mkdir");
        fs::write(elsewhere.join("x86_64/keep"), "x").expect("write");
        fs::create_dir(&build).expect("mkdir");
        std::os::unix::fs::symlink(&elsewhere, build.join("emul32")).expect("symlink");
        let error = fresh_sources(&build, "emul32/x86_64", &[]).expect_err("refused");
        assert!(matches!(error, PgoError::NotADirectory { .. }), "{error}");
        assert!(elsewhere.join("x86_64/keep").exists());
    }

    #[test]
    fn fresh_sources_replace_the_target_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let build = dir.path().join("build");
        fs::create_dir_all(build.join("emul32/x86_64/obj")).expect("mkdir");
        fs::write(build.join("emul32/x86_64/obj/a.o"), "x").expect("write");
        fresh_sources(&build, "emul32/x86_64", &[]).expect("fresh");
        assert!(build.join("emul32/x86_64").is_dir());
        assert!(!build.join("emul32/x86_64/obj").exists());
        // A link in the target's place is replaced, not followed.
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).expect("mkdir");
        fs::write(outside.join("keep"), "x").expect("write");
        fs::remove_dir(build.join("emul32/x86_64")).expect("rmdir");
        std::os::unix::fs::symlink(&outside, build.join("emul32/x86_64")).expect("symlink");
        fresh_sources(&build, "emul32/x86_64", &[]).expect("fresh");
        assert!(outside.join("keep").exists());
        assert!(build.join("emul32/x86_64").is_dir());
    }
}
