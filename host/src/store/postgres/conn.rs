//! The connection of a [`super::PgStore`]: one worker thread holds the `postgres::Client`
//! and runs the store's jobs on it, one at a time.
//!
//! The sync client drives its own tokio runtime, which panics when it is entered from a
//! thread already inside one, and every vitals command runs inside one. The worker is a
//! plain thread, so the store can be called from anywhere: async code included.
//!
//! A job runs on a live connection: the worker (re)connects before it when the connection is
//! closed, and runs it once more on a new connection when the connection is lost under it
//! (every job is a whole transaction, and writes are idempotent, so running one again is
//! safe). A server that cannot be reached is [`StoreError::Unreachable`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ::postgres::{Client, Config, NoTls, Statement};

use crate::store::StoreError;

/// How long a connection attempt may take.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one statement may run (unless the URL sets `statement_timeout` itself).
pub(super) const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a job failed: the database said no, or the store found something wrong itself.
#[derive(Debug, thiserror::Error)]
pub(super) enum Fail {
    /// The client's error, classified by [`classify`].
    #[error(transparent)]
    Pg(#[from] ::postgres::Error),
    /// A row holds what the schema says it cannot ([`StoreError::Corrupt`]).
    #[error("{0}")]
    Corrupt(String),
    /// The schema is newer than this Vitals knows ([`StoreError::NewerSchema`]).
    #[error("schema {found} is newer than {known}")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest version known.
        known: i64,
    },
    /// A database error seen through another (refinery's), classified by [`classify`].
    #[error("{0}")]
    Db(Classified),
    /// Anything else ([`StoreError::Other`]).
    #[error("{0}")]
    Other(String),
}

impl Fail {
    /// The store error about the database `path`.
    fn into_store(self, path: &Path) -> StoreError {
        let path = path.to_owned();
        match self {
            Fail::Pg(e) => classify(&path, e),
            Fail::Db(e) => classify(&path, e),
            Fail::Corrupt(detail) => StoreError::Corrupt { path, detail },
            Fail::NewerSchema { found, known } => StoreError::NewerSchema { path, found, known },
            Fail::Other(message) => StoreError::Other { path, source: message.into() },
        }
    }
}

/// What a job works with: the live client, and the statements prepared on it.
pub(super) struct Conn<'a> {
    /// The client.
    pub(super) client: &'a mut Client,
    statements: &'a mut HashMap<String, Statement>,
}

impl Conn<'_> {
    /// `sql` prepared on this connection, once per connection.
    pub(super) fn prepare(&mut self, sql: &str) -> Result<Statement, ::postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// One job for the worker.
type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// The worker's state: how to connect, and the connection if there is one.
struct Session {
    config: Config,
    path: PathBuf,
    client: Option<Client>,
    statements: HashMap<String, Statement>,
}

