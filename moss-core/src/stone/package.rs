//! `Meta`: the metadata of one package, mapped to and from Meta records.

use super::dependency::{Dependency, DependencyKind, Provider};
use super::error::{Result, StoneError};
use super::meta::{MetaRecord, MetaTag, MetaValue};

/// The metadata of one package as stored in a Meta payload.
///
/// `provides` never holds the `name(<name>)` provider: every package provides
/// its own name implicitly (see [`Meta::all_providers`]), so it is dropped on
/// read and never written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    pub version: String,
    /// The recipe's `release`.
    pub source_release: u64,
    pub build_release: u64,
    pub architecture: String,
    pub summary: String,
    pub description: String,
    pub source_id: String,
    pub homepage: String,
    pub licenses: Vec<String>,
    pub depends: Vec<Dependency>,
    pub provides: Vec<Provider>,
    pub conflicts: Vec<Provider>,
    /// Repository indexes only: where the `.stone` lives, relative to the index.
    pub package_uri: Option<String>,
    /// Repository indexes only: sha256 hex of the `.stone` file.
    pub package_hash: Option<String>,
    /// Repository indexes only: byte size of the `.stone` file.
    pub package_size: Option<u64>,
    /// Build manifests only.
    pub build_depends: Vec<Dependency>,
}

impl Meta {
    /// `name-version-release.arch`, the id of local packages and the name of
    /// `moss extract` output folders.
    pub fn id(&self) -> String {
        format!(
            "{}-{}-{}.{}",
            self.name, self.version, self.source_release, self.architecture
        )
    }

