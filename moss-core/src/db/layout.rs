//! Layout records (the files of each cached package) in the `layout` database.
//! A row is a stone's layout entry (`stone::LayoutEntry`), stored as the
//! original moss stores it; the type of an entry of unknown kind is kept as
//! `unknown` only, so it reads back as `Unknown` with file type 0.

use std::collections::HashSet;

use super::{Database, DbError};
use crate::fault::checkpoint;
use crate::stone::{LayoutEntry, LayoutKind};
use crate::store::Digest;

/// The name the original moss stores for each kind of entry.
fn type_name(kind: &LayoutKind) -> &'static str {
    match kind {
        LayoutKind::Regular { .. } => "regular",
        LayoutKind::Symlink { .. } => "symlink",
        LayoutKind::Directory => "directory",
        LayoutKind::CharDevice => "character-device",
        LayoutKind::BlockDevice => "block-device",
        LayoutKind::Fifo => "fifo",
        LayoutKind::Socket => "socket",
        LayoutKind::Unknown { .. } => "unknown",
    }
}

/// (entry_type, entry_value1, entry_value2) as the original moss stores them.
fn encode(rec: &LayoutEntry) -> (&'static str, String, Option<&str>) {
    match &rec.kind {
        LayoutKind::Regular { digest } => ("regular", digest.to_string(), Some(&rec.path)),
        LayoutKind::Symlink { target } => ("symlink", target.clone(), Some(&rec.path)),
        other => (type_name(other), rec.path.clone(), None),
    }
}

fn decode(kind: &str, v1: Option<&str>, v2: Option<&str>) -> Option<(LayoutKind, String)> {
    let simple = |k| v1.map(|p| (k, p.to_string()));
    match kind {
        "regular" => Some((
            LayoutKind::Regular {
                digest: v1?.parse().ok()?,
            },
            v2?.to_string(),
        )),
        "symlink" => Some((
            LayoutKind::Symlink {
                target: v1?.to_string(),
            },
            v2?.to_string(),
        )),
        "directory" => simple(LayoutKind::Directory),
        "character-device" => simple(LayoutKind::CharDevice),
        "block-device" => simple(LayoutKind::BlockDevice),
        "fifo" => simple(LayoutKind::Fifo),
        "socket" => simple(LayoutKind::Socket),
        // The database keeps no type byte or raw record for these.
        _ => simple(LayoutKind::Unknown {
            file_type: 0,
            source: Vec::new(),
        }),
    }
}

/// A text column borrowed from the row (no allocation); `None` for NULL or non-text.
fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(match row.get_ref(index)? {
        rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    })
}

impl Database {
    /// Stores the layouts of packages in one transaction, replacing any
    /// earlier rows of the same packages.
    pub fn add_layouts(&mut self, packages: &[(&str, &[LayoutEntry])]) -> Result<(), DbError> {
        let db = &self.layout;
        let err = db.err();
        let tx = db.conn.unchecked_transaction().map_err(&err)?;
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM layout WHERE package_id = ?1")
                .map_err(&err)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO layout (package_id, uid, gid, mode, tag, entry_type, \
                     entry_value1, entry_value2) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(&err)?;
            for (id, records) in packages {
                delete.execute([id]).map_err(&err)?;
                for rec in records.iter() {
                    let (kind, v1, v2) = encode(rec);
                    insert
                        .execute(rusqlite::params![
                            id, rec.uid, rec.gid, rec.mode, rec.tag, kind, v1, v2
                        ])
                        .map_err(&err)?;
                }
                checkpoint();
            }
        }
        tx.commit().map_err(&err)?;
        checkpoint();
        Ok(())
    }

    /// The layout of one package, in insertion order.
    pub fn layouts(&self, package: &str) -> Result<Vec<LayoutEntry>, DbError> {
        let db = &self.layout;
        let err = db.err();
        let mut stmt = db
            .conn
            .prepare_cached(
                "SELECT uid, gid, mode, tag, entry_type, entry_value1, entry_value2 \
                 FROM layout WHERE package_id = ?1 ORDER BY id",
            )
            .map_err(&err)?;
        let mut rows = stmt.query([package]).map_err(&err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let kind = text(row, 4).map_err(&err)?.unwrap_or("");
            let (v1, v2) = (text(row, 5).map_err(&err)?, text(row, 6).map_err(&err)?);
            let (kind, path) = decode(kind, v1, v2)
                .ok_or_else(|| db.malformed(format!("layout row of {package} ({kind})")))?;
            out.push(LayoutEntry {
                uid: row.get(0).map_err(&err)?,
                gid: row.get(1).map_err(&err)?,
                mode: row.get(2).map_err(&err)?,
                tag: row.get(3).map_err(&err)?,
                kind,
                path,
            });
        }
        Ok(out)
    }

    /// Whether any layout row of the package exists.
    pub fn has_layouts(&self, package: &str) -> Result<bool, DbError> {
        let db = &self.layout;
        db.conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM layout WHERE package_id = ?1)",
                [package],
                |r| r.get(0),
            )
            .map_err(db.err())
    }

    /// Every digest some cached package's layout refers to.
    pub fn referenced_digests(&self) -> Result<HashSet<Digest>, DbError> {
        let db = &self.layout;
        let err = db.err();
        let mut stmt = db
            .conn
            .prepare("SELECT DISTINCT entry_value1 FROM layout WHERE entry_type = 'regular'")
            .map_err(&err)?;
        let mut rows = stmt.query([]).map_err(&err)?;
        let mut out = HashSet::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let text: String = row.get(0).map_err(&err)?;
            let digest = text
                .parse()
                .map_err(|_| db.malformed(format!("digest {text:?}")))?;
            out.insert(digest);
        }
        Ok(out)
    }
}
