//! What dpkg knows about the host: installed packages and their relations
//! (`dpkg-query`), each package's file list (`info/<pkg>.list`), diversions
//! and the alternatives links (`/etc/alternatives`).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::super::RootError;

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgPackage {
    /// `Package` (without an architecture qualifier).
    pub name: String,
    /// `binary:Package`, which names the `.list` file (`libc6:amd64`).
    pub key: String,
    pub version: String,
    pub architecture: String,
    /// Pre-Depends and Depends: groups of alternatives, names only.
    pub depends: Vec<Vec<String>>,
    /// Virtual packages it provides.
    pub provides: Vec<String>,
}

/// Where dpkg keeps its database (`/var/lib/dpkg`).
pub fn admin_dir() -> PathBuf {
    PathBuf::from("/var/lib/dpkg")
}

/// Names of the alternatives a `Depends` group offers, without versions or
/// architecture qualifiers.
fn parse_relations(field: &str) -> Vec<Vec<String>> {
    field
        .split(',')
        .map(|group| {
            group
                .split('|')
                .filter_map(|alt| {
                    let name = alt.trim().split([' ', '(', '[']).next()?.trim();
                    let name = name.split(':').next()?;
                    (!name.is_empty()).then(|| name.to_string())
                })
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// Every installed package of the native architecture (or `all`).
pub fn installed() -> Result<BTreeMap<String, DpkgPackage>, RootError> {
    let native = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "amd64".into());
    let output = Command::new("dpkg-query")
        .args([
            "-W",
            "-f=${binary:Package}\t${Package}\t${Version}\t${db:Status-Abbrev}\t${Architecture}\t${Pre-Depends}\t${Depends}\t${Provides}\n",
        ])
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                RootError::NoDpkg
            } else {
                RootError::Import(format!("running dpkg-query: {e}"))
            }
        })?;
    if !output.status.success() {
        return Err(RootError::Import(format!(
            "dpkg-query failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let mut packages = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 8 || !f[3].starts_with("ii") && !f[3].starts_with("hi") {
            continue;
        }
        if f[4] != native && f[4] != "all" {
            continue;
        }
        let mut depends = parse_relations(f[5]);
        depends.extend(parse_relations(f[6]));
        let provides = parse_relations(f[7]).into_iter().flatten().collect();
        packages.insert(
            f[1].to_string(),
            DpkgPackage {
                name: f[1].to_string(),
                key: f[0].to_string(),
                version: f[2].to_string(),
                architecture: f[4].to_string(),
                depends,
                provides,
            },
        );
    }
    Ok(packages)
}

/// The installed packages `seeds` need, dependencies included. A seed that
/// is not installed (and no installed package provides) is returned in the
/// second list.
pub fn closure(
    installed: &BTreeMap<String, DpkgPackage>,
    seeds: &[&str],
) -> (BTreeSet<String>, Vec<String>) {
    let mut providers: HashMap<&str, Vec<&str>> = HashMap::new();
    for pkg in installed.values() {
        for virt in &pkg.provides {
            providers.entry(virt).or_default().push(&pkg.name);
        }
    }
    let pick = |name: &str| -> Option<String> {
        if installed.contains_key(name) {
            return Some(name.to_string());
        }
        providers
            .get(name)
            .and_then(|p| p.first())
            .map(|p| p.to_string())
    };
    let mut chosen = BTreeSet::new();
    let mut missing = Vec::new();
    let mut queue = VecDeque::new();
    for seed in seeds {
        match pick(seed) {
            Some(name) => queue.push_back(name),
            None => missing.push(seed.to_string()),
        }
    }
    while let Some(name) = queue.pop_front() {
        if !chosen.insert(name.clone()) {
            continue;
        }
        for group in &installed[&name].depends {
            if group.iter().any(|alt| chosen.contains(alt)) {
                continue;
            }
            if let Some(found) = group.iter().find_map(|alt| pick(alt)) {
                queue.push_back(found);
            }
        }
    }
    (chosen, missing)
}

/// The paths a package installed, as its `.list` file names them.
pub fn file_list(admin: &Path, pkg: &DpkgPackage) -> Result<Vec<String>, RootError> {
    file_list_text(admin, pkg).map(|text| text.lines().map(str::to_string).collect())
}

/// A package's `.list` file as it is: one path a line.
pub fn file_list_text(admin: &Path, pkg: &DpkgPackage) -> Result<String, RootError> {
    let candidates = [
        admin.join(format!("info/{}.list", pkg.key)),
        admin.join(format!("info/{}.list", pkg.name)),
        admin.join(format!("info/{}:{}.list", pkg.name, pkg.architecture)),
    ];
    for path in &candidates {
        if let Ok(text) = fs::read_to_string(path) {
            return Ok(text);
        }
    }
    Err(RootError::Import(format!(
        "no file list for {} in {}",
        pkg.key,
        admin.join("info").display()
    )))
}

/// A diversion: `from` of every package but `by` lives at `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diversion {
    pub to: String,
    /// `None` for a local (administrator's) diversion.
    pub by: Option<String>,
}

