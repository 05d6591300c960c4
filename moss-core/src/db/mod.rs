//! The SQLite databases of an installation, in `.moss/db/`:
//! `install` (package metadata), `layout` (every cached package's files) and
//! `state` (states and their selections). The first two keep the original
//! moss's v1 schemas; migrations are tracked with `PRAGMA user_version`.
//! All connections use WAL so a killed writer never corrupts a database.

mod layout;
mod meta;
pub(crate) mod schema;
mod state;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use layout::{LayoutKind, LayoutRecord};
pub use meta::PackageMeta;
pub use state::{Journal, Selection, StateRecord};

/// Errors of the databases.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {path} holds a malformed value: {what}")]
    Malformed { path: PathBuf, what: String },
}

/// The three databases of one installation.
#[derive(Debug)]
pub struct Database {
    install: Db,
    layout: Db,
    state: Db,
}

/// One connection and the path it was opened from (for error messages).
#[derive(Debug)]
struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    fn open(path: PathBuf, migrations: &[&str]) -> Result<Self, DbError> {
        let wrap = |source| DbError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(wrap)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(wrap)?;
        schema::migrate(&conn, migrations).map_err(wrap)?;
        Ok(Self { conn, path })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> DbError + '_ {
        |source| DbError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn malformed(&self, what: impl Into<String>) -> DbError {
        DbError::Malformed {
            path: self.path.clone(),
            what: what.into(),
        }
    }
}

impl Database {
    /// Opens (creating and migrating as needed) the databases in `dir`.
    pub fn open(dir: &Path) -> Result<Self, DbError> {
        Ok(Self {
            install: Db::open(dir.join("install"), schema::META)?,
            layout: Db::open(dir.join("layout"), schema::LAYOUT)?,
            state: Db::open(dir.join("state"), schema::STATE)?,
        })
    }
}
