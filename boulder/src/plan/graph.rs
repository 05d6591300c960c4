//! The dependency graph of a run: an edge from a recipe to each recipe whose
//! packages satisfy one of its build dependencies, with the reason; the
//! build order, and the cycle when there is none.

use std::collections::BTreeSet;
use std::fmt;

use super::providers::Providers;
use super::recipes::PlannedRecipe;

/// `from` needs `to` because `to`'s package provides `dependency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub to: usize,
    pub dependency: String,
    pub package: String,
    /// How the provider was learnt ([`super::providers::Evidence::name`]).
    pub evidence: &'static str,
}

/// Edges per recipe, and the names for messages.
#[derive(Debug, Clone)]
pub struct Graph {
    pub names: Vec<String>,
    /// `edges[i]`: what recipe `i` needs, one edge per dependency.
    pub edges: Vec<Vec<Edge>>,
}

/// A dependency cycle, each step with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// `(from, to, reason)` in order; the last `to` is the first `from`.
    pub steps: Vec<(String, String, String)>,
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (from, to, reason)) in self.steps.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{from} needs {to} ({reason})")?;
        }
        Ok(())
    }
}

impl Graph {
    pub fn new(recipes: &[PlannedRecipe], providers: &Providers) -> Self {
        let edges = recipes
            .iter()
            .enumerate()
            .map(|(index, recipe)| {
                let mut edges: Vec<Edge> = Vec::new();
                for dependency in &recipe.build_deps {
                    let Some(found) = providers.lookup(dependency) else {
                        continue;
                    };
                    if found.recipe == index {
                        continue;
                    }
                    edges.push(Edge {
                        to: found.recipe,
                        dependency: dependency.clone(),
                        package: found.package,
                        evidence: found.evidence.name(),
                    });
                }
                edges
            })
            .collect();
        Graph {
            names: recipes.iter().map(|r| r.name.clone()).collect(),
            edges,
        }
    }

    /// The recipes `index` needs directly (each once).
    pub fn dependencies(&self, index: usize) -> BTreeSet<usize> {
        self.edges[index].iter().map(|e| e.to).collect()
    }

    /// Dependencies first; among recipes ready at the same time, by name.
    pub fn order(&self) -> Result<Vec<usize>, Cycle> {
        let count = self.names.len();
        let mut waiting: Vec<usize> = (0..count).map(|i| self.dependencies(i).len()).collect();
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); count];
        for i in 0..count {
            for dep in self.dependencies(i) {
                users[dep].push(i);
            }
        }
        let mut ready: BTreeSet<(&str, usize)> = (0..count)
            .filter(|&i| waiting[i] == 0)
            .map(|i| (self.names[i].as_str(), i))
            .collect();
        let mut order = Vec::with_capacity(count);
        while let Some(first) = ready.pop_first() {
            let (_, i) = first;
            order.push(i);
            for &user in &users[i] {
                waiting[user] -= 1;
                if waiting[user] == 0 {
                    ready.insert((self.names[user].as_str(), user));
                }
            }
        }
        if order.len() == count {
            return Ok(order);
        }
        let left: Vec<usize> = (0..count).filter(|&i| waiting[i] > 0).collect();
        Err(self.find_cycle(&left))
    }

    /// A cycle among `left` (every one of them waits on another of them).
    fn find_cycle(&self, left: &[usize]) -> Cycle {
        let in_left = |i: usize| left.contains(&i);
        // Walk from the first: every node has an edge into `left`, so the
        // walk must revisit a node; the loop from there is the cycle.
        let mut path: Vec<usize> = Vec::new();
        let mut at = left[0];
        loop {
            if let Some(start) = path.iter().position(|&p| p == at) {
                let nodes = &path[start..];
                let steps = nodes
                    .iter()
                    .enumerate()
                    .map(|(k, &from)| {
                        let to = nodes[(k + 1) % nodes.len()];
                        #[allow(
                            clippy::expect_used,
                            reason = "each step of the path was taken along an edge of its node"
                        )]
                        let edge = self.edges[from]
                            .iter()
                            .find(|e| e.to == to)
                            .expect("the walk follows edges");
                        (
                            self.names[from].clone(),
                            self.names[to].clone(),
                            format!(
                                "{} is provided by {} ({})",
                                edge.dependency, edge.package, edge.evidence
                            ),
                        )
                    })
                    .collect();
                return Cycle { steps };
            }
            path.push(at);
            #[allow(
                clippy::expect_used,
                reason = "a node ordering could not place waits on a node it could not place either"
            )]
            let next = self.edges[at]
                .iter()
                .map(|e| e.to)
                .find(|&to| in_left(to))
                .expect("a node left after ordering waits on another left node");
            at = next;
        }
    }
}