    /// The `.stone` file name boulder gives this package.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}-{}-{}.stone",
            self.name, self.version, self.source_release, self.build_release, self.architecture
        )
    }

    /// `provides` plus the implied `name(<name>)` provider, first.
    pub fn all_providers(&self) -> Vec<Provider> {
        let mut all = vec![Provider::new(DependencyKind::PackageName, &self.name)];
        all.extend(self.provides.iter().cloned());
        all
    }

    /// Builds the package metadata from records in any order.
    pub fn from_records(records: &[MetaRecord]) -> Result<Self> {
        let mut meta = Meta::default();
        let mut seen = [false; 9];
        for record in records {
            let text = || match &record.value {
                MetaValue::String(s) => Ok(s.clone()),
                _ => Err(StoneError::InvalidField {
                    field: tag_name(record.tag),
                    reason: "expected a string".into(),
                }),
            };
            let int = || {
                record.value.as_u64().ok_or(StoneError::InvalidField {
                    field: tag_name(record.tag),
                    reason: "expected a non-negative integer".into(),
                })
            };
            match (&record.tag, &record.value) {
                (MetaTag::BuildDepends, MetaValue::Dependency(d)) => {
                    meta.build_depends.push(d.clone())
                }
                // As in the original tools, the primitive decides what is a dependency.
                (_, MetaValue::Dependency(d)) => meta.depends.push(d.clone()),
                (MetaTag::Provides, MetaValue::Provider(p))
                    if p.kind != DependencyKind::PackageName =>
                {
                    meta.provides.push(p.clone())
                }
                (MetaTag::Provides, MetaValue::Provider(_)) => {}
                (MetaTag::Conflicts, MetaValue::Provider(p)) => meta.conflicts.push(p.clone()),
                (MetaTag::Name, _) => (meta.name, seen[0]) = (text()?, true),
                (MetaTag::Version, _) => (meta.version, seen[1]) = (text()?, true),
                (MetaTag::Release, _) => (meta.source_release, seen[2]) = (int()?, true),
                (MetaTag::BuildRelease, _) => (meta.build_release, seen[3]) = (int()?, true),
                (MetaTag::Architecture, _) => (meta.architecture, seen[4]) = (text()?, true),
                (MetaTag::Summary, _) => (meta.summary, seen[5]) = (text()?, true),
                (MetaTag::Description, _) => (meta.description, seen[6]) = (text()?, true),
                (MetaTag::SourceId, _) => (meta.source_id, seen[7]) = (text()?, true),
                (MetaTag::Homepage, _) => (meta.homepage, seen[8]) = (text()?, true),
                (MetaTag::License, _) => meta.licenses.push(text()?),
                (MetaTag::PackageUri, _) => meta.package_uri = Some(text()?),
                (MetaTag::PackageHash, _) => meta.package_hash = Some(text()?),
                (MetaTag::PackageSize, _) => meta.package_size = Some(int()?),
                _ => {} // Fields no tool consumes are ignored.
            }
        }
        const REQUIRED: [&str; 9] = [
            "Name",
            "Version",
            "Release",
            "BuildRelease",
            "Architecture",
            "Summary",
            "Description",
            "SourceID",
            "Homepage",
        ];
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(StoneError::MissingField(REQUIRED[i]));
        }
        Ok(meta)
    }

    /// The records in the order the original Rust writer emits them: the
    /// fixed fields, then licenses (sorted), then depends, provides and
    /// conflicts (each sorted by `kind(name)` text, duplicates dropped, the
    /// implied `name(...)` provider left out), then build dependencies.
    pub fn to_records(&self) -> Vec<MetaRecord> {
        let s = |tag, v: &str| MetaRecord::new(tag, MetaValue::String(v.to_string()));
        let mut out = vec![
            s(MetaTag::Name, &self.name),
            s(MetaTag::Version, &self.version),
            MetaRecord::new(MetaTag::Release, MetaValue::U64(self.source_release)),
            MetaRecord::new(MetaTag::BuildRelease, MetaValue::U64(self.build_release)),
            s(MetaTag::Architecture, &self.architecture),
            s(MetaTag::Summary, &self.summary),
            s(MetaTag::Description, &self.description),
            s(MetaTag::SourceId, &self.source_id),
            s(MetaTag::Homepage, &self.homepage),
        ];
        if let Some(uri) = &self.package_uri {
            out.push(s(MetaTag::PackageUri, uri));
        }
        if let Some(hash) = &self.package_hash {
            out.push(s(MetaTag::PackageHash, hash));
        }
        if let Some(size) = self.package_size {
            out.push(MetaRecord::new(MetaTag::PackageSize, MetaValue::U64(size)));
        }
        let mut licenses = self.licenses.clone();
        licenses.sort();
        licenses.dedup();
        out.extend(licenses.iter().map(|l| s(MetaTag::License, l)));
        for d in sorted(&self.depends) {
            out.push(MetaRecord::new(MetaTag::Depends, MetaValue::Dependency(d)));
        }
        for p in sorted(&self.provides) {
            if p.kind != DependencyKind::PackageName {
                out.push(MetaRecord::new(MetaTag::Provides, MetaValue::Provider(p)));
            }
        }
        for p in sorted(&self.conflicts) {
            out.push(MetaRecord::new(MetaTag::Conflicts, MetaValue::Provider(p)));
        }
        for d in sorted(&self.build_depends) {
            out.push(MetaRecord::new(
                MetaTag::BuildDepends,
                MetaValue::Dependency(d),
            ));
        }
        out
    }
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

fn tag_name(tag: MetaTag) -> &'static str {
    match tag {
        MetaTag::Name => "Name",
        MetaTag::Version => "Version",
        MetaTag::Release => "Release",
        MetaTag::BuildRelease => "BuildRelease",
        MetaTag::Architecture => "Architecture",
        MetaTag::Summary => "Summary",
        MetaTag::Description => "Description",
        MetaTag::SourceId => "SourceID",
        MetaTag::Homepage => "Homepage",
        MetaTag::License => "License",
        MetaTag::PackageUri => "PackageURI",
        MetaTag::PackageHash => "PackageHash",
        MetaTag::PackageSize => "PackageSize",
        _ => "(other)",
    }
}
