//! Package metadata in the `install` database.

use rusqlite::{params, OptionalExtension, Row};

use super::{Database, DbError};
use crate::fault::checkpoint;

/// What the engine knows about one cached package.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageMeta {
    /// Package id: the sha256 of its `.stone` file.
    pub id: String,
    pub name: String,
    pub version: String,
    pub source_release: u64,
    pub build_release: u64,
    pub architecture: String,
    pub summary: String,
    pub description: String,
    pub source_id: String,
    pub homepage: String,
    /// `kind(name)` strings, as stored by the original moss.
    pub licenses: Vec<String>,
    pub dependencies: Vec<String>,
    pub providers: Vec<String>,
    pub conflicts: Vec<String>,
}

impl PackageMeta {
    /// The database form of a stone's metadata; `id` is the stone's sha256.
    pub fn from_stone(id: String, meta: &crate::stone::Meta) -> Self {
        let strings = |v: &[crate::stone::Provider]| v.iter().map(|p| p.to_string()).collect();
        PackageMeta {
            id,
            name: meta.name.clone(),
            version: meta.version.clone(),
            source_release: meta.source_release,
            build_release: meta.build_release,
            architecture: meta.architecture.clone(),
            summary: meta.summary.clone(),
            description: meta.description.clone(),
            source_id: meta.source_id.clone(),
            homepage: meta.homepage.clone(),
            licenses: meta.licenses.clone(),
            dependencies: meta.depends.iter().map(|d| d.to_string()).collect(),
            providers: strings(&meta.provides),
            conflicts: strings(&meta.conflicts),
        }
    }

    /// Every provider, including the implied `name(<name>)`.
    pub fn all_providers(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(format!("name({})", self.name)).chain(self.providers.iter().cloned())
    }

    /// `name-version-release.arch`, for display.
    pub fn display_id(&self) -> String {
        format!(
            "{}-{}-{}.{}",
            self.name, self.version, self.source_release, self.architecture
        )
    }
}

const COLUMNS: &str = "package, name, version_identifier, source_release, build_release, \
    architecture, summary, description, source_id, homepage";

fn from_row(row: &Row<'_>) -> rusqlite::Result<PackageMeta> {
    Ok(PackageMeta {
        id: row.get(0)?,
        name: row.get(1)?,
        version: row.get(2)?,
        source_release: row.get::<_, i64>(3)? as u64,
        build_release: row.get::<_, i64>(4)? as u64,
        architecture: row.get(5)?,
        summary: row.get(6)?,
        description: row.get(7)?,
        source_id: row.get(8)?,
        homepage: row.get(9)?,
        ..Default::default()
    })
}

const LISTS: [(&str, &str); 4] = [
    ("meta_licenses", "license"),
    ("meta_dependencies", "dependency"),
    ("meta_providers", "provider"),
    ("meta_conflicts", "conflict"),
];

fn lists_mut(meta: &mut PackageMeta) -> [&mut Vec<String>; 4] {
    [
        &mut meta.licenses,
        &mut meta.dependencies,
        &mut meta.providers,
        &mut meta.conflicts,
    ]
}

impl Database {
    /// Adds (or replaces) packages in one transaction.
    pub fn add_packages(&mut self, packages: &[PackageMeta]) -> Result<(), DbError> {
        let db = &self.install;
        let err = db.err();
        let tx = db.conn.unchecked_transaction().map_err(&err)?;
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM meta WHERE package = ?1")
                .map_err(&err)?;
            let mut insert = tx
                .prepare_cached(&format!(
                    "INSERT INTO meta ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ))
                .map_err(&err)?;
            for p in packages {
                delete.execute([&p.id]).map_err(&err)?;
                insert
                    .execute(params![
                        p.id,
                        p.name,
                        p.version,
                        p.source_release as i64,
                        p.build_release as i64,
                        p.architecture,
                        p.summary,
                        p.description,
                        p.source_id,
                        p.homepage
                    ])
                    .map_err(&err)?;
                let lists = [&p.licenses, &p.dependencies, &p.providers, &p.conflicts];
                for ((table, column), values) in LISTS.iter().zip(lists) {
                    let mut stmt = tx
                        .prepare_cached(&format!(
                            "INSERT OR IGNORE INTO {table} (package, {column}) VALUES (?1, ?2)"
                        ))
                        .map_err(&err)?;
                    for v in values {
                        stmt.execute([&p.id, v]).map_err(&err)?;
                    }
                }
                checkpoint();
            }
        }
        tx.commit().map_err(&err)?;
        checkpoint();
        Ok(())
    }

    /// One package by id, with its lists.
    pub fn package(&self, id: &str) -> Result<Option<PackageMeta>, DbError> {
        let db = &self.install;
        let err = db.err();
        let found = db
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM meta WHERE package = ?1"),
                [id],
                from_row,
            )
            .optional()
            .map_err(&err)?;
        let Some(mut meta) = found else {
            return Ok(None);
        };
        for ((table, column), list) in LISTS.iter().zip(lists_mut(&mut meta)) {
            let mut stmt = db
                .conn
                .prepare_cached(&format!(
                    "SELECT {column} FROM {table} WHERE package = ?1 ORDER BY {column}"
                ))
                .map_err(&err)?;
            let rows = stmt.query_map([id], |r| r.get(0)).map_err(&err)?;
            for value in rows {
                list.push(value.map_err(&err)?);
            }
        }
        Ok(Some(meta))
    }

    /// Ids of every cached package.
    pub fn package_ids(&self) -> Result<Vec<String>, DbError> {
        let db = &self.install;
        let err = db.err();
        let mut stmt = db
            .conn
            .prepare("SELECT package FROM meta ORDER BY name")
            .map_err(&err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Deletes packages (metadata and layouts).
    pub fn remove_packages(&mut self, ids: &[String]) -> Result<(), DbError> {
        for db in [&self.layout, &self.install] {
            let err = db.err();
            let tx = db.conn.unchecked_transaction().map_err(&err)?;
            {
                let sql = if std::ptr::eq(db, &self.layout) {
                    "DELETE FROM layout WHERE package_id = ?1"
                } else {
                    "DELETE FROM meta WHERE package = ?1"
                };
                let mut stmt = tx.prepare_cached(sql).map_err(&err)?;
                for id in ids {
                    stmt.execute([id]).map_err(&err)?;
                }
            }
            tx.commit().map_err(&err)?;
        }
        Ok(())
    }
}
