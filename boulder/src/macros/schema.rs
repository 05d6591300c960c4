//! The on-disk YAML schema of a macro file (camelCase keys, all optional).
//!
//! Lists of single-key maps keep the author's order. Upstream boulder ignores keys
//! it does not know, and its own files use some (`Tip:` in autotools.yaml), so an
//! action or file-level key nobody knows is collected and reported as a warning
//! instead of failing the load; flags, tuning groups and packages stay strict.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MacroFile {
    #[serde(default)]
    pub actions: Vec<BTreeMap<String, ActionDef>>,
    #[serde(default)]
    /// Any scalar is read as it is written (`1.10` stays `1.10`, `~` is empty), as a
    /// recipe reads its text keys.
    pub definitions: Vec<BTreeMap<String, String>>,
    #[serde(default)]
    pub flags: Vec<BTreeMap<String, FlagDef>>,
    #[serde(default)]
    pub tuning: Vec<BTreeMap<String, TuningDef>>,
    #[serde(default)]
    pub packages: Vec<BTreeMap<String, PackageDef>>,
    #[serde(default)]
    pub default_tuning_groups: Vec<String>,
    /// Keys no macro schema knows; warned about by the loader.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub struct ActionDef {
    pub description: String,
    #[serde(default)]
    pub example: Option<String>,
    /// A hint for packagers, shown by `boulder recipe macros NAME`. Upstream's
    /// files spell it `Tip`.
    #[serde(default, alias = "Tip")]
    pub tip: Option<String>,
    pub command: String,
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Keys no macro schema knows; warned about by the loader.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FlagSetDef {
    pub c: Option<String>,
    pub cxx: Option<String>,
    pub f: Option<String>,
    pub d: Option<String>,
    pub rust: Option<String>,
    pub vala: Option<String>,
    pub go: Option<String>,
    pub ld: Option<String>,
}

/// A compiler flag: root values, optionally overridden per toolchain.
/// (Spelled out instead of `#[serde(flatten)]`, which cannot deny unknown keys.)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagDef {
    pub c: Option<String>,
    pub cxx: Option<String>,
    pub f: Option<String>,
    pub d: Option<String>,
    pub rust: Option<String>,
    pub vala: Option<String>,
    pub go: Option<String>,
    pub ld: Option<String>,
    #[serde(default)]
    pub gnu: Option<FlagSetDef>,
    #[serde(default)]
    pub llvm: Option<FlagSetDef>,
}

impl FlagDef {
    pub fn root(&self) -> FlagSetDef {
        FlagSetDef {
            c: self.c.clone(),
            cxx: self.cxx.clone(),
            f: self.f.clone(),
            d: self.d.clone(),
            rust: self.rust.clone(),
            vala: self.vala.clone(),
            go: self.go.clone(),
            ld: self.ld.clone(),
        }
    }
}

/// `enabled:` / `disabled:` accept one flag name or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuningDef {
    #[serde(default)]
    pub enabled: Option<OneOrMany>,
    #[serde(default)]
    pub disabled: Option<OneOrMany>,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub options: Vec<BTreeMap<String, TuningOptionDef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuningOptionDef {
    #[serde(default)]
    pub enabled: Option<OneOrMany>,
    #[serde(default)]
    pub disabled: Option<OneOrMany>,
}

/// A default subpackage template (`packages:` of an arch file).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageDef {
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub paths: Vec<PathDef>,
    #[serde(default)]
    pub rundeps: Vec<String>,
    #[serde(default, rename = "rundeps-exclude")]
    pub rundeps_exclude: Vec<String>,
    #[serde(default, rename = "provides-exclude")]
    pub provides_exclude: Vec<String>,
    #[serde(default)]
    pub conflicts: Vec<String>,
}

/// A path rule: a bare glob, or `glob: kind` (`any|exe|symlink|special`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PathDef {
    Glob(String),
    Typed(BTreeMap<String, String>),
}
