//! Small helpers shared by the rest of the library (and by boulder), each
//! defined once here: the sha256 of a file, the reflink-or-copy of a file and
//! advisory file locks, the ordered parallel map, the
//! process umask, an error with its causes on one line.
//!
//! This module depends on nothing else in the crate.

mod causes;
mod digest;
mod flock;
mod parallel;
mod reflink;
mod umask;

pub use causes::with_causes;
pub use digest::sha256_file;
pub use flock::{FileLock, LockKind};
pub use parallel::{available_cpus, map_ordered, map_ordered_with};
pub use reflink::reflink_or_copy;
pub use umask::process_umask;
