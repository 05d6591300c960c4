//! The resolver: breadth-first closure over dependencies with conflict checks.

use std::collections::{HashMap, VecDeque};

use super::candidate::{Candidate, CandidateSource, Origin};
use super::error::ResolveError;
use crate::stone::{Dependency, DependencyKind};

/// Which candidates win when both an installed package and a repository
/// package provide something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// Keep what is installed (`install`).
    #[default]
    Installed,
    /// Move to what the repositories offer (`sync`).
    Available,
}

/// Something asked for by the user (or a recipe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub dependency: Dependency,
    /// Recorded in the state as asked for explicitly.
    pub explicit: bool,
}

impl Request {
    /// Parses `kind(name)` or a bare package name; explicit.
    pub fn parse(text: &str) -> Result<Self, ResolveError> {
        Ok(Request {
            dependency: parse_request(text)?,
            explicit: true,
        })
    }
}

/// Parses `name(x)`, `soname(x)`, `pkgconfig(x)`, `pkgconfig32(x)`,
/// `binary(x)`, `sysbinary(x)`, `cmake(x)`, `python(x)`, `interpreter(x)`,
/// or a bare `x` meaning `name(x)`.
pub fn parse_request(text: &str) -> Result<Dependency, ResolveError> {
    let text = text.trim();
    text.parse::<Dependency>()
        .map_err(|e| ResolveError::BadRequest {
            text: text.to_string(),
            reason: e.to_string(),
        })
        .and_then(|d| match d.kind {
            DependencyKind::Unknown(_) => Err(ResolveError::BadRequest {
                text: text.to_string(),
                reason: "unknown kind".into(),
            }),
            _ => Ok(d),
        })
}

/// One package of a resolved selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    pub candidate: Candidate,
    pub explicit: bool,
    /// What pulled it in: `request name(x)` or `dependency soname(…) of foo`.
    pub reason: String,
}

/// Candidates in preference order, indexed by what they provide.
#[derive(Debug, Clone)]
pub struct Resolver {
    ordered: Vec<Candidate>,
    by_provider: HashMap<(DependencyKind, String), Vec<usize>>,
}

/// A selected package and the index of the one that needed it.
struct Pick {
    selected: Selected,
    parent: Option<usize>,
}

impl Resolver {
    /// Orders the sources' candidates: sources by [`Prefer`] then priority
    /// (larger first), packages by source release then build release (newer first).
    pub fn new(sources: Vec<CandidateSource>, prefer: Prefer) -> Self {
        let mut sources = sources;
        let installed_rank = |s: &CandidateSource| {
            let installed = s.origin == Origin::Installed;
            match prefer {
                Prefer::Installed => !installed,
                Prefer::Available => installed,
            }
        };
        // Stable: equal priorities keep the caller's order.
        sources.sort_by(|a, b| {
            installed_rank(a)
                .cmp(&installed_rank(b))
                .then(b.priority.cmp(&a.priority))
        });
        let mut ordered = Vec::new();
        for source in sources {
            let mut packages = source.packages;
            packages.sort_by(|a, b| {
                (b.source_release, b.build_release).cmp(&(a.source_release, a.build_release))
            });
            ordered.extend(packages);
        }
        let mut by_provider: HashMap<_, Vec<usize>> = HashMap::new();
        for (i, c) in ordered.iter().enumerate() {
            for p in &c.providers {
                by_provider
                    .entry((p.kind, p.name.clone()))
                    .or_default()
                    .push(i);
            }
        }
        Resolver {
            ordered,
            by_provider,
        }
    }

