//! The build's packaging step, which plans the packages a recipe makes and
//! then uses [`crate::package`] to collect and analyse them from the install
//! tree (it lives in `build` because the plan needs the build's expanded
//! scripts). The collection rules and per-package settings come from the
//! macro library's templates, the recipe's main package and its `packages`,
//! in the original's order (templates, then the main package's `paths`, then
//! subpackages; later wins).

use std::collections::BTreeMap;
use std::path::Path;

use moss_core::sandbox::IdMapping;

use super::script::{RecipeScripts, ScriptError};
use crate::macros::PackageTemplate;
use crate::package::emit::PackageInfo;
use crate::package::{
    analyse, collect, default_templates, AnalysedPackage, Analysis, AnalysisError, AnalysisOptions,
    PackagePaths, PackageSettings, Rules, Tools,
};
use crate::recipe::model::{PackageBlock, Toolchain};
use crate::recipe::restricted::{self, Identity};
use crate::recipe::Recipe;

/// Everything collection and analysis need, with every macro expanded.
#[derive(Debug, Clone)]
pub struct PackagePlan {
    pub templates: Vec<PackagePaths>,
    pub main: PackagePaths,
    pub subpackages: Vec<PackagePaths>,
    pub settings: BTreeMap<String, PackageSettings>,
    pub info: BTreeMap<String, PackageInfo>,
}

/// Why the plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("bad package rules")]
    Rules(#[from] crate::package::rules::RuleError),
    #[error("the macro library's package `{package}`: {message}")]
    Template { package: String, message: String },
}

/// One package definition, whatever it came from, with its fields expanded.
struct Definition {
    name: String,
    summary: Option<String>,
    description: Option<String>,
    paths: Vec<String>,
    settings: PackageSettings,
}

/// Builds the plan for `recipe`.
///
/// Only the fields upstream expands are expanded, and only with the three values
/// package fields know (`%(name)`, `%(version)`, `%(release)`): the recipe's own
/// package fields were expanded when the recipe was read, the macro library's
/// templates are expanded here. Definitions of the same package merge as upstream
/// merges them: paths, rundeps and their excludes add up, and the later
/// definition's summary and description (or else the recipe's) replace the earlier.
pub fn plan(recipe: &Recipe, scripts: &RecipeScripts<'_>) -> Result<PackagePlan, PlanError> {
    let source = &recipe.source;
    let identity = Identity {
        name: &source.name.value,
        version: &source.version.value,
        release: source.release.value,
    };

    // Templates of every built target, base first; the first of a name wins.
    let mut templates: Vec<Definition> = Vec::new();
    for built in scripts.targets() {
        for template in built.context().target().packages() {
            let definition = from_template(template, identity)?;
            if !templates.iter().any(|t| t.name == definition.name) {
                templates.push(definition);
            }
        }
    }
    if templates.is_empty() {
        let name = &recipe.source.name.value;
        for template in default_templates(name) {
            templates.push(Definition {
                name: template.paths.name.clone(),
                summary: None,
                description: None,
                paths: template.paths.paths.clone(),
                settings: template.settings.clone(),
            });
        }
    }

    let root_summary = recipe.package.summary.as_ref().map(|s| s.value.clone());
    let root_description = recipe.package.description.as_ref().map(|s| s.value.clone());
    let main = from_block(source.name.value.clone(), &recipe.package);
    let subpackages: Vec<Definition> = recipe
        .packages
        .iter()
        .map(|sub| from_block(sub.name.value.clone(), &sub.block))
        .collect();

    let mut plan = PackagePlan {
        templates: templates
            .iter()
            .map(|t| PackagePaths {
                name: t.name.clone(),
                paths: t.paths.clone(),
            })
            .collect(),
        main: PackagePaths {
            name: main.name.clone(),
            paths: main.paths.clone(),
        },
        subpackages: subpackages
            .iter()
            .map(|s| PackagePaths {
                name: s.name.clone(),
                paths: s.paths.clone(),
            })
            .collect(),
        settings: BTreeMap::new(),
        info: BTreeMap::new(),
    };
    // Settings merge: the template's, then the recipe's own (main or subpackage).
    let all = templates.iter().chain([&main]).chain(subpackages.iter());
    for definition in all {
        let settings = plan.settings.entry(definition.name.clone()).or_default();
        merge(settings, &definition.settings);
        let info = plan.info.entry(definition.name.clone()).or_default();
        info.summary = definition
            .summary
            .clone()
            .or_else(|| root_summary.clone())
            .unwrap_or_default();
        info.description = definition
            .description
            .clone()
            .or_else(|| root_description.clone())
            .unwrap_or_default();
    }
    for (name, info) in plan.info.iter_mut() {
        if let Some(settings) = plan.settings.get(name) {
            info.rundeps = settings.rundeps.clone();
            info.rundeps_exclude = settings.rundeps_exclude.clone();
        }
    }
    Ok(plan)
}