impl Session {
    /// Runs `job` on a live connection, reconnecting first if there is none, and once more
    /// on a new one if the connection is lost during it.
    fn run<R>(&mut self, job: &mut dyn FnMut(&mut Conn<'_>) -> Result<R, Fail>) -> Result<R, StoreError> {
        let mut retried = false;
        loop {
            if self.client.as_ref().is_none_or(Client::is_closed) {
                self.statements.clear();
                self.client = None;
                self.client = Some(connect(&self.config, &self.path)?);
            }
            let Some(client) = self.client.as_mut() else { continue };
            match job(&mut Conn { client, statements: &mut self.statements }) {
                Ok(r) => return Ok(r),
                Err(Fail::Pg(e)) => {
                    if !lost(&e) {
                        return Err(classify(&self.path, e));
                    }
                    self.client = None;
                    if retried {
                        return Err(classify(&self.path, e));
                    }
                    tracing::debug!(store = %self.path.display(), error = %e, "lost the database connection; reconnecting");
                    retried = true;
                }
                Err(other) => return Err(other.into_store(&self.path)),
            }
        }
    }
}

/// Connects with `config`, and sets the session up.
fn connect(config: &Config, path: &Path) -> Result<Client, StoreError> {
    let mut client = config.connect(NoTls).map_err(|e| classify(path, e))?;
    // The URL's own `options=-c statement_timeout=...` wins.
    let timeout = format!("{}ms", STATEMENT_TIMEOUT.as_millis());
    client
        .execute(
            "SELECT set_config('statement_timeout', $1, false) WHERE current_setting('statement_timeout') = '0'",
            &[&timeout],
        )
        .map_err(|e| classify(path, e))?;
    tracing::debug!(store = %path.display(), "connected to the database");
    Ok(client)
}

/// Whether `e` says the connection is gone (rather than that a statement failed on it).
fn lost(e: &::postgres::Error) -> bool {
    matches!(classify(Path::new(""), clone_error(e)), StoreError::Unreachable { .. })
}

/// The worker thread and the way to it.
pub(super) struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl Worker {
    /// Starts the worker for `config` (it connects on the first job). `path` names the
    /// database in errors and logs (the URL without its password).
    pub(super) fn start(config: Config, path: PathBuf) -> Result<Worker, StoreError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let mut session = Session { config, path: path.clone(), client: None, statements: HashMap::new() };
        let thread = std::thread::Builder::new()
            .name("vitals-postgres".into())
            .spawn(move || {
                for job in inbox {
                    // A job that panics (a bug) fails its own call, not the store: its
                    // answer channel is dropped, and the connection it may have left
                    // mid-transaction is dropped too.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut session))).is_err() {
                        session.client = None;
                        session.statements.clear();
                    }
                }
                // The channel is closed: the store was dropped. Dropping the client ends
                // the session cleanly.
            })
            .map_err(|e| StoreError::Other { path: path.clone(), source: Box::new(e) })?;
        Ok(Worker { jobs: Some(jobs), thread: Some(thread), path })
    }

    /// Runs `job` on the worker's connection and waits for its answer.
    pub(super) fn call<R: Send + 'static>(
        &self,
        mut job: impl FnMut(&mut Conn<'_>) -> Result<R, Fail> + Send + 'static,
    ) -> Result<R, StoreError> {
        let stopped = || StoreError::Other {
            path: self.path.clone(),
            source: "the store's connection thread failed the call".into(),
        };
        let (answer, reply) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |session: &mut Session| {
            let _ = answer.send(session.run(&mut job));
        });
        self.jobs.as_ref().ok_or_else(stopped)?.send(job).map_err(|_| stopped())?;
        reply.recv().map_err(|_| stopped())?
    }

    /// The database as errors name it.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop once its job (if any) is done.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A copy of what [`classify`] reads of `e` (the client's errors are not `Clone`).
fn clone_error(e: &::postgres::Error) -> ErrorView {
    ErrorView {
        code: e.as_db_error().map(|db| db.code().code().to_owned()),
        closed: e.is_closed(),
        io: io_source(e),
        text: match e.as_db_error() {
            Some(db) => match db.detail() {
                Some(detail) => format!("{} ({detail})", db.message()),
                None => db.message().to_owned(),
            },
            None => e.to_string(),
        },
    }
}

/// What [`classify`] reads of an error.
struct ErrorView {
    code: Option<String>,
    closed: bool,
    io: bool,
    text: String,
}