    /// Every candidate providing `dep`, best first.
    pub fn candidates(&self, dep: &Dependency) -> impl Iterator<Item = &Candidate> + '_ {
        self.by_provider
            .get(&(dep.kind, dep.name.clone()))
            .into_iter()
            .flatten()
            .map(|&i| &self.ordered[i])
    }

    /// Every candidate, best first.
    pub fn all(&self) -> &[Candidate] {
        &self.ordered
    }

    /// The requests and everything they need.
    pub fn resolve(&self, requests: &[Request]) -> Result<Vec<Selected>, ResolveError> {
        self.resolve_onto(Vec::new(), requests)
    }

    /// Adds the requests and what they need to `keep` (packages that stay,
    /// typically the current state): their providers satisfy dependencies,
    /// and new packages must not conflict with them. Returns `keep` first,
    /// then the new packages in the order they were selected.
    pub fn resolve_onto(
        &self,
        keep: Vec<Selected>,
        requests: &[Request],
    ) -> Result<Vec<Selected>, ResolveError> {
        let mut picks: Vec<Pick> = Vec::new();
        let mut provided: HashMap<(DependencyKind, String), usize> = HashMap::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for selected in keep {
            add(&mut picks, &mut provided, &mut names, selected, None);
        }
        // Queue of (dependency, who needs it, explicit).
        let mut queue: VecDeque<(Dependency, Option<usize>, bool)> = requests
            .iter()
            .map(|r| (r.dependency.clone(), None, r.explicit))
            .collect();
        // Kept packages' own dependencies are re-checked too.
        for (i, pick) in picks.iter().enumerate() {
            for dep in &pick.selected.candidate.depends {
                queue.push_back((dep.clone(), Some(i), false));
            }
        }
        while let Some((dep, parent, explicit)) = queue.pop_front() {
            let key = (dep.kind, dep.name.clone());
            if let Some(&i) = provided.get(&key) {
                if explicit && parent.is_none() {
                    picks[i].selected.explicit = true;
                }
                continue;
            }
            let chosen = match self.choose(&dep, &picks, &names) {
                Ok(c) => c,
                Err(refused) => {
                    return Err(ResolveError::Unsatisfiable {
                        wanted: dep.to_string(),
                        chain: chain(&picks, parent),
                        refused,
                    })
                }
            };
            let reason = match parent {
                None => format!("request {dep}"),
                Some(p) => format!("dependency {dep} of {}", picks[p].selected.candidate.name),
            };
            let index = add(
                &mut picks,
                &mut provided,
                &mut names,
                Selected {
                    candidate: chosen.clone(),
                    explicit: explicit && parent.is_none(),
                    reason,
                },
                parent,
            );
            for d in &chosen.depends {
                queue.push_back((d.clone(), Some(index), false));
            }
        }
        Ok(picks.into_iter().map(|p| p.selected).collect())
    }

    /// The best candidate for `dep` that fits beside `picks`, or why each was refused.
    fn choose(
        &self,
        dep: &Dependency,
        picks: &[Pick],
        names: &HashMap<String, usize>,
    ) -> Result<&Candidate, Vec<String>> {
        let mut refused = Vec::new();
        for candidate in self.candidates(dep) {
            if let Some(&i) = names.get(&candidate.name) {
                let other = &picks[i].selected.candidate;
                refused.push(format!(
                    "{} is passed over because {} is already selected",
                    candidate.describe(),
                    other.describe()
                ));
                continue;
            }
            let clash = picks.iter().find_map(|p| {
                let other = &p.selected.candidate;
                if let Some(what) = candidate.conflicts_with(other) {
                    Some(format!(
                        "{} conflicts with {what}, provided by {}",
                        candidate.describe(),
                        other.describe()
                    ))
                } else {
                    other.conflicts_with(candidate).map(|what| {
                        format!(
                            "{} conflicts with {what}, provided by {}",
                            other.describe(),
                            candidate.describe()
                        )
                    })
                }
            });
            match clash {
                Some(reason) => refused.push(reason),
                None => return Ok(candidate),
            }
        }
        Err(refused)
    }
}

fn add(
    picks: &mut Vec<Pick>,
    provided: &mut HashMap<(DependencyKind, String), usize>,
    names: &mut HashMap<String, usize>,
    selected: Selected,
    parent: Option<usize>,
) -> usize {
    let index = picks.len();
    for p in &selected.candidate.providers {
        provided.entry((p.kind, p.name.clone())).or_insert(index);
    }
    names
        .entry(selected.candidate.name.clone())
        .or_insert(index);
    picks.push(Pick { selected, parent });
    index
}

/// Who needed what, from the package that needs the failed dependency up to
/// the request (or kept package) that started it.
fn chain(picks: &[Pick], mut at: Option<usize>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(i) = at {
        let pick = &picks[i];
        out.push(pick.selected.candidate.describe());
        if pick.parent.is_none() {
            out.push(pick.selected.reason.clone());
        }
        at = pick.parent;
    }
    out
}
