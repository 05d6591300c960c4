//! From trigger files and a tree to an ordered list of handler runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::format::{Handler, PathType, Trigger};
use super::pattern::substitute;
use super::{Scope, TriggerError};

/// One path of a tree as handlers see it (`/usr/...`), with its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreePath {
    pub path: String,
    pub kind: Option<PathType>,
}

/// A handler with its captures substituted: what actually runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Execute `argv[0]` with the arguments.
    Run(Vec<String>),
    /// Delete these paths (files or whole directories).
    Delete(Vec<String>),
}

/// A trigger that matched, with its distinct actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub trigger: String,
    /// `(handler name, action)`, sorted, each distinct once.
    pub actions: Vec<(String, Action)>,
}

/// The environments a trigger can be inhibited in, as detected for this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    pub names: BTreeSet<String>,
}

impl Environment {
    /// `chroot` when operating on a root other than `/`, `live` on live
    /// media, `container` inside a container.
    pub fn detect(root: &Path) -> Self {
        let mut names = BTreeSet::new();
        let is_host_root = fs::canonicalize(root).is_ok_and(|r| r == Path::new("/"));
        if !is_host_root {
            names.insert("chroot".to_string());
        }
        if Path::new("/run/initramfs/live").exists()
            || fs::read_to_string("/proc/cmdline").is_ok_and(|c| c.contains("rd.live.image"))
        {
            names.insert("live".to_string());
        }
        if Path::new("/run/.containerenv").exists() || Path::new("/.dockerenv").exists() {
            names.insert("container".to_string());
        }
        Self { names }
    }
}

/// Trigger files of `scope` in the tree `usr` (`share/moss/triggers/tx.yaml`
/// and `tx.d/*.yaml`, or `sys…`), in file-name order. KDL files are
/// reported in the returned warnings and skipped.
pub fn load(usr: &Path, scope: Scope) -> Result<(Vec<Trigger>, Vec<String>), TriggerError> {
    let base = usr.join("share/moss/triggers");
    let stem = scope.stem();
    let mut files = vec![
        base.join(format!("{stem}.yaml")),
        base.join(format!("{stem}.kdl")),
    ];
    let dir = base.join(format!("{stem}.d"));
    match fs::read_dir(&dir) {
        Ok(entries) => {
            let mut found: Vec<PathBuf> = Vec::new();
            for entry in entries {
                found.push(entry.map_err(io_err("listing", &dir))?.path());
            }
            found.sort();
            files.extend(found);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("listing", &dir)(e)),
    }
    let mut triggers: Vec<Trigger> = Vec::new();
    let mut warnings = Vec::new();
    for file in files {
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "yaml" | "kdl") || !file.is_file() {
            continue;
        }
        if ext == "kdl" {
            warnings.push(format!(
                "{}: KDL trigger files are not supported; skipped",
                file.display()
            ));
            continue;
        }
        let text = fs::read_to_string(&file).map_err(io_err("reading", &file))?;
        let trigger = Trigger::parse(&text, &file)?;
        if triggers.iter().any(|t| t.name == trigger.name) {
            return Err(TriggerError::Invalid {
                path: file,
                why: format!("a trigger named {:?} is already defined", trigger.name),
            });
        }
        triggers.push(trigger);
    }
    Ok((triggers, warnings))
}

