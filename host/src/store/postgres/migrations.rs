//! The schema of the PostgreSQL store, versioned by refinery (`migrations/V*__*.sql`,
//! embedded in the binary; refinery records them in `refinery_schema_history`).
//!
//! Opening runs the pending migrations under a PostgreSQL advisory lock, so runners that
//! start together wait for one another instead of racing, and all pending migrations apply
//! in one transaction. A database whose history holds a version newer than this Vitals
//! knows is refused before anything is changed. Migrations are append-only: never edit one
//! that has shipped.

use refinery::{Migration, Runner};

use super::conn::{Classified, Conn, Fail};

/// The migrations, oldest first: (refinery name, SQL).
const MIGRATIONS: &[(&str, &str)] = &[("V1__initial", include_str!("migrations/V1__initial.sql"))];

/// The advisory lock key migrations are run under ("Vita" in ASCII, as SQLite's
/// application id).
const LOCK_KEY: i64 = 0x5669_7461;

/// refinery's history table.
pub(super) const HISTORY: &str = "refinery_schema_history";

/// The newest schema version this program knows.
pub(super) fn known() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema up to date, returning how many migrations were applied.
pub(super) fn apply(conn: &mut Conn<'_>) -> Result<usize, Fail> {
    conn.client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])?;
    let outcome = apply_locked(conn);
    // Also released when the session ends, should this fail.
    let unlocked = conn.client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
    let applied = outcome?;
    unlocked?;
    Ok(applied)
}

/// [`apply`] once the lock is held.
fn apply_locked(conn: &mut Conn<'_>) -> Result<usize, Fail> {
    let known = known();
    let exists: bool = conn.client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&HISTORY])?.try_get(0)?;
    if exists {
        let found: Option<i64> =
            conn.client.query_one(&format!("SELECT max(version)::bigint FROM {HISTORY}"), &[])?.try_get(0)?;
        match found {
            Some(found) if found > known => return Err(Fail::NewerSchema { found, known }),
            Some(found) if found == known => return Ok(0),
            _ => {}
        }
    }
    let report = runner()?
        .set_grouped(true)
        .set_abort_divergent(true)
        .set_abort_missing(true)
        .run(conn.client)
        .map_err(refused)?;
    let applied = report.applied_migrations().len();
    if applied > 0 {
        tracing::info!(to = known, applied, "migrated the result store");
    }
    Ok(applied)
}

/// The runner of [`MIGRATIONS`].
fn runner() -> Result<Runner, Fail> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(name, sql)| Migration::unapplied(name, sql))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Fail::Other(format!("an embedded migration is malformed: {e}")))?;
    Ok(Runner::new(&migrations))
}

/// A refinery failure as a job's: the database's own error when it is one.
fn refused(e: refinery::Error) -> Fail {
    use refinery::error::Kind;
    match e.kind() {
        Kind::DivergentVersion(applied, ours) => Fail::Corrupt(format!(
            "its schema history has migration {applied} where this Vitals has {ours}; it was changed by hand"
        )),
        Kind::MissingVersion(m) => {
            Fail::Corrupt(format!("its schema history has migration {m}, which this Vitals does not have"))
        }
        Kind::Connection(..) => match std::error::Error::source(&e).and_then(|s| s.downcast_ref::<::postgres::Error>())
        {
            // Classified by the database's own error inside.
            Some(pg) => {
                let seen = Classified::seeing(pg);
                Fail::Db(seen.caused_by(Box::new(e)))
            }
            None => Fail::Other(e.to_string()),
        },
        _ => Fail::Other(e.to_string()),
    }
}
