//! What a target's build runs, in order, as upstream boulder runs it: the PGO
//! stages of a target with a `workload`, the phases of each stage, the prepare
//! step that puts the fetched sources in place, and the profile merge that ends
//! an LLVM workload.

use super::model::{BuildBlock, Phase, Recipe, Target, Toolchain, Upstream};
use crate::macros::PgoStage;

/// The build definition of `target`: its profile (the target's own name first,
/// then `emul32` for an emul32 target), else the top-level keys.
pub fn build_definition<'r>(recipe: &'r Recipe, target: &Target) -> &'r BuildBlock {
    recipe
        .profile_for(target)
        .map_or(&recipe.build, |profile| &profile.build)
}

/// The stages `target` is built in: `[None]` for a plain build; `[One, Use]`
/// when its build definition has a `workload`, with `Two` between them for
/// `cspgo: true` on the LLVM toolchain (gcc has no context-sensitive PGO).
pub fn pgo_stages(recipe: &Recipe, target: &Target) -> Vec<PgoStage> {
    if build_definition(recipe, target).workload.is_none() {
        return vec![PgoStage::None];
    }
    let mut stages = vec![PgoStage::One];
    if recipe.options.toolchain == Toolchain::Llvm && recipe.options.cspgo {
        stages.push(PgoStage::Two);
    }
    stages.push(PgoStage::Use);
    stages
}

/// The recipe phases a stage runs, in order (after the prepare step): the
/// instrumented stages build and run the workload, the others build, install
/// and check.
pub fn stage_phases(stage: PgoStage) -> &'static [Phase] {
    match stage {
        PgoStage::One | PgoStage::Two => &[Phase::Setup, Phase::Build, Phase::Workload],
        PgoStage::None | PgoStage::Use => {
            &[Phase::Setup, Phase::Build, Phase::Install, Phase::Check]
        }
    }
}

/// The action appended to the workload of an LLVM stage to merge the profiles
/// it wrote (gcc reads its .gcda files directly).
pub fn workload_merge_action(recipe: &Recipe, stage: PgoStage) -> Option<&'static str> {
    if recipe.options.toolchain != Toolchain::Llvm {
        return None;
    }
    match stage {
        PgoStage::One => Some("%llvm_merge_s1"),
        PgoStage::Two => Some("%llvm_merge_s2"),
        PgoStage::None | PgoStage::Use => None,
    }
}

/// The prepare step, in the macro language (it names `%(sourcedir)`): every
/// archive that is unpacked goes into its directory under the build root with
/// bsdtar, every git clone is copied. Empty when nothing is to be put in place.
/// Runs in the target's build root, without the recipe's `environment`.
pub fn prepare_script(recipe: &Recipe) -> String {
    let mut script = String::new();
    for upstream in &recipe.upstreams {
        match upstream {
            Upstream::Archive {
                url,
                rename,
                unpack: true,
                unpackdir,
                stripdirs,
                ..
            } => {
                let file = rename
                    .as_ref()
                    .map_or_else(|| url_file_name(&url.value), |r| r.value.clone());
                let dir = unpackdir
                    .as_ref()
                    .map_or_else(|| file.clone(), |d| d.value.clone());
                let (file, dir) = (literal(&file), literal(&dir));
                let strip = stripdirs.unwrap_or(1);
                script.push_str(&format!("mkdir -p {dir}\n"));
                script.push_str(&format!(
                    "bsdtar-static xf \"%(sourcedir)/{file}\" -C \"{dir}\" --strip-components={strip} --no-same-owner || (echo \"Failed to extract archive\"; exit 1);\n"
                ));
            }
            Upstream::Archive { .. } => {}
            Upstream::Git { url, clonedir, .. } => {
                let source = url_file_name(&url.value);
                let dir = clonedir
                    .as_ref()
                    .map_or_else(|| source.clone(), |d| d.value.clone());
                let (source, dir) = (literal(&source), literal(&dir));
                script.push_str(&format!("mkdir -p {dir}\n"));
                script.push_str(&format!(
                    "cp -Ra --no-preserve=ownership \"%(sourcedir)/{source}/.\" \"{dir}\"\n"
                ));
            }
        }
    }
    script
}

/// The last segment of a URL's path (query and fragment dropped), as the
/// fetched file is named in the source directory.
pub fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// A file name as literal macro text: a `%` (`foo%2Bbar.tar.gz`) is not a macro.
fn literal(name: &str) -> String {
    name.replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_file_names_ignore_query_and_fragment() {
        assert_eq!(
            url_file_name("https://x.org/a/b-1.0.tar.xz"),
            "b-1.0.tar.xz"
        );
        assert_eq!(
            url_file_name("https://x.org/a/b.tar.gz?raw=1#top"),
            "b.tar.gz"
        );
        assert_eq!(url_file_name("https://github.com/o/r.git"), "r.git");
    }

    #[test]
    fn percent_signs_in_names_stay_literal() {
        assert_eq!(literal("a%2Bb.tar.gz"), "a%%2Bb.tar.gz");
    }
}
