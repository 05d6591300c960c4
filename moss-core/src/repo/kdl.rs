//! The KDL form of repository configuration, as the original moss reads
//! and writes it (`etc/moss/repo.d/<id>.kdl`, and the `repositories` node of
//! a system model): one node per repository id, whose children are
//!
//! ```kdl
//! volatile {
//!     description "AerynOS"
//!     uri "https://example.invalid/stone.index"    // a direct index, or
//!     base-uri "https://cdn.example.invalid/"       // a root index with
//!     channel main                                  //   (default main)
//!     version "stream/volatile"                     //   (required)
//!     arch x86_64                                   //   (default x86_64)
//!     priority 0
//!     active #false                                 // or `enabled #false`
//! }
//! ```
//!
//! Documents are KDL v2, read and laid out by the `kdl` crate's parser and
//! formatter, as the original's are.

use std::collections::BTreeMap;

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};

use super::config::{RepoConfig, RootIndexSource, DEFAULT_ARCH, DEFAULT_CHANNEL};

/// Parses a repository document; the error says what is wrong, and where.
pub fn parse(text: &str) -> Result<BTreeMap<String, RepoConfig>, String> {
    let doc = KdlDocument::parse(text).map_err(|e| {
        let first = e.diagnostics.first();
        match first {
            Some(d) => format!(
                "not KDL at byte {}: {}",
                d.span.offset(),
                d.message.clone().unwrap_or_else(|| "syntax error".into())
            ),
            None => "not KDL".to_string(),
        }
    })?;
    repositories(doc.nodes())
}

/// Reads repository nodes (the top level of a `repo.d` file, or the
/// children of a system model's `repositories` node).
pub fn repositories(nodes: &[KdlNode]) -> Result<BTreeMap<String, RepoConfig>, String> {
    let mut out = BTreeMap::new();
    for node in nodes {
        let id = node.name().value().to_string();
        out.insert(id.clone(), repository(&id, node)?);
    }
    Ok(out)
}

fn repository(id: &str, node: &KdlNode) -> Result<RepoConfig, String> {
    let mut config = RepoConfig {
        description: String::new(),
        uri: String::new(),
        root: None,
        priority: 0,
        active: true,
    };
    let mut priority = None;
    let (mut base_uri, mut channel, mut version, mut arch) = (None, None, None, None);
    let children = node.children().map(|d| d.nodes()).unwrap_or_default();
    for child in children {
        let key = child.name().value();
        let value = child
            .entries()
            .iter()
            .find(|e| e.name().is_none())
            .map(KdlEntry::value);
        let bad = |want: &str| format!("repository {id}: `{key}` needs {want}");
        let text = || value.and_then(KdlValue::as_string).map(str::to_string);
        match key {
            "description" => config.description = text().ok_or_else(|| bad("a string"))?,
            "uri" => config.uri = text().ok_or_else(|| bad("a string"))?,
            "base-uri" => base_uri = Some(text().ok_or_else(|| bad("a string"))?),
            "channel" => channel = Some(text().ok_or_else(|| bad("a string"))?),
            "version" => version = Some(text().ok_or_else(|| bad("a string"))?),
            "arch" => arch = Some(text().ok_or_else(|| bad("a string"))?),
            "priority" => {
                let n = value
                    .and_then(KdlValue::as_integer)
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| bad("a whole number from 0"))?;
                priority = Some(n);
            }
            "active" | "enabled" => {
                config.active = value
                    .and_then(KdlValue::as_bool)
                    .ok_or_else(|| bad("#true or #false"))?;
            }
            // Unknown keys are left for newer versions, as in YAML.
            _ => {}
        }
    }
    config.priority = priority.ok_or_else(|| format!("repository {id}: `priority` is missing"))?;
    match (config.uri.is_empty(), base_uri) {
        (false, None) => {}
        (true, Some(base_uri)) => {
            config.root = Some(RootIndexSource {
                base_uri,
                channel: channel.unwrap_or_else(|| DEFAULT_CHANNEL.into()),
                version: version.ok_or_else(|| {
                    format!("repository {id}: a `base-uri` repository needs a `version`")
                })?,
                arch: arch.unwrap_or_else(|| DEFAULT_ARCH.into()),
            });
        }
        (true, None) => return Err(format!("repository {id}: needs `uri` or `base-uri`")),
        (false, Some(_)) => {
            return Err(format!(
                "repository {id}: `uri` and `base-uri` exclude each other"
            ))
        }
    }
    Ok(config)
}