/// Adds what `from` lists to `into`. Upstream keeps only the later definition's
/// `provides-exclude` and `conflicts`; a second definition that drops a conflict
/// unnoticed is a trap, so these add up like the rest.
fn merge(into: &mut PackageSettings, from: &PackageSettings) {
    let add = |into: &mut Vec<String>, from: &[String]| {
        for item in from {
            if !into.contains(item) {
                into.push(item.clone());
            }
        }
    };
    add(&mut into.rundeps, &from.rundeps);
    add(&mut into.rundeps_exclude, &from.rundeps_exclude);
    add(&mut into.provides_exclude, &from.provides_exclude);
    add(&mut into.conflicts, &from.conflicts);
}

/// A template of the macro library; its name, summary, description, paths and
/// rundeps are expanded as upstream expands them, the rest is literal.
fn from_template(
    template: &PackageTemplate,
    identity: Identity<'_>,
) -> Result<Definition, PlanError> {
    let expand = |text: &str| {
        restricted::expand(text, identity).map_err(|error| PlanError::Template {
            package: template.name.clone(),
            message: error.message,
        })
    };
    let expand_all = |texts: &[String]| -> Result<Vec<String>, PlanError> {
        texts.iter().map(|t| expand(t)).collect()
    };
    let paths: Vec<String> = template.paths.iter().map(|p| p.pattern.clone()).collect();
    Ok(Definition {
        name: expand(&template.name)?,
        summary: template.summary.as_deref().map(expand).transpose()?,
        description: template
            .description
            .as_deref()
            .map(|d| expand(d.trim()))
            .transpose()?,
        paths: expand_all(&paths)?,
        settings: PackageSettings {
            rundeps: expand_all(&template.rundeps)?,
            rundeps_exclude: template.rundeps_exclude.clone(),
            provides_exclude: template.provides_exclude.clone(),
            conflicts: template.conflicts.clone(),
        },
    })
}

/// A package of the recipe: its fields were expanded when the recipe was read.
fn from_block(name: String, block: &PackageBlock) -> Definition {
    let values = |list: &[crate::recipe::Spanned<String>]| -> Vec<String> {
        list.iter().map(|s| s.value.clone()).collect()
    };
    Definition {
        name,
        summary: block.summary.as_ref().map(|s| s.value.clone()),
        description: block.description.as_ref().map(|s| s.value.clone()),
        paths: block.paths.iter().map(|p| p.glob.value.clone()).collect(),
        settings: PackageSettings {
            rundeps: values(&block.rundeps),
            rundeps_exclude: values(&block.rundeps_exclude),
            provides_exclude: values(&block.provides_exclude),
            conflicts: values(&block.conflicts),
        },
    }
}

/// The split/strip programs for the recipe's toolchain, falling back to the
/// other toolchain's when the host lacks them.
pub fn tools(recipe: &Recipe) -> Tools {
    let (preferred, other) = match recipe.options.toolchain {
        Toolchain::Llvm => (Tools::llvm(), Tools::gnu()),
        Toolchain::Gnu => (Tools::gnu(), Tools::llvm()),
    };
    if preferred.objcopy.exists() && preferred.strip.exists() {
        preferred
    } else if other.objcopy.exists() && other.strip.exists() {
        other
    } else {
        preferred
    }
}

/// Collects and analyses the install tree.
pub fn package(
    plan: &PackagePlan,
    recipe: &Recipe,
    install_root: &Path,
    system_root: &Path,
) -> Result<Analysis, PackagingError> {
    let rules = Rules::in_recipe_order(&plan.templates, &plan.main, &plan.subpackages)?;
    let collection = collect(install_root, rules).map_err(AnalysisError::from)?;
    let options = AnalysisOptions {
        debug: recipe.options.debug,
        strip: recipe.options.strip,
        lastrip: recipe.options.lastrip,
        tools: tools(recipe),
        system_root: system_root.to_path_buf(),
        packages: plan.settings.clone(),
        name_sibling_providers: false,
    };
    Ok(analyse(collection, &options)?)
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackagingError {
    #[error("bad package rules")]
    Rules(#[from] crate::package::rules::RuleError),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
}

/// Owners as the build saw them: analysis reads the install tree from the
/// host, where the sandbox's root is the calling user (or a subordinate id).
pub fn sandbox_owners(packages: &mut [AnalysedPackage], mapping: &IdMapping) {
    let translate = |id: u32, own: u32, range: Option<(u32, u32)>| -> u32 {
        if id == own {
            return 0;
        }
        match range {
            Some((start, count)) if id >= start && id - start < count => id - start + 1,
            _ => id,
        }
    };
    for package in packages {
        for file in &mut package.files {
            match mapping {
                IdMapping::Identity => {}
                IdMapping::SingleId { uid, gid } => {
                    file.uid = translate(file.uid, *uid, None);
                    file.gid = translate(file.gid, *gid, None);
                }
                IdMapping::Subordinate {
                    uid,
                    gid,
                    uids,
                    gids,
                    ..
                } => {
                    file.uid = translate(file.uid, *uid, Some((uids.start, uids.count)));
                    file.gid = translate(file.gid, *gid, Some((gids.start, gids.count)));
                }
            }
        }
    }
}
