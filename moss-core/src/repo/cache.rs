//! The per-repository index cache: `.moss/repo/<id>/stone.index` as last
//! downloaded, and its packages in an SQLite database with the install
//! database's schema (the original's `meta` tables), keyed by `PackageHash`.
//!
//! The folder name follows the original: hex (not zero-padded) of
//! xxh3-64(`moss-<uri>`), so a changed URI never reads a stale cache.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};
use xxhash_rust::xxh3::xxh3_64;

use super::error::RepoError;
use super::index::IndexEntry;
use crate::db::schema;
use crate::stone::{Dependency, Meta, Provider};

/// The cache folder of the repository whose index is at `uri`.
pub fn cache_dir(moss_dir: &Path, uri: &str) -> PathBuf {
    moss_dir
        .join("repo")
        .join(format!("{:02x}", xxh3_64(format!("moss-{uri}").as_bytes())))
}

/// An open repository cache database.
pub struct RepoCache {
    conn: Connection,
    path: PathBuf,
}

const LISTS: [(&str, &str); 4] = [
    ("meta_licenses", "license"),
    ("meta_dependencies", "dependency"),
    ("meta_providers", "provider"),
    ("meta_conflicts", "conflict"),
];

impl RepoCache {
    /// Opens (creating) `<dir>/db`.
    pub fn open(dir: &Path) -> Result<Self, RepoError> {
        std::fs::create_dir_all(dir).map_err(RepoError::io("creating", dir))?;
        let path = dir.join("db");
        let wrap = |e: rusqlite::Error| RepoError::Cache {
            path: path.clone(),
            reason: e.to_string(),
        };
        let conn = Connection::open(&path).map_err(wrap)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(wrap)?;
        schema::migrate(&conn, schema::META).map_err(wrap)?;
        Ok(RepoCache { conn, path })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> RepoError + '_ {
        |e| RepoError::Cache {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// Replaces the whole cache with `entries`, in one transaction.
    pub fn replace(&mut self, entries: &[IndexEntry]) -> Result<(), RepoError> {
        let err = self.err();
        let tx = self.conn.unchecked_transaction().map_err(&err)?;
        tx.execute_batch("DELETE FROM meta;").map_err(&err)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR REPLACE INTO meta (package, name, version_identifier, source_release, \
                     build_release, architecture, summary, description, source_id, homepage, uri, \
                     hash, download_size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(&err)?;
            let mut lists: Vec<_> = LISTS
                .iter()
                .map(|(table, column)| {
                    tx.prepare(&format!(
                        "INSERT OR IGNORE INTO {table} (package, {column}) VALUES (?1, ?2)"
                    ))
                })
                .collect::<Result<_, _>>()
                .map_err(&err)?;
            for e in entries {
                let m = &e.meta;
                insert
                    .execute(params![
                        e.hash,
                        m.name,
                        m.version,
                        m.source_release as i64,
                        m.build_release as i64,
                        m.architecture,
                        m.summary,
                        m.description,
                        m.source_id,
                        m.homepage,
                        e.uri,
                        e.hash,
                        e.size as i64
                    ])
                    .map_err(&err)?;
                let values: [Vec<String>; 4] = [
                    m.licenses.clone(),
                    m.depends.iter().map(|d| d.to_string()).collect(),
                    m.provides.iter().map(|p| p.to_string()).collect(),
                    m.conflicts.iter().map(|p| p.to_string()).collect(),
                ];
                for (stmt, values) in lists.iter_mut().zip(values) {
                    for v in values {
                        stmt.execute(params![e.hash, v]).map_err(&err)?;
                    }
                }
            }
        }
        tx.commit().map_err(&err)
    }

    /// Every cached package, by name.
    pub fn entries(&self) -> Result<Vec<IndexEntry>, RepoError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT package, name, version_identifier, source_release, build_release, \
                 architecture, summary, description, source_id, homepage, uri, download_size \
                 FROM meta ORDER BY name, source_release DESC",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                let hash: String = r.get(0)?;
                let uri: Option<String> = r.get(10)?;
                let size: Option<i64> = r.get(11)?;
                let meta = Meta {
                    name: r.get(1)?,
                    version: r.get(2)?,
                    source_release: r.get::<_, i64>(3)? as u64,
                    build_release: r.get::<_, i64>(4)? as u64,
                    architecture: r.get(5)?,
                    summary: r.get(6)?,
                    description: r.get(7)?,
                    source_id: r.get(8)?,
                    homepage: r.get(9)?,
                    package_uri: uri.clone(),
                    package_hash: Some(hash.clone()),
                    package_size: size.map(|s| s as u64),
                    ..Default::default()
                };
                Ok(IndexEntry {
                    meta,
                    uri: uri.unwrap_or_default(),
                    hash,
                    size: size.unwrap_or(0) as u64,
                })
            })
            .map_err(&err)?;
        let mut entries: Vec<IndexEntry> = rows.collect::<Result<_, _>>().map_err(&err)?;
        let at: HashMap<String, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.hash.clone(), i))
            .collect();
        for (n, (table, column)) in LISTS.iter().enumerate() {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT package, {column} FROM {table} ORDER BY package, {column}"
                ))
                .map_err(&err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(&err)?;
            for row in rows {
                let (package, value) = row.map_err(&err)?;
                let Some(&i) = at.get(&package) else { continue };
                let meta = &mut entries[i].meta;
                let bad = |reason: String| RepoError::Cache {
                    path: self.path.clone(),
                    reason: format!("package {package}: {value:?}: {reason}"),
                };
                match n {
                    0 => meta.licenses.push(value.clone()),
                    1 => meta.depends.push(
                        value
                            .parse::<Dependency>()
                            .map_err(|e| bad(e.to_string()))?,
                    ),
                    2 => meta
                        .provides
                        .push(value.parse::<Provider>().map_err(|e| bad(e.to_string()))?),
                    _ => meta
                        .conflicts
                        .push(value.parse::<Provider>().map_err(|e| bad(e.to_string()))?),
                }
            }
        }
        Ok(entries)
    }
}