/// dpkg's diversions file: groups of three lines (from, to, package or `:`).
pub fn diversions(admin: &Path) -> HashMap<String, Diversion> {
    let Ok(text) = fs::read_to_string(admin.join("diversions")) else {
        return HashMap::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(3)
        .filter(|c| c.len() == 3)
        .map(|c| {
            let by = (c[2] != ":").then(|| c[2].to_string());
            (
                c[0].to_string(),
                Diversion {
                    to: c[1].to_string(),
                    by,
                },
            )
        })
        .collect()
}

/// Every alternatives link: (link path, the final file it currently means).
pub fn alternatives(admin: &Path) -> Vec<(String, String)> {
    let mut links = Vec::new();
    let Ok(entries) = fs::read_dir(admin.join("alternatives")) else {
        return links;
    };
    for entry in entries.flatten() {
        let Ok(text) = fs::read_to_string(entry.path()) else {
            continue;
        };
        let mut lines = text.lines();
        let _mode = lines.next();
        let Some(master) = lines.next() else { continue };
        let master_name = entry.file_name().to_string_lossy().into_owned();
        let mut pairs = vec![(master_name, master.to_string())];
        while let Some(name) = lines.next().filter(|l| !l.is_empty()) {
            let Some(link) = lines.next() else { break };
            pairs.push((name.to_string(), link.to_string()));
        }
        for (name, link) in pairs {
            if let Some(target) = resolve_alternative(&format!("/etc/alternatives/{name}")) {
                links.push((link, target));
            }
        }
    }
    links.sort();
    links
}

/// Follows `/etc/alternatives/…` links to the file they finally name.
pub fn resolve_alternative(path: &str) -> Option<String> {
    let mut current = path.to_string();
    for _ in 0..8 {
        if !current.starts_with("/etc/alternatives/") {
            return Some(current);
        }
        let target = fs::read_link(&current).ok()?;
        let target = target.to_str()?.to_string();
        current = if target.starts_with('/') {
            target
        } else {
            let dir = Path::new(&current).parent()?.to_str()?.to_string();
            format!("{dir}/{target}")
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_keep_names_only() {
        assert_eq!(
            parse_relations("libc6 (>= 2.34), awk | mawk:any, perl:any [amd64]"),
            vec![
                vec!["libc6".to_string()],
                vec!["awk".to_string(), "mawk".to_string()],
                vec!["perl".to_string()]
            ]
        );
        assert!(parse_relations("").is_empty());
    }

    #[test]
    fn closure_follows_alternatives_and_virtuals() {
        let pkg = |name: &str, deps: &str, provides: &str| DpkgPackage {
            name: name.into(),
            key: name.into(),
            version: "1".into(),
            architecture: "amd64".into(),
            depends: parse_relations(deps),
            provides: parse_relations(provides).into_iter().flatten().collect(),
        };
        let installed: BTreeMap<String, DpkgPackage> = [
            pkg("a", "b | c, awk", ""),
            pkg("c", "", ""),
            pkg("mawk", "", "awk"),
            pkg("unrelated", "", ""),
        ]
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
        let (chosen, missing) = closure(&installed, &["a", "gawk"]);
        assert_eq!(
            chosen.into_iter().collect::<Vec<_>>(),
            vec!["a".to_string(), "c".into(), "mawk".into()]
        );
        assert_eq!(missing, vec!["gawk".to_string()]);
    }
}
