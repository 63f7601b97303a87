//! The `postgres` plugin against the local PostgreSQL on 127.0.0.1:5432, whose pg_hba.conf
//! trusts local roles (so no password is ever asked for there: the cleartext, MD5 and
//! SCRAM-SHA-256 logins are covered by the plugin's native cases), and against the support
//! servers for peers that refuse, hang or speak something else.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// The shared local PostgreSQL.
const PG: &str = "127.0.0.1:5432";

/// `psql` as the superuser against the shared server; its output, trimmed.
fn psql(sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-XAtc", sql])
        .output()
        .expect("run psql (is postgresql-client installed?)");
    assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A name no other test, run or user has: `vitals_pg_<pid>_<n>_<what>`.
fn unique(what: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("vitals_pg_{}_{}_{what}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A login role of this test's own, dropped when the value is (even when the test fails).
struct Role {
    name: String,
}

impl Role {
    fn new(password: &str) -> Role {
        let name = unique("role");
        psql(&format!("CREATE ROLE {name} LOGIN PASSWORD '{password}'"));
        Role { name }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-XAtc"])
            .arg(format!("DROP ROLE IF EXISTS {}", self.name))
            .output();
    }
}

#[test]
fn select_1_as_postgres_is_ok_with_every_phase_time() {
    let (code, result, stderr) = run("postgres", PG, "", "user = \"postgres\"");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result:#}\n{stderr}");
    let text = summary(&result);
    assert!(text.starts_with("PostgreSQL ") && text.contains(" on 127.0.0.1:5432"), "{text}");
    assert!(text.contains(": SELECT 1 returned \"1\" in "), "{text}");
    for name in ["time_connect", "time_auth", "time_query", "time_total"] {
        assert!(metric(&result, name).is_some_and(|ms| ms >= 0.0), "{name} in {result:#}");
    }
    let details = result["details"].as_str().unwrap_or("");
    assert!(details.contains("authentication: trust") && details.contains("database: \"postgres\""), "{details}");
}

#[test]
fn the_expected_value_in_the_first_column_is_ok() {
    let config = "query = \"SELECT current_database(), 'x'\"\nexpect = \"postgres\"";
    let (code, result, stderr) = run("postgres", PG, "", config);
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("\"SELECT current_database(), 'x'\" returned \"postgres\" in "), "{result:#}");
}

#[test]
fn a_value_other_than_the_expected_one_is_critical_assertion() {
    let (code, result, stderr) = run("postgres", PG, "", "query = \"SELECT 2\"\nexpect = \"1\"");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}\n{stderr}");
    let text = summary(&result);
    assert!(text.contains("\"SELECT 2\" returned \"2\" in ") && text.ends_with(": expected \"1\""), "{text}");
    assert!(metric(&result, "time_query").is_some(), "{result:#}");
}

#[test]
fn a_database_that_does_not_exist_is_critical_with_the_servers_message() {
    let database = unique("nodb");
    let (code, result, stderr) = run("postgres", PG, "", &format!("database = \"{database}\""));
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!(
            "login to database \"{database}\" as \"postgres\" failed: FATAL 3D000: database \"{database}\" does not exist"
        )
    );
}

#[test]
fn a_role_that_does_not_exist_is_an_authentication_failure() {
    let user = unique("norole");
    let (code, result, stderr) = run("postgres", PG, "", &format!("user = \"{user}\"\ndatabase = \"postgres\""));
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("authentication failed for user \"{user}\": FATAL 28000: role \"{user}\" does not exist")
    );
}

