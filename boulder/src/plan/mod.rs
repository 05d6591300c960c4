//! Planning a build of many recipes: read them all, work out which recipe's
//! packages satisfy which other recipe's build dependencies, order them and
//! decide what is up to date.
//!
//! * [`recipes`]: discovery and checking of every recipe, all errors at once;
//! * [`providers`]: which recipe provides a build dependency, and why;
//! * [`graph`]: the dependency order and cycle detection;
//! * [`digest`]: the input digest of a recipe, for up-to-date checks;
//! * [`local_repo`]: the repository the built stones go into;
//! * [`json`]: the plan as JSON (`boulder build --plan`).

pub(crate) mod digest;
pub(crate) mod graph;
pub(crate) mod json;
pub(crate) mod local_repo;
pub(crate) mod providers;
pub(crate) mod recipes;

use std::path::{Path, PathBuf};

pub use graph::{Cycle, Graph};
pub use local_repo::LocalRepo;
pub use providers::Providers;
pub use recipes::{PlannedRecipe, ReadError};

/// Everything a run of many builds needs to know before building.
#[derive(Debug, Clone)]
pub struct Plan {
    pub recipes: Vec<PlannedRecipe>,
    pub graph: Graph,
    /// Recipe indices in build order (dependencies first).
    pub order: Vec<usize>,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{} recipe(s) cannot be read; nothing was built", .0.len())]
    Read(Vec<ReadError>),
    #[error("the recipes depend on each other in a cycle: {0}")]
    Cycle(Cycle),
}

/// Reads every recipe below `paths` and orders them; `repo` is where the
/// manifests of earlier builds are looked up.
pub fn plan(
    paths: &[PathBuf],
    data_dirs: &[PathBuf],
    strict: bool,
    repo: &Path,
) -> Result<Plan, PlanError> {
    let recipes = recipes::read_all(paths, data_dirs, strict).map_err(PlanError::Read)?;
    let local = LocalRepo::new(repo);
    let providers = Providers::new(&recipes, &local);
    let graph = Graph::new(&recipes, &providers);
    let order = graph.order().map_err(PlanError::Cycle)?;
    Ok(Plan {
        recipes,
        graph,
        order,
    })
}

/// What the repository says of a recipe before the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// [`digest::directory`] of the recipe's directory.
    pub directory: String,
    /// The input digest, known when every dependency is up to date.
    pub inputs: Option<String>,
    /// The stones of the last build whose inputs were these.
    pub up_to_date: Option<local_repo::BuildState>,
}

impl Plan {
    /// Digests every recipe in order and compares with the repository;
    /// `settings` is the run's settings text ([`digest::inputs`]).
    pub fn assess(&self, repo: &LocalRepo, settings: &str) -> std::io::Result<Vec<Assessment>> {
        let mut assessed: Vec<Option<Assessment>> = vec![None; self.recipes.len()];
        for &index in &self.order {
            let recipe = &self.recipes[index];
            let directory = digest::directory(&recipe.dir)?;
            let mut dependencies = Vec::new();
            let mut known = true;
            for dep in self.graph.dependencies(index) {
                match assessed[dep].as_ref().and_then(|a| a.up_to_date.as_ref()) {
                    Some(state) => {
                        dependencies.push((self.recipes[dep].name.clone(), state.outputs.clone()))
                    }
                    None => known = false,
                }
            }
            let inputs = known.then(|| digest::inputs(&directory, settings, &dependencies));
            let up_to_date = inputs
                .as_ref()
                .and_then(|inputs| repo.state(&recipe.name).filter(|s| &s.inputs == inputs));
            assessed[index] = Some(Assessment {
                directory,
                inputs,
                up_to_date,
            });
        }
        Ok(assessed.into_iter().flatten().collect())
    }
}
