//! Fault injection for crash-safety tests.
//!
//! With `MOSS_FAULT_INJECT=<n>` in the environment, the n-th call of
//! [`checkpoint`] in this process kills the process with SIGKILL, exactly as
//! an outside `kill -9` would. Without the variable a checkpoint costs one
//! relaxed atomic load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

static TARGET: OnceLock<u64> = OnceLock::new();
static COUNT: AtomicU64 = AtomicU64::new(0);

/// Environment variable naming the checkpoint at which to die.
pub const FAULT_ENV: &str = "MOSS_FAULT_INJECT";

fn target() -> u64 {
    *TARGET.get_or_init(|| {
        std::env::var(FAULT_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// A point where a crash must leave the root recoverable.
#[inline]
pub fn checkpoint() {
    let target = target();
    if target == 0 {
        return;
    }
    if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == target {
        // SAFETY: raising a signal at ourselves; SIGKILL cannot be caught.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
