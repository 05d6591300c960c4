//! What a root needs besides `/usr` for host programs to run: the merged-`/usr`
//! links, a minimal `/etc`, and the directories the sandbox mounts over
//! (created here, so a finished root is never written again).

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use super::RootError;

/// Bump when the skeleton changes, so older roots are not reused.
pub const SKELETON_VERSION: u32 = 1;

const LINKS: [(&str, &str); 4] = [
    ("bin", "usr/bin"),
    ("sbin", "usr/sbin"),
    ("lib", "usr/lib"),
    ("lib64", "usr/lib64"),
];

const DIRS: [(&str, u32); 14] = [
    ("etc", 0o755),
    ("dev", 0o755),
    ("proc", 0o755),
    ("sys", 0o755),
    ("tmp", 0o1777),
    ("run", 0o755),
    ("var", 0o755),
    ("var/tmp", 0o1777),
    ("root", 0o700),
    ("mason", 0o755),
    ("mason/build", 0o755),
    ("mason/install", 0o755),
    ("mason/artefacts", 0o755),
    ("mason/ccache", 0o755),
];

const EXTRA_DIRS: [&str; 3] = ["mason/recipe", "mason/sourcedir", "mason/verify"];

const FILES: [(&str, &str); 6] = [
    (
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    ),
    ("etc/group", "root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n"),
    (
        "etc/hosts",
        "127.0.0.1\tlocalhost boulder\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    ),
    (
        "etc/nsswitch.conf",
        "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nservices: files\nprotocols: files\n",
    ),
    // Debian's libraries live in multiarch directories the loader finds through this.
    (
        "etc/ld.so.conf",
        "/usr/local/lib\n/usr/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n",
    ),
    (
        "etc/os-release",
        "NAME=\"boulder build root\"\nID=boulder-root\nPRETTY_NAME=\"boulder build root\"\n",
    ),
];

/// Writes the skeleton into `root` (which already holds `usr`).
pub fn write(root: &Path) -> Result<(), RootError> {
    for (link, target) in LINKS {
        let path = root.join(link);
        symlink(target, &path).map_err(RootError::io("linking", &path))?;
    }
    for (dir, mode) in DIRS {
        let path = root.join(dir);
        fs::create_dir_all(&path).map_err(RootError::io("creating", &path))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))
            .map_err(RootError::io("setting the mode of", &path))?;
    }
    for dir in EXTRA_DIRS {
        let path = root.join(dir);
        fs::create_dir_all(&path).map_err(RootError::io("creating", &path))?;
    }
    for (file, text) in FILES {
        let path = root.join(file);
        fs::write(&path, text).map_err(RootError::io("writing", &path))?;
    }
    let resolv = root.join("etc/resolv.conf");
    fs::write(&resolv, "").map_err(RootError::io("writing", &resolv))?;
    Ok(())
}

/// A path of a profile's `links` or `files`: relative, inside the root.
fn inside(root: &Path, path: &str) -> Result<std::path::PathBuf, RootError> {
    let relative = Path::new(path);
    let ok = !path.is_empty()
        && relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !ok {
        return Err(RootError::Import(format!(
            "profile path `{path}` is not a relative path inside the root"
        )));
    }
    Ok(root.join(relative))
}

/// The profile's extra files, with their parent directories (mode 0644).
pub fn write_files(
    root: &Path,
    files: &std::collections::BTreeMap<String, String>,
) -> Result<(), RootError> {
    for (file, content) in files {
        let path = inside(root, file)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(RootError::io("creating", parent))?;
        }
        if fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        fs::write(&path, content).map_err(RootError::io("writing", &path))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
            .map_err(RootError::io("setting the mode of", &path))?;
    }
    Ok(())
}

/// The profile's extra links (`usr/lib/boulder/lld/ld` → `/usr/bin/ld.lld`),
/// with their parent directories. Paths are relative and stay in the root.
pub fn write_links(
    root: &Path,
    links: &std::collections::BTreeMap<String, String>,
) -> Result<(), RootError> {
    for (link, target) in links {
        let path = inside(root, link)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(RootError::io("creating", parent))?;
        }
        if fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        symlink(target, &path).map_err(RootError::io("linking", &path))?;
    }
    Ok(())
}
