//! States, their selections, the active state and the transaction journal,
//! in the `state` database.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension};

use super::{Database, DbError};
use crate::fault::checkpoint;

/// A package selected in a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub package_id: String,
    /// Requested by the user (as opposed to pulled in).
    pub explicit: bool,
    pub reason: Option<String>,
}

/// One recorded state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    pub id: i64,
    /// Seconds since the epoch.
    pub created: i64,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub selections: Vec<Selection>,
}

/// The record of a transaction that has started but not finished: written
/// before anything touches the trees, cleared when the new state is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    pub new_state: i64,
    pub old_state: Option<i64>,
    /// True when `new_state` was created by this transaction (its tree is
    /// built in staging); false when an archived state is being activated.
    pub new_state_created: bool,
}

impl Database {
    /// Records a new state with its selections and, in the same database
    /// transaction, the journal of the transaction that will make it live.
    pub fn begin_new_state(
        &mut self,
        summary: &str,
        description: Option<&str>,
        selections: &[Selection],
        old_state: Option<i64>,
    ) -> Result<i64, DbError> {
        let db = &self.state;
        let err = db.err();
        let tx = db.conn.unchecked_transaction().map_err(&err)?;
        tx.execute(
            "INSERT INTO state (type, summary, description) VALUES ('transaction', ?1, ?2)",
            params![summary, description],
        )
        .map_err(&err)?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO state_selections (state_id, package_id, explicit, reason) \
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(&err)?;
            for s in selections {
                stmt.execute(params![id, s.package_id, s.explicit, s.reason])
                    .map_err(&err)?;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO moss_journal (singleton, new_state, old_state, source) \
             VALUES (0, ?1, ?2, 'staging')",
            params![id, old_state],
        )
        .map_err(&err)?;
        checkpoint();
        tx.commit().map_err(&err)?;
        checkpoint();
        Ok(id)
    }

    /// Journals the activation of an existing state.
    pub fn begin_activation(&mut self, target: i64, old_state: Option<i64>) -> Result<(), DbError> {
        let db = &self.state;
        db.conn
            .execute(
                "INSERT OR REPLACE INTO moss_journal (singleton, new_state, old_state, source) \
                 VALUES (0, ?1, ?2, 'archive')",
                params![target, old_state],
            )
            .map_err(db.err())?;
        checkpoint();
        Ok(())
    }

    /// The unfinished transaction, if any.
    pub fn journal(&self) -> Result<Option<Journal>, DbError> {
        let db = &self.state;
        if !db.has_table("moss_journal")? {
            return Ok(None);
        }
        db.conn
            .query_row(
                "SELECT new_state, old_state, source FROM moss_journal WHERE singleton = 0",
                [],
                |r| {
                    Ok(Journal {
                        new_state: r.get(0)?,
                        old_state: r.get(1)?,
                        new_state_created: r.get::<_, String>(2)? == "staging",
                    })
                },
            )
            .optional()
            .map_err(db.err())
    }

    /// Marks the journal's new state active and clears the journal, atomically.
    pub fn commit_journal(&mut self, journal: &Journal) -> Result<(), DbError> {
        let db = &self.state;
        let err = db.err();
        let tx = db.conn.unchecked_transaction().map_err(&err)?;
        tx.execute(
            "INSERT OR REPLACE INTO moss_active_state (singleton, state_id) VALUES (0, ?1)",
            [journal.new_state],
        )
        .map_err(&err)?;
        tx.execute("DELETE FROM moss_journal", []).map_err(&err)?;
        checkpoint();
        tx.commit().map_err(&err)?;
        checkpoint();
        Ok(())
    }

    /// Forgets an unfinished transaction (and the state it created).
    pub fn abort_journal(&mut self, journal: &Journal) -> Result<(), DbError> {
        let db = &self.state;
        let err = db.err();
        let tx = db.conn.unchecked_transaction().map_err(&err)?;
        if journal.new_state_created {
            tx.execute("DELETE FROM state WHERE id = ?1", [journal.new_state])
                .map_err(&err)?;
        }
        tx.execute("DELETE FROM moss_journal", []).map_err(&err)?;
        tx.commit().map_err(&err)?;
        checkpoint();
        Ok(())
    }

    /// Records `state` as the live one outside a transaction: the state of a
    /// root the original moss made, which keeps no such record.
    pub fn adopt_active_state(&mut self, state: i64) -> Result<(), DbError> {
        let db = &self.state;
        db.conn
            .execute(
                "INSERT OR REPLACE INTO moss_active_state (singleton, state_id) VALUES (0, ?1)",
                [state],
            )
            .map(drop)
            .map_err(db.err())
    }

    /// The live state, as recorded after its swap.
    pub fn active_state(&self) -> Result<Option<i64>, DbError> {
        let db = &self.state;
        if !db.has_table("moss_active_state")? {
            return Ok(self.fallback_active);
        }
        let recorded = db
            .conn
            .query_row(
                "SELECT state_id FROM moss_active_state WHERE singleton = 0",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db.err())?;
        Ok(recorded.or(self.fallback_active))
    }

    /// Reports `state` as live while the database records none (without
    /// writing: for read-only use).
    pub fn assume_active_state(&mut self, state: i64) {
        self.fallback_active = Some(state);
    }

    /// One state with its selections.
    pub fn state(&self, id: i64) -> Result<Option<StateRecord>, DbError> {
        let db = &self.state;
        let err = db.err();
        let found = db
            .conn
            .query_row(
                "SELECT id, created, summary, description FROM state WHERE id = ?1",
                [id],
                |r| {
                    Ok(StateRecord {
                        id: r.get(0)?,
                        created: r.get(1)?,
                        summary: r.get(2)?,
                        description: r.get(3)?,
                        selections: Vec::new(),
                    })
                },
            )
            .optional()
            .map_err(&err)?;
        let Some(mut state) = found else {
            return Ok(None);
        };
        let mut stmt = db
            .conn
            .prepare_cached(
                "SELECT package_id, explicit, reason FROM state_selections \
                 WHERE state_id = ?1 ORDER BY package_id",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(Selection {
                    package_id: r.get(0)?,
                    explicit: r.get(1)?,
                    reason: r.get(2)?,
                })
            })
            .map_err(&err)?;
        for row in rows {
            state.selections.push(row.map_err(&err)?);
        }
        Ok(Some(state))
    }

    /// Every state id, oldest first.
    pub fn state_ids(&self) -> Result<Vec<i64>, DbError> {
        let db = &self.state;
        let err = db.err();
        let mut stmt = db
            .conn
            .prepare("SELECT id FROM state ORDER BY id")
            .map_err(&err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Deletes states (never call with the active one).
    pub fn remove_states(&mut self, ids: &[i64]) -> Result<(), DbError> {
        let db = &self.state;
        let err = db.err();
        let tx = db.conn.unchecked_transaction().map_err(&err)?;
        for id in ids {
            tx.execute("DELETE FROM state WHERE id = ?1", [id])
                .map_err(&err)?;
        }
        tx.commit().map_err(&err)?;
        Ok(())
    }

    /// Ids of packages selected by at least one state.
    pub fn selected_packages(&self) -> Result<HashSet<String>, DbError> {
        let db = &self.state;
        let err = db.err();
        let mut stmt = db
            .conn
            .prepare("SELECT DISTINCT package_id FROM state_selections")
            .map_err(&err)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }
}
