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

use rusqlite::{Connection, OpenFlags};

pub use meta::PackageMeta;
pub use state::{Journal, Selection, StateRecord};

/// Errors of the databases.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database {path} failed")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {path} holds a malformed value: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error("database {path}: no space left on the file system holding it")]
    NoSpace {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// Less free space than this on a database's file system makes an SQLite
/// I/O error a "no space" error (SQLite does not pass the errno on).
const LOW_SPACE: u64 = 1 << 20;

/// Whether the file system holding `path` is (nearly) full.
fn nearly_full(path: &Path) -> bool {
    let dir = path.parent().unwrap_or(path);
    nix::sys::statvfs::statvfs(dir)
        .map(|s| s.blocks_available().saturating_mul(s.fragment_size()) < LOW_SPACE)
        .unwrap_or(false)
}

/// The error for a failed SQLite call on `path`.
fn sqlite_error(path: &Path, source: rusqlite::Error) -> DbError {
    let io = matches!(
        source.sqlite_error_code(),
        Some(rusqlite::ErrorCode::SystemIoFailure) | Some(rusqlite::ErrorCode::DiskFull)
    );
    if io && nearly_full(path) {
        DbError::NoSpace {
            path: path.to_path_buf(),
            source,
        }
    } else {
        DbError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The three databases of one installation.
#[derive(Debug)]
pub struct Database {
    install: Db,
    layout: Db,
    state: Db,
    /// The live state to report when the database records none (a root of
    /// the original moss opened read-only; see `adopt_active_state`).
    fallback_active: Option<i64>,
}

/// One connection and the path it was opened from (for error messages).
#[derive(Debug)]
struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    fn open(path: PathBuf, migrations: &[&str]) -> Result<Self, DbError> {
        let wrap = |source| sqlite_error(&path, source);
        let conn = Connection::open(&path).map_err(wrap)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(wrap)?;
        schema::migrate(&conn, migrations).map_err(wrap)?;
        Ok(Self { conn, path })
    }

    /// Opens without writing anything: no migration, no journal mode change.
    /// Where SQLite cannot even set up its shared-memory file (a full disk),
    /// the file is opened as immutable instead: a snapshot as of the last
    /// checkpoint, which every finished moss run leaves.
    fn open_read_only(path: PathBuf) -> Result<Self, DbError> {
        let wrap = |source| DbError::Sqlite {
            path: path.clone(),
            source,
        };
        let probe = |conn: &Connection| {
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let normal = Connection::open_with_flags(&path, flags).and_then(|c| probe(&c).map(|_| c));
        let conn = match normal {
            Ok(conn) => conn,
            Err(first) => {
                if !path.is_file() {
                    return Err(wrap(first));
                }
                let uri = format!("file:{}?immutable=1", uri_path(&path));
                Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .and_then(|c| probe(&c).map(|_| c))
                    .map_err(|_| wrap(first))?
            }
        };
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(wrap)?;
        Ok(Self { conn, path })
    }

    /// Whether the database has a table (one of ours may be missing from a
    /// database the original moss made, when it is opened read-only).
    fn has_table(&self, name: &str) -> Result<bool, DbError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(self.err())
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> DbError + '_ {
        |source| sqlite_error(&self.path, source)
    }

    fn malformed(&self, what: impl Into<String>) -> DbError {
        DbError::Malformed {
            path: self.path.clone(),
            what: what.into(),
        }
    }
}

/// A path as the body of an SQLite `file:` URI (`%`, `?` and `#` escaped).
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

impl Database {
    /// Opens the databases in `dir` for reading only (see
    /// [`Db::open_read_only`]); nothing in `dir` is created or changed.
    pub fn open_read_only(dir: &Path) -> Result<Self, DbError> {
        Ok(Self {
            install: Db::open_read_only(dir.join("install"))?,
            layout: Db::open_read_only(dir.join("layout"))?,
            state: Db::open_read_only(dir.join("state"))?,
            fallback_active: None,
        })
    }

    /// Opens (creating and migrating as needed) the databases in `dir`.
    pub fn open(dir: &Path) -> Result<Self, DbError> {
        Ok(Self {
            install: Db::open(dir.join("install"), schema::META)?,
            layout: Db::open(dir.join("layout"), schema::LAYOUT)?,
            state: Db::open(dir.join("state"), schema::STATE)?,
            fallback_active: None,
        })
    }
}
