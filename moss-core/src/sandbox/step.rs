//! The result type of one setup step inside the sandbox.

use nix::errno::Errno;
use std::path::Path;

use super::error::SetupStep;

/// A failed setup step, reported through the setup channel.
#[derive(Debug)]
pub(crate) struct StepError {
    pub step: SetupStep,
    pub errno: Errno,
    pub detail: String,
}

pub(crate) type Step<T = ()> = Result<T, StepError>;

/// Attach the step and the path it worked on to an errno.
pub(crate) fn at(step: SetupStep, path: &Path) -> impl FnOnce(Errno) -> StepError + '_ {
    move |errno| StepError {
        step,
        errno,
        detail: path.display().to_string(),
    }
}

/// Same as [`at`] for `std::io` errors.
pub(crate) fn io_at(step: SetupStep, path: &Path) -> impl FnOnce(std::io::Error) -> StepError + '_ {
    move |e| StepError {
        step,
        errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        detail: path.display().to_string(),
    }
}