#[test]
fn a_role_of_its_own_logs_in_and_its_password_shows_nowhere() {
    // The server trusts 127.0.0.1, so it never asks for the password: this proves that a
    // configured secret changes nothing for such a server and stays out of every output.
    let password = format!("pw-{}", unique("secret"));
    let role = Role::new(&password);
    let config = format!(
        "user = \"{}\"\ndatabase = \"postgres\"\npassword = \"${{env:VITALS_TEST_PG_PASSWORD}}\"\nquery = \"SELECT current_user\"\nexpect = \"{}\"",
        role.name, role.name
    );
    let (code, result, stderr) = run_env("postgres", PG, "", &config, &[("VITALS_TEST_PG_PASSWORD", &password)]);
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result:#}\n{stderr}");
    assert!(summary(&result).contains(&format!("returned \"{}\"", role.name)), "{result:#}");
    assert!(!result.to_string().contains(&password) && !stderr.contains(&password), "{result:#}\n{stderr}");
}

#[test]
fn a_query_that_writes_is_refused_by_the_read_only_session() {
    let table = unique("table");
    let (code, result, stderr) = run("postgres", PG, "", &format!("query = \"CREATE TABLE {table} (x int)\""));
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "assertion"), "{result:#}\n{stderr}");
    assert!(
        summary(&result).ends_with("failed: ERROR 25006: cannot execute CREATE TABLE in a read-only transaction"),
        "{result:#}"
    );
    assert_eq!(psql(&format!("SELECT count(*) FROM pg_class WHERE relname = '{table}'")), "0");
}

#[test]
fn more_connections_than_connections_warn_is_a_warning() {
    // The check's own connection is a client backend, so there is always at least one.
    let (code, result, stderr) = run("postgres", PG, "", "connections_warn = \"0\"\nconnections_crit = \"100000\"");
    assert_eq!((code, status(&result), reason(&result)), (1, "warning", "assertion"), "{result:#}\n{stderr}");
    let count = metric(&result, "connections").unwrap_or(-1.0);
    assert!(count >= 1.0, "{result:#}");
    assert!(summary(&result).contains(" crossed connections_warn \"0\""), "{result:#}");
    let connections = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "connections")).cloned();
    assert_eq!(connections.as_ref().map(|m| m["warn"].clone()), Some(serde_json::json!("0")), "{connections:?}");
}

#[test]
fn the_replication_lag_of_a_primary_without_standbys_is_zero() {
    let (code, result, stderr) = run("postgres", PG, "", "replication_lag_warn = \"10s\"");
    assert_eq!((code, status(&result), reason(&result)), (0, "ok", ""), "{result:#}\n{stderr}");
    assert_eq!(metric(&result, "replication_lag"), Some(0.0), "{result:#}");
    assert!(summary(&result).contains(", replication lag "), "{result:#}");
    assert!(summary(&result).contains("(primary"), "{result:#}");
}

#[test]
fn a_closed_port_is_critical_connect() {
    let target = format!("127.0.0.1:{}", servers::closed_port());
    let (code, result, stderr) = run("postgres", &target, "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "connect"), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result:#}");
}

#[test]
fn a_server_that_never_answers_is_critical_timeout() {
    let target = servers::silent().to_string();
    let (code, result, stderr) = run("postgres", &target, "", "");
    assert_eq!((code, status(&result), reason(&result)), (2, "critical", "timeout"), "{result:#}\n{stderr}");
    // The default tls = "prefer" sends an SSLRequest first, and waits for its answer.
    assert!(summary(&result).starts_with(&format!("TLS negotiation with {target} failed: ")), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn a_server_that_speaks_something_else_is_critical_protocol_quoted() {
    let target = servers::banner("SSH-2.0-OpenSSH_9.6\r\n").to_string();
    for tls in ["prefer", "disable"] {
        let (code, result, stderr) = run("postgres", &target, "", &format!("tls = \"{tls}\""));
        assert_eq!((code, status(&result), reason(&result)), (2, "critical", "protocol"), "{result:#}\n{stderr}");
        assert_eq!(
            summary(&result),
            format!("{target} does not speak the PostgreSQL protocol: it sent \"SSH-2.0-OpenSSH_9.6\""),
            "tls = {tls}"
        );
    }
}
