//! Upstream sources of a recipe: fetching, verifying, caching and extracting.
//!
//! The recipe side maps each `upstreams:` entry of `stone.yaml` onto an
//! [`Upstream`], then:
//!
//! ```no_run
//! use boulder::upstream::{Upstream, UpstreamCache};
//! # fn main() -> Result<(), boulder::upstream::UpstreamError> {
//! let cache = UpstreamCache::new("/home/me/.cache/boulder");
//! let upstreams = [Upstream::archive(
//!     "https://example.org/hello-1.0.tar.xz",
//!     "5e0ad0a6a7a1b1c6f3d4b2ea0c1a3f0b7f7d4c2e6e0c8a6e2b8f1b0c3d5e7f9a",
//! )];
//! // Downloads (in parallel, bounded) or reuses verified cache entries.
//! let fetched = cache.fetch_all(&upstreams)?;
//! for source in &fetched {
//!     // Unpacks into <build>/<unpackdir>, or clones into <build>/<clonedir>.
//!     source.extract_into("/tmp/build".as_ref())?;
//! }
//! # Ok(()) }
//! ```
//!
//! Cache layout under the cache directory (see `book/src/upstreams.md`):
//! * `upstreams/fetched/<sha256>/<name>`: a verified archive, keyed by its
//!   content hash; `<name>` is `rename` or the last segment of the URL.
//! * `upstreams/origins/<sha256>`: the URLs that entry was fetched from, one
//!   a line; an entry is reused only for one of them.
//! * `upstreams/git/<host>_<path with '/' as '.'>`: a bare mirror per URL.
//!
//! Every error is an [`UpstreamError`] that names the upstream's URL.

mod cache;
mod error;
mod extract;
mod fetch_file;
pub(crate) mod git;
mod local;
mod model;
mod origins;
pub(crate) mod progress;
pub(crate) mod prune;
mod verify;

pub use cache::{Fetched, UpstreamCache};
pub use error::UpstreamError;
pub use local::SourceDirs;
pub use model::Upstream;
