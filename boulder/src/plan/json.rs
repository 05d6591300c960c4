//! `boulder build --plan`: the plan as JSON, for people and for a
//! scheduler that runs each recipe's build elsewhere. The schema is in the
//! book (`multi-recipe.md`); `schema` names its version.

use serde::Serialize;

use super::local_repo::LocalRepo;
use super::{Assessment, Plan};

/// The version of the document's shape.
pub const SCHEMA: &str = "boulder-plan/1";

#[derive(Debug, Serialize)]
pub struct PlanDocument {
    pub schema: &'static str,
    /// The local repository (absolute).
    pub repository: String,
    /// The settings digested into every input digest.
    pub settings: String,
    /// In build order: every recipe after the recipes it depends on.
    pub recipes: Vec<RecipeEntry>,
}

#[derive(Debug, Serialize)]
pub struct RecipeEntry {
    pub name: String,
    pub version: String,
    pub release: u64,
    /// The recipe file (absolute).
    pub recipe: String,
    /// blake3 of the recipe's directory.
    pub directory_digest: String,
    /// blake3 of every input; null while a dependency is still to be built.
    pub inputs_digest: Option<String>,
    /// `up-to-date` or `build`.
    pub action: &'static str,
    /// The packages the recipe makes.
    pub packages: Vec<String>,
    pub depends: Vec<DependencyEntry>,
    /// The stones in the repository (relative to it) when up to date.
    pub outputs: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DependencyEntry {
    /// The recipe depended on.
    pub recipe: String,
    /// The build dependency it satisfies, as the recipe writes it.
    pub dependency: String,
    /// The package of that recipe that provides it.
    pub package: String,
    /// How that was learnt: from the last build's manifest, the recipe, or a guess.
    pub evidence: &'static str,
}

/// The document for `plan` with its `assessed` state.
pub fn document(
    plan: &Plan,
    repo: &LocalRepo,
    settings: &str,
    assessed: &[Assessment],
) -> PlanDocument {
    let recipes = plan
        .order
        .iter()
        .map(|&index| {
            let recipe = &plan.recipes[index];
            let assessment = &assessed[index];
            RecipeEntry {
                name: recipe.name.clone(),
                version: recipe.version.clone(),
                release: recipe.release,
                recipe: recipe.path.display().to_string(),
                directory_digest: assessment.directory.clone(),
                inputs_digest: assessment.inputs.clone(),
                action: if assessment.up_to_date.is_some() {
                    "up-to-date"
                } else {
                    "build"
                },
                packages: recipe.packages.clone(),
                depends: plan.graph.edges[index]
                    .iter()
                    .map(|edge| DependencyEntry {
                        recipe: plan.recipes[edge.to].name.clone(),
                        dependency: edge.dependency.clone(),
                        package: edge.package.clone(),
                        evidence: edge.evidence,
                    })
                    .collect(),
                outputs: assessment
                    .up_to_date
                    .iter()
                    .flat_map(|state| {
                        state
                            .stones
                            .iter()
                            .map(|s| format!("packages/{}/{s}", recipe.name))
                    })
                    .collect(),
            }
        })
        .collect();
    PlanDocument {
        schema: SCHEMA,
        repository: repo.dir().display().to_string(),
        settings: settings.to_string(),
        recipes,
    }
}
