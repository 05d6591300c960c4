//! The YAML trigger file format of the original moss, and its compiled form.
//!
//! ```yaml
//! name: depmod
//! before: other-trigger        # optional, one trigger name
//! after: another-trigger       # optional, one trigger name
//! inhibitors:
//!     paths: [/etc/skip-depmod]  # the trigger does not run if one exists
//!     environment: [chroot, live]
//! handlers:
//!     depmod:
//!         run: /usr/bin/depmod
//!         args: ["-a", "$(version)"]
//!     cleanup:
//!         delete: ["/usr/lib/modules/$(version)/modules.dep.tmp"]
//! paths:
//!     "/usr/lib/modules/(version:*)/kernel":
//!         handlers: [depmod]
//!         type: directory
//! ```
//! Unknown keys (such as `needs`) are ignored, as the original does.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::pattern::{references, Pattern};
use super::TriggerError;

#[derive(Debug, Deserialize)]
struct RawTrigger {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    inhibitors: Inhibitors,
    #[serde(default)]
    handlers: BTreeMap<String, Handler>,
    #[serde(default)]
    paths: BTreeMap<String, RawPath>,
}

/// When a trigger must not run.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Inhibitors {
    /// Paths (as seen by the handlers); if any exists the trigger is skipped.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Environments (`chroot`, `live`, `container`) in which it is skipped.
    #[serde(default)]
    pub environment: Vec<String>,
}

/// What a handler does.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Handler {
    Run {
        run: String,
        #[serde(default)]
        args: Vec<String>,
    },
    Delete {
        delete: Vec<String>,
    },
}

impl Handler {
    fn texts(&self) -> Vec<&str> {
        match self {
            Handler::Run { run, args } => std::iter::once(run.as_str())
                .chain(args.iter().map(String::as_str))
                .collect(),
            Handler::Delete { delete } => delete.iter().map(String::as_str).collect(),
        }
    }
}

/// The kind of file a path pattern is limited to.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PathType {
    Directory,
    Symlink,
    Regular,
}

#[derive(Debug, Deserialize)]
struct RawPath {
    #[serde(default)]
    handlers: Vec<String>,
    #[serde(default, rename = "type")]
    kind: Option<PathType>,
}

/// One `paths` entry, compiled.
#[derive(Debug, Clone)]
pub struct PathRule {
    pub pattern: Pattern,
    pub handlers: Vec<String>,
    pub kind: Option<PathType>,
}

/// A loaded, checked trigger.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub name: String,
    pub description: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub inhibitors: Inhibitors,
    pub handlers: BTreeMap<String, Handler>,
    pub paths: Vec<PathRule>,
}

impl Trigger {
    /// Parses and checks one trigger file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, TriggerError> {
        let raw: RawTrigger =
            crate::yaml::from_str(text).map_err(|source| TriggerError::Parse {
                path: origin.to_path_buf(),
                source,
            })?;
        let invalid = |why: String| TriggerError::Invalid {
            path: origin.to_path_buf(),
            why,
        };
        if raw.name.trim().is_empty() {
            return Err(invalid("the trigger has an empty name".into()));
        }
        let mut paths = Vec::new();
        for (source, rule) in raw.paths {
            let pattern = Pattern::new(&source)?;
            if rule.handlers.is_empty() {
                return Err(invalid(format!("path {source:?} names no handler")));
            }
            for name in &rule.handlers {
                let handler = raw.handlers.get(name).ok_or_else(|| {
                    invalid(format!("path {source:?} uses the unknown handler {name:?}"))
                })?;
                // Every `$(var)` a handler uses must be captured by the pattern.
                for text in handler.texts() {
                    for var in references(text) {
                        if !pattern.capture_names().iter().any(|c| c == var) {
                            return Err(invalid(format!(
                                "handler {name:?} uses $({var}), which path {source:?} does not capture"
                            )));
                        }
                    }
                }
            }
            paths.push(PathRule {
                pattern,
                handlers: rule.handlers,
                kind: rule.kind,
            });
        }
        for (name, handler) in &raw.handlers {
            let empty = match handler {
                Handler::Run { run, .. } => run.is_empty(),
                Handler::Delete { delete } => delete.is_empty(),
            };
            if empty {
                return Err(invalid(format!(
                    "handler {name:?} has nothing to run or delete"
                )));
            }
        }
        Ok(Trigger {
            name: raw.name,
            description: raw.description,
            before: raw.before,
            after: raw.after,
            inhibitors: raw.inhibitors,
            handlers: raw.handlers,
            paths,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Trigger, TriggerError> {
        Trigger::parse(text, Path::new("test.yaml"))
    }

    #[test]
    fn full_trigger_parses() {
        let t = parse(
            "name: t\nbefore: a\nafter: b\nneeds: c\ninhibitors:\n  paths: [/etc/x]\n  environment: [live]\n\
             handlers:\n  h:\n    run: /usr/bin/h\n    args: [\"$(v)\"]\n  d:\n    delete: [\"/usr/$(v)\"]\n\
             paths:\n  \"/usr/(v:*)\":\n    handlers: [h, d]\n    type: symlink\n",
        )
        .unwrap();
        assert_eq!(t.before.as_deref(), Some("a"));
        assert_eq!(t.after.as_deref(), Some("b"));
        assert_eq!(t.inhibitors.paths, ["/etc/x"]);
        assert_eq!(t.inhibitors.environment, ["live"]);
        assert_eq!(
            t.handlers["h"],
            Handler::Run {
                run: "/usr/bin/h".into(),
                args: vec!["$(v)".into()]
            }
        );
        assert_eq!(
            t.handlers["d"],
            Handler::Delete {
                delete: vec!["/usr/$(v)".into()]
            }
        );
        assert_eq!(t.paths.len(), 1);
        assert_eq!(t.paths[0].kind, Some(PathType::Symlink));
    }

    #[test]
    fn mistakes_are_refused() {
        let base = "name: t\nhandlers:\n  h:\n    run: /x\n    args: [\"$(v)\"]\n";
        for (paths, what) in [
            (
                "paths:\n  \"/usr/(v:*)\":\n    handlers: [nope]\n",
                "unknown handler",
            ),
            (
                "paths:\n  \"/usr/(w:*)\":\n    handlers: [h]\n",
                "does not capture",
            ),
            (
                "paths:\n  \"/usr/(v:*)\":\n    handlers: []\n",
                "names no handler",
            ),
            (
                "paths:\n  \"/usr/(v:*)\":\n    handlers: [h]\n    type: fifo\n",
                "type",
            ),
        ] {
            let err = crate::util::with_causes(&parse(&format!("{base}{paths}")).expect_err(what));
            assert!(err.contains(what), "{err}");
        }
        assert!(parse("description: no name\n").is_err());
    }
}
