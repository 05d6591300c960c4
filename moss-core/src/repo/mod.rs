//! Repositories: `stone.index` files (writing and reading), the per-root
//! repository configuration and the per-repository index cache.
//!
//! An index is a `Repository` stone holding one Meta payload per package,
//! each extended with `PackageURI` (relative to the index), `PackageHash`
//! (sha256 hex of the `.stone`) and `PackageSize`; see [`index`].

mod cache;
pub mod config;
mod error;
pub mod index;
pub mod kdl;
mod manager;
mod root_index;

pub use cache::{cache_dir, RepoCache};
pub use config::{Repo, RepoConfig};
pub use error::RepoError;
pub use index::{read_index, write_index, write_index_to, IndexEntry, IndexReport};
pub use manager::{RepoPackages, Repositories};
pub use root_index::resolve as resolve_root_index;
