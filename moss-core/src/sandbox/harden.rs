//! Limits applied to the command right before it runs: a reduced capability
//! bounding set and `PR_SET_NO_NEW_PRIVS`.

use caps::{CapSet, Capability, CapsHashSet};
use nix::errno::Errno;

use super::error::SetupStep;
use super::step::{Step, StepError};

/// What root inside the sandbox keeps: enough to own, chmod and chown files,
/// switch ids and bind low ports; no mounts, no raw network, no ptrace, no
/// kernel or time tampering.
pub const KEPT_CAPABILITIES: [Capability; 12] = [
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FOWNER,
    Capability::CAP_FSETID,
    Capability::CAP_KILL,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETPCAP,
    Capability::CAP_SETFCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_AUDIT_WRITE,
];

fn fail(errno: Errno, detail: String) -> StepError {
    StepError {
        step: SetupStep::DropCapabilities,
        errno,
        detail,
    }
}

/// Shrink the bounding set, then the effective, permitted and inheritable sets.
pub(crate) fn drop_capabilities() -> Step {
    let kept: CapsHashSet = KEPT_CAPABILITIES.into_iter().collect();
    for cap in caps::all() {
        if !kept.contains(&cap) {
            // A capability the running kernel does not know is not in the set.
            if let Err(e) = caps::drop(None, CapSet::Bounding, cap) {
                if caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) {
                    return Err(fail(Errno::EPERM, format!("{cap}: {e}")));
                }
            }
        }
    }
    for set in [CapSet::Inheritable, CapSet::Effective, CapSet::Permitted] {
        let current = caps::read(None, set).map_err(|e| fail(Errno::EPERM, e.to_string()))?;
        let reduced: CapsHashSet = current.intersection(&kept).copied().collect();
        caps::set(None, set, &reduced).map_err(|e| fail(Errno::EPERM, format!("{set:?}: {e}")))?;
    }
    Ok(())
}

/// Forbid gaining privileges through setuid binaries or file capabilities.
pub(crate) fn no_new_privileges() -> Step {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if rc != 0 {
        return Err(StepError {
            step: SetupStep::NoNewPrivileges,
            errno: Errno::last(),
            detail: String::new(),
        });
    }
    Ok(())
}
