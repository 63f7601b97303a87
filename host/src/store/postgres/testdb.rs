//! A database of its own for each test, on the PostgreSQL server at 127.0.0.1:5432 (trust
//! authentication; user `root`, else `postgres`), created when a test starts and dropped
//! when it ends. `VITALS_TEST_POSTGRES` names another server's admin URL.
//!
//! Every call to the server runs on a thread of its own: the sync client cannot run inside
//! the tokio runtime of a `#[tokio::test]`.

use ::postgres::{Client, NoTls};

use crate::store::PostgresSpec;

/// The admin URLs tried, in order.
fn admin_urls() -> Vec<String> {
    match std::env::var("VITALS_TEST_POSTGRES") {
        Ok(url) => vec![url],
        Err(_) => {
            vec!["postgres://root@127.0.0.1:5432/postgres".into(), "postgres://postgres@127.0.0.1:5432/postgres".into()]
        }
    }
}

/// Runs `f` on a thread outside any runtime.
pub(super) fn off_runtime<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match std::thread::spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// An admin connection to the server.
pub(super) fn admin() -> (Client, String) {
    let mut failures = Vec::new();
    for url in admin_urls() {
        match Client::connect(&url, NoTls) {
            Ok(client) => return (client, url),
            Err(e) => failures.push(format!("{url}: {e}")),
        }
    }
    panic!("no PostgreSQL server for the tests ({}); set VITALS_TEST_POSTGRES", failures.join("; "))
}

/// A database that lives as long as the value.
pub(super) struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// Creates an empty database.
    pub(super) fn new() -> TestDb {
        off_runtime(|| {
            let (mut client, admin_url) = admin();
            let name = format!("vitals_t_{:016x}", rand::random::<u64>());
            client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
            let url = match admin_url.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}"),
                None => panic!("admin URL {admin_url} names no database"),
            };
            TestDb { name, url }
        })
    }

    /// Its URL.
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// Its URL, parsed.
    pub(super) fn spec(&self) -> PostgresSpec {
        PostgresSpec::parse(&self.url).expect("a test database URL")
    }

    /// A plain connection to it (not through the store), on a thread outside any runtime.
    pub(super) fn with<R: Send + 'static>(&self, f: impl FnOnce(&mut Client) -> R + Send + 'static) -> R {
        let url = self.url.clone();
        off_runtime(move || {
            let mut client = Client::connect(&url, NoTls).expect("connect to the test database");
            f(&mut client)
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let dropped = off_runtime(move || {
            let (mut client, _) = admin();
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        });
        if let Err(e) = dropped {
            eprintln!("cannot drop test database {}: {e}", self.name);
        }
    }
}