/// Whether an I/O error is among the causes of `e`.
fn io_source(e: &::postgres::Error) -> bool {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.is::<std::io::Error>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Turns a client error about the database `path` (the URL shown without password) into a
/// [`StoreError`], by the SQLSTATE the server sent or, without one, by what failed.
pub(super) fn classify(path: &Path, err: impl Into<Classified>) -> StoreError {
    let Classified { view, source } = err.into();
    let path = path.to_owned();
    let reason = view.text.clone();
    if let Some(code) = view.code.as_deref() {
        let class = &code[..code.len().min(2)];
        return match (class, code) {
            // Connection exceptions; the server shutting down, starting or full.
            ("08", _) | (_, "57P01" | "57P02" | "57P03" | "53300") => StoreError::Unreachable { path, reason },
            (_, "28000" | "28P01") => StoreError::CannotOpen {
                path,
                reason: format!("{reason}; check the user and password in the URL (and the server's pg_hba.conf)"),
            },
            (_, "3D000") => StoreError::CannotOpen {
                path,
                reason: format!("{reason}; create it first (createdb, or CREATE DATABASE) or name another in the URL"),
            },
            (_, "42501") => StoreError::CannotOpen {
                path,
                reason: format!("{reason}; the user needs the rights to create and write its tables in the database"),
            },
            (_, "25006") => StoreError::CannotOpen {
                path,
                reason: format!("{reason}; the server is read-only (a standby?): point the URL at the primary"),
            },
            (_, "53100") => StoreError::DiskFull { path },
            // The lock or statement timeout ran out.
            (_, "55P03" | "57014") => StoreError::Locked { path, waited: STATEMENT_TIMEOUT },
            // Integrity constraints, data exceptions (a NUL byte in text, a number out of
            // range) and program limits (a row too big): about the data.
            ("23" | "22" | "54", _) => StoreError::Rejected { path, detail: reason },
            // Tables or columns missing, or one of the same name not made by Vitals (found
            // when migrating): not the schema this Vitals made. Damaged data.
            (_, "42P01" | "42703" | "42P07" | "XX001" | "XX002") => StoreError::Corrupt { path, detail: reason },
            _ => match source {
                Some(source) => StoreError::Other { path, source },
                None => StoreError::Other { path, source: reason.into() },
            },
        };
    }
    let text = view.text.as_str();
    if view.closed
        || view.io
        || text.starts_with("error connecting to server")
        || text.starts_with("timeout waiting for server")
        || text.starts_with("error communicating with the server")
    {
        return StoreError::Unreachable { path, reason };
    }
    if text.starts_with("authentication error") {
        return StoreError::CannotOpen {
            path,
            reason: format!("{reason}; check the user and password in the URL (and the server's pg_hba.conf)"),
        };
    }
    if text.starts_with("error performing TLS handshake") {
        return StoreError::CannotOpen {
            path,
            reason: format!("{reason}; this Vitals connects without TLS: use sslmode=disable (or prefer) in the URL"),
        };
    }
    if text.starts_with("error serializing parameter") {
        return StoreError::Rejected { path, detail: reason };
    }
    if text.starts_with("error deserializing column") || text.starts_with("invalid column") {
        return StoreError::Corrupt { path, detail: reason };
    }
    match source {
        Some(source) => StoreError::Other { path, source },
        None => StoreError::Other { path, source: reason.into() },
    }
}

/// An error ready for [`classify`]: what it reads, and the error itself when there is one.
pub(super) struct Classified {
    view: ErrorView,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Classified {
    /// `pg` as [`classify`] reads it.
    pub(super) fn seeing(pg: &::postgres::Error) -> Self {
        Classified { view: clone_error(pg), source: None }
    }

    /// The same, with `outer` (the error `pg` came in) as the source.
    pub(super) fn caused_by(self, outer: Box<dyn std::error::Error + Send + Sync + 'static>) -> Self {
        Classified { source: Some(outer), ..self }
    }
}

impl std::fmt::Debug for Classified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.view.text)
    }
}

impl std::fmt::Display for Classified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.view.text)
    }
}

impl From<::postgres::Error> for Classified {
    fn from(e: ::postgres::Error) -> Classified {
        let view = clone_error(&e);
        Classified { view, source: Some(Box::new(e)) }
    }
}

impl From<ErrorView> for Classified {
    fn from(view: ErrorView) -> Classified {
        Classified { view, source: None }
    }
}
