//! The number of CPUs this process may use, looked up once.
//!
//! `std::thread::available_parallelism` reads the cgroup files under
//! `/proc` and `/sys` on every call; checking a recipe asks for `%(jobs)`
//! once per target, which made it a fifth of `recipe check`'s time.

use std::sync::OnceLock;

/// The CPUs this process may run on (at least 1), cached for its lifetime.
pub fn available() -> usize {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
