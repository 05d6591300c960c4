//! Small helpers shared by the rest of the library (and by boulder), each
//! defined once here: the sha256 of a file and the reflink-or-copy of a file.
//!
//! This module depends on nothing else in the crate.

mod digest;
mod reflink;

pub use digest::sha256_file;
pub use reflink::reflink_or_copy;
