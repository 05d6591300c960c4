//! Which host ids become which ids inside the sandbox, and writing that map
//! for a process that has just entered its new user namespace.
//!
//! Three cases, chosen once per call by [`IdMapping::detect`]:
//! * the caller is root: host ids map to themselves (the whole 32-bit range),
//!   so files keep their real owners and `chown` works;
//! * `/etc/subuid` + `/etc/subgid` give the user a range and the setuid
//!   helpers `newuidmap`/`newgidmap` exist: the caller becomes 0 and the range
//!   becomes 1..=count;
//! * otherwise the caller alone becomes 0 ([`IdMapping::limitation`] says what
//!   that cannot do).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::unistd::{Gid, Pid, Uid, User};

use super::error::{Result, SandboxError};

/// A contiguous range of subordinate ids from `/etc/subuid` or `/etc/subgid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubIdRange {
    pub start: u32,
    pub count: u32,
}

/// How the sandbox's ids relate to the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMapping {
    /// The caller is root: every id maps to itself.
    Identity,
    /// The caller maps to 0 and a subordinate range to 1..=count.
    Subordinate {
        uid: u32,
        gid: u32,
        uids: SubIdRange,
        gids: SubIdRange,
        newuidmap: PathBuf,
        newgidmap: PathBuf,
    },
    /// Only the caller exists inside, as 0.
    SingleId { uid: u32, gid: u32 },
}

/// What a single-id sandbox cannot do; shown once to the user.
pub const SINGLE_ID_LIMITATION: &str = "the sandbox maps only your own user to root (no subordinate id \
range usable through newuidmap/newgidmap): files can only belong to root inside, so chown/chgrp to other \
users or groups fails with EINVAL. Install the `uidmap` package and give your user a range in /etc/subuid \
and /etc/subgid to lift this.";

impl IdMapping {
    /// Decide the mapping for the calling user from `/etc/subuid`, `/etc/subgid`
    /// and the helpers found on the host.
    pub fn detect() -> Self {
        let uid = Uid::current();
        let gid = Gid::current();
        if uid.is_root() {
            return IdMapping::Identity;
        }
        let name = User::from_uid(uid).ok().flatten().map(|u| u.name);
        let find = |file: &str| {
            let text = fs::read_to_string(file).ok()?;
            subordinate_range(&text, name.as_deref(), uid.as_raw())
        };
        let helpers = (find_helper("newuidmap"), find_helper("newgidmap"));
        match (find("/etc/subuid"), find("/etc/subgid"), helpers) {
            (Some(uids), Some(gids), (Some(newuidmap), Some(newgidmap))) => {
                IdMapping::Subordinate {
                    uid: uid.as_raw(),
                    gid: gid.as_raw(),
                    uids,
                    gids,
                    newuidmap,
                    newgidmap,
                }
            }
            _ => IdMapping::SingleId {
                uid: uid.as_raw(),
                gid: gid.as_raw(),
            },
        }
    }

    /// The text to show once when this mapping cannot do everything a build may need.
    /// What [`apply`](Self::apply) falls back to when the setuid helpers fail.
    pub(crate) fn fallback(&self) -> IdMapping {
        match self {
            IdMapping::Subordinate { uid, gid, .. } => IdMapping::SingleId {
                uid: *uid,
                gid: *gid,
            },
            other => other.clone(),
        }
    }

    pub fn limitation(&self) -> Option<&'static str> {
        match self {
            IdMapping::SingleId { .. } => Some(SINGLE_ID_LIMITATION),
            _ => None,
        }
    }

    /// Write this mapping for `pid`, which has just unshared its user namespace.
    /// Returns the mapping really applied: when the setuid helpers fail, this
    /// falls back to the single-id map.
    pub(crate) fn apply(&self, pid: Pid) -> Result<IdMapping> {
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        match self {
            IdMapping::Identity => {
                write_map(&proc_dir.join("uid_map"), "0 0 4294967295\n")?;
                write_map(&proc_dir.join("gid_map"), "0 0 4294967295\n")?;
                Ok(self.clone())
            }
            IdMapping::Subordinate {
                uid,
                gid,
                uids,
                gids,
                newuidmap,
                newgidmap,
            } => {
                let single = self.fallback();
                if run_helper(newuidmap, pid, *uid, *uids).is_err() {
                    return single.apply(pid);
                }
                if run_helper(newgidmap, pid, *gid, *gids).is_err() {
                    write_map(&proc_dir.join("setgroups"), "deny\n")?;
                    write_map(&proc_dir.join("gid_map"), &format!("0 {gid} 1\n"))?;
                }
                Ok(self.clone())
            }
            IdMapping::SingleId { uid, gid } => {
                write_map(&proc_dir.join("uid_map"), &format!("0 {uid} 1\n"))?;
                // An unprivileged gid_map is only accepted once setgroups is denied.
                write_map(&proc_dir.join("setgroups"), "deny\n")?;
                write_map(&proc_dir.join("gid_map"), &format!("0 {gid} 1\n"))?;
                Ok(self.clone())
            }
        }
    }
}

/// Find the user's first range in a subuid/subgid file (`name:start:count`,
/// where the first field may also be the numeric id).
pub fn subordinate_range(text: &str, name: Option<&str>, id: u32) -> Option<SubIdRange> {
    let id_text = id.to_string();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut f = line.split(':');
            let (owner, start, count) = (f.next()?, f.next()?, f.next()?);
            let mine = owner == id_text || Some(owner) == name;
            let range = SubIdRange {
                start: start.trim().parse().ok()?,
                count: count.trim().parse().ok()?,
            };
            (mine && range.count > 0 && range.start.checked_add(range.count).is_some())
                .then_some(range)
        })
        .next()
}

fn find_helper(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn run_helper(helper: &Path, pid: Pid, own: u32, range: SubIdRange) -> io::Result<()> {
    let status = Command::new(helper)
        .arg(pid.to_string())
        .args(["0", &own.to_string(), "1"])
        .args(["1", &range.start.to_string(), &range.count.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{} exited with {status}",
            helper.display()
        )))
    }
}

fn write_map(path: &Path, content: &str) -> Result<()> {
    fs::write(path, content).map_err(|source| SandboxError::IdMap {
        what: format!("write {:?} to {}", content.trim_end(), path.display()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBUID: &str =
        "# comment\nalice:100000:65536\n1001:200000:1000\nbob:x:5\n\ncarol:300000:0\n";

    #[test]
    fn finds_ranges_by_name_or_id() {
        assert_eq!(
            subordinate_range(SUBUID, Some("alice"), 1000),
            Some(SubIdRange {
                start: 100000,
                count: 65536
            })
        );
        assert_eq!(
            subordinate_range(SUBUID, Some("nobody-here"), 1001),
            Some(SubIdRange {
                start: 200000,
                count: 1000
            })
        );
    }

    #[test]
    fn rejects_malformed_and_empty_ranges() {
        assert_eq!(subordinate_range(SUBUID, Some("bob"), 5), None);
        assert_eq!(subordinate_range(SUBUID, Some("carol"), 6), None);
        assert_eq!(
            subordinate_range("dave:4294967295:2\n", Some("dave"), 7),
            None
        );
        assert_eq!(subordinate_range("", None, 0), None);
    }

    #[test]
    fn root_maps_to_itself_and_others_get_a_limitation_only_when_single() {
        let detected = IdMapping::detect();
        if Uid::current().is_root() {
            assert_eq!(detected, IdMapping::Identity);
        }
        match &detected {
            IdMapping::SingleId { .. } => assert!(detected.limitation().is_some()),
            _ => assert!(detected.limitation().is_none()),
        }
    }
}
