//! A database of the test's own on the local PostgreSQL (127.0.0.1:5432, trust auth),
//! created empty and dropped when the value is, even when the test fails.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// `psql` as the superuser `root` against database `db`; its output, trimmed.
pub fn psql(db: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", "5432", "-U", "root", "-d", db, "-XAtc", sql])
        .output()
        .expect("run psql (is postgresql-client installed?)");
    assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A database of this test's own.
pub struct Database {
    /// Its name.
    pub name: String,
}

impl Database {
    /// Creates an empty database `vitals_t_<pid>_<n>`.
    pub fn new() -> Database {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("vitals_t_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        psql("postgres", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        psql("postgres", &format!("CREATE DATABASE {name}"));
        Database { name }
    }

    /// Its URL, through `port` (5432, or a proxy's).
    pub fn url_via(&self, port: u16) -> String {
        format!("postgres://root@127.0.0.1:{port}/{}", self.name)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        self.url_via(5432)
    }

    /// `psql` in this database.
    pub fn sql(&self, sql: &str) -> String {
        psql(&self.name, sql)
    }

    /// A count `sql` selects; 0 while it cannot be read (the tables are not made yet).
    pub fn count(&self, sql: &str) -> usize {
        Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", "5432", "-U", "root", "-d", &self.name, "-XAtc", sql])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "root", "-d", "postgres", "-XAtqc"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .output();
    }
}
