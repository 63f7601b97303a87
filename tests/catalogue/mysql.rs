//! The `mysql` plugin against the local MariaDB on 127.0.0.1:3306 (root, empty password,
//! database `test`), against a user each test creates with the `mariadb` client and drops
//! again, and against servers that are not MySQL (closed, silent, another protocol).

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// The local server.
const TARGET: &str = "127.0.0.1:3306";

/// Runs one statement as root with the `mariadb` client; its output, or why it failed.
fn sql(statement: &str) -> Result<String, String> {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "--batch", "--skip-column-names", "-e", statement])
        .output()
        .map_err(|e| format!("run the mariadb client: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!("mariadb -e {statement:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// A name no other test run uses: the process, the time and a counter.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{nanos:x}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// A user with a password and SELECT on `test`, dropped when the guard goes, also when the
/// test fails. The server sees connections to 127.0.0.1 as coming from '127.0.0.1'
/// (`SELECT USER()` says `root@127.0.0.1`), so that is the account's host.
struct TempUser {
    name: String,
    password: String,
}

impl TempUser {
    fn create() -> TempUser {
        let user = TempUser { name: unique("vitals_my"), password: unique("pw") };
        let account = format!("'{}'@'127.0.0.1'", user.name);
        sql(&format!("CREATE USER {account} IDENTIFIED BY '{}'; GRANT SELECT ON test.* TO {account};", user.password))
            .unwrap_or_else(|e| panic!("{e}"));
        user
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        if let Err(e) = sql(&format!("DROP USER IF EXISTS '{}'@'127.0.0.1'", self.name)) {
            eprintln!("could not drop the test user {}: {e}", self.name);
        }
    }
}

#[test]
fn root_with_an_empty_password_logs_in_and_runs_select_1() {
    let (code, result, stderr) = run("mysql", TARGET, "", "database = \"test\"");
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    assert_eq!(code, 0);
    let text = summary(&result);
    assert!(text.contains("MariaDB") && text.contains(" on 127.0.0.1:3306: "), "{text}");
    assert!(text.contains("\"root\" logged in, SELECT 1 returned \"1\" in "), "{text}");
    for name in ["time_connect", "time_auth", "time_query", "time_total"] {
        assert!(metric(&result, name).is_some_and(|v| v >= 0.0), "{name} in {result:#}");
    }
    let (connect, total) = (metric(&result, "time_connect"), metric(&result, "time_total"));
    assert!(connect <= total, "{result:#}");
    assert!(result["details"].as_str().unwrap_or("").contains("authentication plugin: mysql_native_password"));
}

#[test]
fn a_user_with_its_password_from_the_environment_logs_in() {
    let user = TempUser::create();
    let config = format!("user = \"{}\"\npassword = \"${{env:VITALS_TEST_MY_PW}}\"\ndatabase = \"test\"", user.name);
    let (_, result, stderr) = run_env("mysql", TARGET, "", &config, &[("VITALS_TEST_MY_PW", user.password.as_str())]);
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    assert!(summary(&result).contains(&format!("\"{}\" logged in", user.name)), "{result:#}");
    let shown = result.to_string();
    assert!(!shown.contains(&user.password), "the password is shown: {shown}");
}

#[test]
fn a_wrong_password_is_critical_authentication_failed() {
    let user = TempUser::create();
    let config = format!("user = \"{}\"\npassword = \"not-{}\"", user.name, user.password);
    let (code, result, _) = run("mysql", TARGET, "", &config);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert_eq!(code, 2);
    let expected = format!("authentication failed for user \"{}\": Access denied for user '{}'@", user.name, user.name);
    assert!(summary(&result).starts_with(&expected), "{result:#}");
    assert!(summary(&result).contains("(using password: YES)"), "{result:#}");
}

#[test]
fn a_database_that_does_not_exist_is_critical() {
    let database = unique("vitals_no_db");
    let (_, result, _) = run("mysql", TARGET, "", &format!("database = \"{database}\""));
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    let expected = format!("refused the login of \"root\": ERROR 1049 (42000): Unknown database '{database}'");
    assert!(summary(&result).ends_with(&expected), "{result:#}");
}

#[test]
fn a_query_whose_value_is_the_expected_one_is_ok() {
    let config = "database = \"test\"\nquery = \"SELECT CONCAT('vit', 'als')\"\nexpect = \"vitals\"";
    let (_, result, stderr) = run("mysql", TARGET, "", config);
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    assert!(summary(&result).contains("query returned \"vitals\" in "), "{result:#}");
    assert!(metric(&result, "time_query").is_some_and(|v| v >= 0.0), "{result:#}");
}

#[test]
fn a_query_whose_value_is_another_is_critical() {
    let config = "query = \"SELECT CONCAT('vit', 'als')\"\nexpect = \"healthy\"";
    let (_, result, _) = run("mysql", TARGET, "", config);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": query returned \"vitals\", expected \"healthy\""), "{result:#}");
}

#[test]
fn a_query_that_writes_is_refused_by_the_read_only_session() {
    let table = unique("vitals_never");
    let config = format!("query = \"CREATE TABLE test.{table} (i INT)\"");
    let (_, result, _) = run("mysql", TARGET, "", &config);
    assert_eq!((status(&result), reason(&result)), ("unknown", "plugin-error"), "{result:#}");
    assert!(summary(&result).contains("the query is not read-only, so it was not run: ERROR 1792"), "{result:#}");
    let tables = sql(&format!("SHOW TABLES FROM test LIKE '{table}'")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tables, "", "the table was created");
}

#[test]
fn threads_connected_outside_connections_warn_is_a_warning() {
    let (_, result, _) = run("mysql", TARGET, "", "connections_warn = \"~:0\"\nconnections_crit = \"~:100000\"");
    assert_eq!((status(&result), reason(&result)), ("warning", "assertion"), "{result:#}");
    assert!(
        summary(&result).contains(": Threads_connected ")
            && summary(&result).ends_with(" outside connections_warn \"~:0\""),
        "{result:#}"
    );
    // This check's own connection is one of them.
    assert!(metric(&result, "connections").is_some_and(|n| n >= 1.0), "{result:#}");
}

#[test]
fn tls_is_used_when_the_server_offers_it_and_refused_when_it_does_not() {
    let have_ssl = sql("SHOW VARIABLES LIKE 'have_ssl'").unwrap_or_else(|e| panic!("{e}"));
    let (_, result, _) = run("mysql", TARGET, "", "tls = true\ntls_verify = false");
    if have_ssl.ends_with("YES") {
        assert_eq!(status(&result), "ok", "{result:#}");
        assert!(metric(&result, "time_tls").is_some(), "{result:#}");
    } else {
        assert_eq!((status(&result), reason(&result)), ("critical", "tls"), "{have_ssl}: {result:#}");
        assert!(summary(&result).ends_with("on 127.0.0.1:3306 does not offer TLS, and tls is on"), "{result:#}");
    }
}

#[test]
fn a_closed_port_is_critical_connect() {
    let port = servers::closed_port();
    let target = format!("127.0.0.1:{port}");
    let (_, result, _) = run("mysql", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "connect"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result:#}");
}

#[test]
fn a_server_that_never_greets_is_critical_timeout() {
    let target = servers::silent().to_string();
    let (_, result, _) = run("mysql", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "timeout"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("read the server greeting from {target} failed: ")), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn a_server_of_another_protocol_is_critical_protocol() {
    let target = servers::banner("SSH-2.0-OpenSSH_9.6\r\n").to_string();
    let (_, result, _) = run("mysql", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}");
    let expected =
        format!("{target} does not speak the MySQL protocol: expected a greeting, got \"SSH-2.0-OpenSSH_9.6\"");
    assert_eq!(summary(&result), expected, "{result:#}");
}
