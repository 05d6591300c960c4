//! Dependency resolution: from requests (`name`, `soname(libfoo.so.1(x86_64))`,
//! `pkgconfig(zlib)`, …) to the complete set of packages a state needs.
//!
//! Candidates come from [`CandidateSource`]s: the installed packages and one
//! source per repository. A dependency is satisfied first by a package this
//! resolution already selected, then by candidates in preference order:
//! sources by priority (larger first; installed packages first or last
//! depending on [`Prefer`]), within a source by source release then build
//! release, newest first. Unlike the original, declared conflicts are
//! enforced: a candidate that conflicts with (or is refused by) a selected
//! package is passed over, and when nothing is left the error names the
//! dependency, the chain of packages that needed it, and why each candidate
//! was refused. There is no backtracking over earlier choices.

mod candidate;
mod error;
mod solver;

pub use candidate::{Candidate, CandidateSource, Origin};
pub use error::ResolveError;
pub use solver::{parse_request, Prefer, Request, Resolver, Selected};
