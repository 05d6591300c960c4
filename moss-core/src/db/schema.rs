//! Schema migrations, applied in order and tracked with `PRAGMA user_version`.
//! Version 1 of each database is the original moss's schema; later versions
//! only add (indexes and tables the original lacks), so an original moss can
//! still read the data.

use rusqlite::Connection;

pub(crate) const META: &[&str] = &[
    "
    CREATE TABLE IF NOT EXISTS meta (
        package TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        version_identifier TEXT NOT NULL,
        source_release INTEGER NOT NULL,
        build_release INTEGER NOT NULL,
        architecture TEXT NOT NULL,
        summary TEXT NOT NULL,
        description TEXT NOT NULL,
        source_id TEXT NOT NULL,
        homepage TEXT NOT NULL,
        uri TEXT NULL,
        hash TEXT NULL,
        download_size BIGINT NULL
    );
    CREATE TABLE IF NOT EXISTS meta_licenses (
        package TEXT NOT NULL, license TEXT NOT NULL,
        PRIMARY KEY (package, license),
        FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
    );
    CREATE TABLE IF NOT EXISTS meta_dependencies (
        package TEXT NOT NULL, dependency TEXT NOT NULL,
        PRIMARY KEY (package, dependency),
        FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
    );
    CREATE TABLE IF NOT EXISTS meta_providers (
        package TEXT NOT NULL, provider TEXT NOT NULL,
        PRIMARY KEY (package, provider),
        FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
    );
    CREATE TABLE IF NOT EXISTS meta_conflicts (
        package TEXT NOT NULL, conflict TEXT NOT NULL,
        PRIMARY KEY (package, conflict),
        FOREIGN KEY (package) REFERENCES meta(package) ON DELETE CASCADE
    );
    ",
    "CREATE INDEX IF NOT EXISTS meta_name ON meta(name);",
];

pub(super) const LAYOUT: &[&str] = &[
    "
    CREATE TABLE IF NOT EXISTS layout (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        package_id TEXT NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        mode INTEGER NOT NULL,
        tag INTEGER NOT NULL,
        entry_type TEXT NOT NULL,
        entry_value1 TEXT NULL,
        entry_value2 TEXT NULL
    );
    ",
    // The original has no index here; every tree build looks layouts up by package.
    "CREATE INDEX IF NOT EXISTS layout_package ON layout(package_id);",
];

pub(super) const STATE: &[&str] = &[
    "
    CREATE TABLE IF NOT EXISTS state (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        created BIGINT NOT NULL DEFAULT (unixepoch()),
        summary TEXT NULL,
        description TEXT NULL
    );
    CREATE TABLE IF NOT EXISTS state_selections (
        state_id INTEGER NOT NULL,
        package_id TEXT NOT NULL,
        explicit BOOLEAN NOT NULL,
        reason TEXT NULL,
        PRIMARY KEY (state_id, package_id),
        FOREIGN KEY (state_id) REFERENCES state(id) ON DELETE CASCADE
    );
    ",
    // Ours: which state is live, and the journal of an unfinished transaction.
    "
    CREATE INDEX IF NOT EXISTS state_selections_package ON state_selections(package_id);
    CREATE TABLE IF NOT EXISTS moss_active_state (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 0),
        state_id INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS moss_journal (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 0),
        new_state INTEGER NOT NULL,
        old_state INTEGER NULL,
        source TEXT NOT NULL
    );
    ",
];

/// Applies the migrations past the database's `user_version`, each in its own
/// transaction together with the version bump.
pub(crate) fn migrate(conn: &Connection, migrations: &[&str]) -> rusqlite::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in migrations.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