/// Every path of the tree `usr` as `/usr/…` (plus `/` and `/usr`), without
/// following symlinks and without the state's own files (marker, os-release,
/// system model).
pub fn tree_paths(usr: &Path) -> Result<Vec<TreePath>, TriggerError> {
    let mut out = vec![TreePath {
        path: "/".into(),
        kind: Some(PathType::Directory),
    }];
    for entry in walkdir::WalkDir::new(usr).follow_links(false) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(usr).to_path_buf();
            io_err("walking", &path)(e.into())
        })?;
        let rel = entry.path().strip_prefix(usr).unwrap_or(entry.path());
        let rel = rel.to_string_lossy();
        // The state's own files are no package's: triggers never see them.
        if rel == crate::installation::STATE_ID_FILE
            || rel == crate::state::release::OS_RELEASE
            || rel == crate::state::release::SYSTEM_MODEL
        {
            continue;
        }
        let path = if rel.is_empty() {
            "/usr".to_string()
        } else {
            format!("/usr/{rel}")
        };
        let ft = entry.file_type();
        let kind = if ft.is_dir() {
            Some(PathType::Directory)
        } else if ft.is_symlink() {
            Some(PathType::Symlink)
        } else if ft.is_file() {
            Some(PathType::Regular)
        } else {
            None
        };
        out.push(TreePath { path, kind });
    }
    Ok(out)
}

/// The paths [`tree_paths`] would find in a `usr` that holds exactly `tree`
/// (devices and other special files are not materialised, so not listed).
pub fn paths_of(tree: &crate::tree::Tree) -> Vec<TreePath> {
    use crate::tree::NodeKind;
    let mut out = Vec::with_capacity(tree.len() + 1);
    out.push(TreePath {
        path: "/".into(),
        kind: Some(PathType::Directory),
    });
    for node in tree.nodes() {
        let kind = match node.kind {
            NodeKind::Directory { .. } => PathType::Directory,
            NodeKind::File { .. } => PathType::Regular,
            NodeKind::Symlink { .. } => PathType::Symlink,
            NodeKind::Special { .. } => continue,
        };
        let path = if node.path.is_empty() {
            "/usr".to_string()
        } else {
            format!("/usr/{}", node.path)
        };
        out.push(TreePath {
            path,
            kind: Some(kind),
        });
    }
    out
}

/// Whether `trigger` is inhibited; `exists` tells whether a guest path exists.
pub fn inhibited(
    trigger: &Trigger,
    env: &Environment,
    exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    if let Some(name) = trigger
        .inhibitors
        .environment
        .iter()
        .find(|n| env.names.contains(*n))
    {
        return Some(format!("environment {name}"));
    }
    trigger
        .inhibitors
        .paths
        .iter()
        .find(|p| exists(p))
        .map(|p| format!("path {p} exists"))
}

/// Matches every path against every rule and returns the jobs of the
/// triggers that matched, ordered by `before`/`after`.
pub fn plan(triggers: &[Trigger], paths: &[TreePath]) -> Result<Vec<Job>, TriggerError> {
    let mut jobs: BTreeMap<&str, BTreeSet<(String, Action)>> = BTreeMap::new();
    for trigger in triggers {
        for rule in &trigger.paths {
            for tree_path in paths {
                if rule.kind.is_some() && rule.kind != tree_path.kind {
                    continue;
                }
                let Some(captures) = rule.pattern.matches(&tree_path.path) else {
                    continue;
                };
                let set = jobs.entry(&trigger.name).or_default();
                for name in &rule.handlers {
                    let sub = |t: &String| substitute(t, &captures);
                    // Loading checked the names; a hand-built Trigger may not have.
                    let Some(handler) = trigger.handlers.get(name) else {
                        continue;
                    };
                    let action = match handler {
                        Handler::Run { run, args } => {
                            Action::Run(std::iter::once(run).chain(args).map(sub).collect())
                        }
                        Handler::Delete { delete } => {
                            Action::Delete(delete.iter().map(sub).collect())
                        }
                    };
                    set.insert((name.clone(), action));
                }
            }
        }
    }
    let order = order(triggers)?;
    Ok(order
        .into_iter()
        .filter_map(|name| {
            jobs.remove(name.as_str()).map(|set| Job {
                trigger: name,
                actions: set.into_iter().collect(),
            })
        })
        .collect())
}

