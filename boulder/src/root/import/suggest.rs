//! Which Debian package would provide a request the host lacks, found
//! offline: apt's `Contents` lists when apt keeps them (`apt-file update`),
//! else a small table of common build dependencies, else Debian's naming
//! conventions checked against the package lists apt already has.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use super::arch::HOST;
use super::lookup::debian_counterparts;

/// Requests whose Debian package the conventions below do not guess.
const TABLE: &str = include_str!("apt-suggestions.tsv");

/// The `/usr`-less paths (as `Contents` spells them) that would satisfy
/// `kind(name)`.
fn contents_paths(kind: &str, name: &str) -> Vec<String> {
    match kind {
        "binary" => vec![format!("usr/bin/{name}"), format!("usr/sbin/{name}")],
        "sysbinary" => vec![format!("usr/sbin/{name}")],
        "pkgconfig" => vec![
            format!("usr/lib/{}/pkgconfig/{name}.pc", HOST.multiarch),
            format!("usr/lib/pkgconfig/{name}.pc"),
            format!("usr/share/pkgconfig/{name}.pc"),
        ],
        "pkgconfig32" => HOST
            .multiarch32
            .map(|dir| format!("usr/lib/{dir}/pkgconfig/{name}.pc"))
            .into_iter()
            .collect(),
        "soname" => {
            let suffix = format!("({})", HOST.name);
            let file = name.strip_suffix(suffix.as_str()).unwrap_or(name);
            vec![format!("usr/lib/{}/{file}", HOST.multiarch)]
        }
        "perl" => vec![format!("usr/share/perl5/{}.pm", name.replace("::", "/"))],
        _ => Vec::new(),
    }
}

/// Looks the paths up in apt's Contents lists (any compression apt reads).
fn from_contents(lists: &Path, paths: &[String]) -> Option<String> {
    if paths.is_empty() {
        return None;
    }
    let entries = std::fs::read_dir(lists).ok()?;
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if !file.contains("Contents-amd64") && !file.contains("Contents-all") {
            continue;
        }
        let Ok(output) = Command::new("/usr/lib/apt/apt-helper")
            .arg("cat-file")
            .arg(entry.path())
            .output()
        else {
            continue;
        };
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Some((path, owners)) = line.rsplit_once(char::is_whitespace) else {
                continue;
            };
            if paths.iter().any(|p| p == path.trim_end()) {
                let first = owners.split(',').next()?;
                return first.rsplit('/').next().map(str::to_string);
            }
        }
    }
    None
}

/// Whether apt's package lists know `name` (no network: `apt-cache` reads
/// what `apt-get update` left).
fn apt_knows(name: &str) -> bool {
    Command::new("apt-cache")
        .args(["show", "--no-all-versions", name])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Debian's usual names for a request, most likely first.
fn conventional(kind: &str, name: &str) -> Vec<String> {
    let lower = name.to_lowercase();
    match kind {
        "binary" | "sysbinary" => vec![lower],
        "pkgconfig" | "cmake" => {
            let stem = lower.trim_start_matches("lib");
            vec![
                format!("lib{stem}-dev"),
                format!("{lower}-dev"),
                format!("lib{}-dev", stem.split('-').next().unwrap_or(stem)),
            ]
        }
        "python" | "python3" => vec![format!("python3-{}", lower.replace('_', "-"))],
        "perl" => vec![format!("lib{}-perl", lower.replace("::", "-"))],
        "name" => {
            let mut names: Vec<String> = debian_counterparts(name)
                .into_iter()
                .map(str::to_string)
                .collect();
            names.push(lower);
            names
        }
        _ => Vec::new(),
    }
}

/// The Debian package to install for `request`, when it can be known offline.
pub fn apt_package(request: &str, apt_lists: &Path) -> Option<String> {
    let request = request.trim();
    let table: HashMap<&str, &str> = TABLE
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect();
    if let Some(package) = table.get(request) {
        return Some(package.trim().to_string());
    }
    let (kind, name) = match request.split_once('(') {
        Some((kind, rest)) => (kind, rest.strip_suffix(')').unwrap_or(rest)),
        None => ("name", request),
    };
    if let Some(found) = from_contents(apt_lists, &contents_paths(kind, name)) {
        return Some(found);
    }
    conventional(kind, name).into_iter().find(|n| apt_knows(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_common_tools() {
        let none = Path::new("/nonexistent");
        assert_eq!(
            apt_package("binary(ninja)", none).as_deref(),
            Some("ninja-build")
        );
        assert_eq!(
            apt_package("pkgconfig(zlib)", none).as_deref(),
            Some("zlib1g-dev")
        );
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            let (request, package) = line.split_once('\t').expect("a tab in every line");
            assert!(request.ends_with(')') && request.contains('('), "{line}");
            assert!(
                !package.trim().is_empty() && !package.contains(' '),
                "{line}"
            );
        }
    }

    #[test]
    fn conventions_give_debian_names() {
        assert_eq!(conventional("binary", "meson"), vec!["meson".to_string()]);
        assert_eq!(conventional("pkgconfig", "libsystemd")[0], "libsystemd-dev");
        assert_eq!(
            conventional("python", "ply"),
            vec!["python3-ply".to_string()]
        );
        assert_eq!(
            conventional("perl", "Class::Inspector"),
            vec!["libclass-inspector-perl".to_string()]
        );
        assert_eq!(conventional("name", "zlib-devel")[0], "zlib1g-dev");
    }

    #[test]
    #[cfg_attr(lacks_apt_helper, ignore = "needs apt's apt-helper")]
    fn contents_lines_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("deb.example_dists_x_main_Contents-amd64"),
            "usr/bin/meson                                   python/meson\nusr/bin/x  a/b,c/d\n",
        )
        .expect("write");
        if !Path::new("/usr/lib/apt/apt-helper").exists() {
            return test_support::missing(
                "contents_lines_are_read",
                "apt-helper (apt) is not installed",
            );
        }
        assert_eq!(
            from_contents(dir.path(), &contents_paths("binary", "meson")).as_deref(),
            Some("meson")
        );
        assert_eq!(
            from_contents(dir.path(), &["usr/bin/x".to_string()]).as_deref(),
            Some("b")
        );
    }
}