/// How an inactive repository is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InactiveKey {
    /// `active #false`: repository configuration files.
    Active,
    /// `enabled #false`: the system model.
    Enabled,
}

/// The node of one repository.
pub fn repository_node(id: &str, config: &RepoConfig, inactive: InactiveKey) -> KdlNode {
    let mut node = KdlNode::new(id);
    push(&mut node, "description", config.description.clone());
    match &config.root {
        None => push(&mut node, "uri", config.uri.clone()),
        Some(root) => {
            push(&mut node, "base-uri", root.base_uri.clone());
            if root.channel != DEFAULT_CHANNEL {
                push(&mut node, "channel", root.channel.clone());
            }
            push(&mut node, "version", root.version.clone());
            if root.arch != DEFAULT_ARCH {
                push(&mut node, "arch", root.arch.clone());
            }
        }
    }
    push(&mut node, "priority", i128::from(config.priority));
    if !config.active {
        let key = match inactive {
            InactiveKey::Active => "active",
            InactiveKey::Enabled => "enabled",
        };
        push(&mut node, key, false);
    }
    node
}

/// Adds `name value` as a child of `node`.
pub fn push(node: &mut KdlNode, name: &str, value: impl Into<KdlValue>) {
    let mut child = KdlNode::new(name);
    child.entries_mut().push(KdlEntry::new(value));
    node.ensure_children().nodes_mut().push(child);
}

/// A `repo.d` document for `repos`.
pub fn encode(repos: &BTreeMap<String, RepoConfig>) -> String {
    let mut doc = KdlDocument::new();
    for (id, config) in repos {
        doc.nodes_mut()
            .push(repository_node(id, config, InactiveKey::Active));
    }
    doc.autoformat();
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_and_root_index_repositories_round_trip() {
        let text = r#"
volatile {
    description "AerynOS volatile"
    base-uri "https://cdn.example.invalid/"
    version "stream/volatile"
    priority 0
}
local {
    description local
    uri "file:///srv/repo/stone.index"
    priority 10
    enabled #false
}
"#;
        let repos = parse(text).unwrap();
        let root = repos["volatile"].root.as_ref().unwrap();
        assert_eq!(root.channel, "main");
        assert_eq!(root.version, "stream/volatile");
        assert_eq!(root.arch, "x86_64");
        assert!(repos["volatile"].active);
        assert!(!repos["local"].active);
        assert_eq!(repos["local"].uri, "file:///srv/repo/stone.index");
        assert_eq!(repos["local"].priority, 10);
        let again = parse(&encode(&repos)).unwrap();
        assert_eq!(again, repos);
        assert_eq!(
            encode(&repos),
            "local {\n    description local\n    uri \"file:///srv/repo/stone.index\"\n    priority 10\n    active #false\n}\nvolatile {\n    description \"AerynOS volatile\"\n    base-uri \"https://cdn.example.invalid/\"\n    version \"stream/volatile\"\n    priority 0\n}\n"
        );
    }

    #[test]
    fn one_line_form_and_errors() {
        let repos = parse("r { uri \"file:///x\"; priority 1; active #false; }").unwrap();
        assert!(!repos["r"].active);
        assert!(parse("r { uri \"file:///x\" }")
            .unwrap_err()
            .contains("priority"));
        assert!(parse("r { priority 1 }").unwrap_err().contains("base-uri"));
        assert!(parse("r { {").is_err());
    }
}