/// Trigger names in an order honouring every `before`/`after` (ties by
/// name); names of triggers that are not loaded are ignored.
pub fn order(triggers: &[Trigger]) -> Result<Vec<String>, TriggerError> {
    let known: BTreeSet<&str> = triggers.iter().map(|t| t.name.as_str()).collect();
    // edges: a → b means a runs before b.
    let mut incoming: BTreeMap<&str, BTreeSet<&str>> =
        known.iter().map(|n| (*n, BTreeSet::new())).collect();
    for t in triggers {
        if let Some(b) = t.before.as_deref().filter(|b| known.contains(b)) {
            incoming.entry(b).or_default().insert(&t.name);
        }
        if let Some(a) = t.after.as_deref().filter(|a| known.contains(a)) {
            incoming.entry(&t.name).or_default().insert(a);
        }
    }
    let mut out: Vec<String> = Vec::new();
    while !incoming.is_empty() {
        let ready: Option<&str> = incoming
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(n, _)| *n);
        let Some(next) = ready else {
            let cycle: Vec<&str> = incoming.keys().copied().collect();
            return Err(TriggerError::Cycle(cycle.join(", ")));
        };
        incoming.remove(next);
        for deps in incoming.values_mut() {
            deps.remove(next);
        }
        out.push(next.to_string());
    }
    Ok(out)
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> TriggerError + 'a {
    move |source| TriggerError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(yaml: &str) -> Trigger {
        Trigger::parse(yaml, Path::new("t.yaml")).unwrap()
    }

    fn dir(p: &str) -> TreePath {
        TreePath {
            path: p.into(),
            kind: Some(PathType::Directory),
        }
    }

    #[test]
    fn one_action_per_distinct_capture_and_type_filter() {
        let t = trigger(
            "name: k\nhandlers:\n  h:\n    run: /usr/bin/h\n    args: [\"$(v)\"]\n\
             paths:\n  \"/usr/m/(v:*)/k**\":\n    handlers: [h]\n    type: directory\n",
        );
        let paths = vec![
            dir("/usr/m/1/k"),
            dir("/usr/m/1/k/sub"),
            dir("/usr/m/2/k"),
            TreePath {
                path: "/usr/m/3/k".into(),
                kind: Some(PathType::Symlink),
            },
        ];
        let jobs = plan(&[t], &paths).unwrap();
        assert_eq!(jobs.len(), 1);
        let argvs: Vec<_> = jobs[0].actions.iter().map(|(_, a)| a.clone()).collect();
        assert_eq!(
            argvs,
            [
                Action::Run(vec!["/usr/bin/h".into(), "1".into()]),
                Action::Run(vec!["/usr/bin/h".into(), "2".into()]),
            ]
        );
    }

    #[test]
    fn before_and_after_order_triggers() {
        let mk = |name: &str, extra: &str| {
            trigger(&format!(
                "name: {name}\n{extra}handlers:\n  h:\n    run: /x\npaths:\n  \"/usr\":\n    handlers: [h]\n"
            ))
        };
        let ts = [
            mk("a", "after: c\n"),
            mk("b", "before: c\n"),
            mk("c", ""),
            mk("d", "before: zz-missing\n"),
        ];
        assert_eq!(order(&ts).unwrap(), ["b", "c", "a", "d"]);
        let jobs = plan(&ts, &[dir("/usr")]).unwrap();
        let names: Vec<_> = jobs.iter().map(|j| j.trigger.as_str()).collect();
        assert_eq!(names, ["b", "c", "a", "d"]);
        let cyclic = [mk("x", "after: y\n"), mk("y", "after: x\n")];
        assert!(matches!(order(&cyclic), Err(TriggerError::Cycle(_))));
    }

    #[test]
    fn inhibitors_by_environment_and_path() {
        let t = trigger(
            "name: t\ninhibitors:\n  paths: [/etc/skip]\n  environment: [live]\nhandlers: {}\n",
        );
        let mut env = Environment::default();
        assert_eq!(inhibited(&t, &env, &|_| false), None);
        assert!(inhibited(&t, &env, &|p| p == "/etc/skip").is_some());
        env.names.insert("live".into());
        assert_eq!(
            inhibited(&t, &env, &|_| false).as_deref(),
            Some("environment live")
        );
    }
}
