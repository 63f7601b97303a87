//! The `redis` plugin against the local Redis on 127.0.0.1:6379, which has no password (a
//! test that needs one creates an ACL user of its own and deletes it again), and against
//! servers the tests start: a scripted Redis for replicas and maxmemory, which the shared
//! server must not be changed to have, and the support servers for peers that fail.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// The shared local Redis.
const REDIS: &str = "127.0.0.1:6379";

/// The environment variable the password tests pass the password through.
const PASSWORD_VAR: &str = "VITALS_TEST_REDIS_PASSWORD";

/// `redis-cli` against the shared server; its output, trimmed.
fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", "6379"])
        .args(args)
        .output()
        .expect("run redis-cli (is it installed?)");
    assert!(out.status.success(), "redis-cli {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An ACL user of this test's own on the shared server, allowed PING, INFO, AUTH and
/// HELLO, and deleted when dropped (even when the test fails).
struct AclUser {
    name: String,
}

impl AclUser {
    fn new(password: &str) -> AclUser {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!("vitals_{}_{nanos}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let secret = format!(">{password}");
        let reply = redis_cli(&["ACL", "SETUSER", &name, "on", &secret, "+ping", "+info", "+auth", "+hello"]);
        assert_eq!(reply, "OK", "ACL SETUSER {name}");
        AclUser { name }
    }
}

impl Drop for AclUser {
    fn drop(&mut self) {
        let _ =
            Command::new("redis-cli").args(["-h", "127.0.0.1", "-p", "6379", "ACL", "DELUSER", &self.name]).output();
    }
}

/// A server that speaks just enough RESP: `+OK` to AUTH, `+PONG` to PING and `info` as
/// INFO's bulk string.
fn scripted_redis(info: &str) -> SocketAddr {
    let info = info.replace('\n', "\r\n");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a scripted Redis");
    let addr = listener.local_addr().expect("scripted Redis address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let info = info.clone();
            thread::spawn(move || {
                let _ = answer_commands(stream, &info);
            });
        }
    });
    addr
}

/// Reads RESP commands (arrays of bulk strings) and answers each.
fn answer_commands(stream: TcpStream, info: &str) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let count: usize = line.trim().strip_prefix('*').and_then(|n| n.parse().ok()).unwrap_or(0);
        let mut args = Vec::new();
        for _ in 0..count {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let length: usize = header.trim().strip_prefix('$').and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut arg = vec![0; length + 2];
            reader.read_exact(&mut arg)?;
            arg.truncate(length);
            args.push(String::from_utf8_lossy(&arg).to_string());
        }
        let reply = match args.first().map(|a| a.to_ascii_uppercase()).as_deref() {
            Some("AUTH") => "+OK\r\n".to_string(),
            Some("PING") => "+PONG\r\n".to_string(),
            Some("INFO") => format!("${}\r\n{info}\r\n", info.len()),
            _ => "-ERR unknown command\r\n".to_string(),
        };
        writer.write_all(reply.as_bytes())?;
    }
}

const REPLICA_UP: &str = "# Server\nredis_version:7.2.4\n# Clients\nconnected_clients:4\n# Memory\n\
    used_memory:2097152\nmaxmemory:0\n# Replication\nrole:slave\nmaster_host:10.0.0.5\nmaster_port:6379\n\
    master_link_status:up\nmaster_last_io_seconds_ago:2\n";

const REPLICA_DOWN: &str = "# Server\nredis_version:7.2.4\n# Clients\nconnected_clients:1\n# Memory\n\
    used_memory:2097152\nmaxmemory:0\n# Replication\nrole:slave\nmaster_host:10.0.0.5\nmaster_port:6379\n\
    master_link_status:down\nmaster_last_io_seconds_ago:-1\nmaster_link_down_since_seconds:40\n";

/// A master using 900 KiB of its 1 MiB maxmemory (87.9%).
const NEARLY_FULL: &str = "# Server\nredis_version:7.2.4\n# Clients\nconnected_clients:2\n# Memory\n\
    used_memory:921600\nmaxmemory:1048576\n# Replication\nrole:master\n";

#[test]
fn the_local_master_answers_pong_and_info_with_its_metrics() {
    let (code, result, stderr) = run("redis", REDIS, "", "role = \"master\"");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    let text = summary(&result);
    assert!(text.starts_with("Redis "), "{text}");
    assert!(text.contains(" master at 127.0.0.1:6379, PONG in "), "{text}");
    assert!(metric(&result, "used_memory").is_some_and(|bytes| bytes > 0.0), "{result:#}");
    assert!(metric(&result, "connected_clients").is_some_and(|clients| clients >= 1.0), "{result:#}");
    for name in ["time_connect", "time_ping", "time_total"] {
        assert!(metric(&result, name).is_some_and(|ms| ms >= 0.0), "no {name}: {result:#}");
    }
    assert_eq!(metric(&result, "master_last_io"), None);
}

#[test]
fn used_memory_above_memory_warn_is_a_warning() {
    let (code, result, _) = run("redis", REDIS, "", "memory_warn = \"1KiB\"\nmemory_crit = \"1TiB\"");
    assert_eq!((status(&result), reason(&result), code), ("warning", "assertion", 1), "{result:#}");
    assert!(summary(&result).ends_with(": used memory above memory_warn 1 KiB"), "{result:#}");
    assert!(metric(&result, "used_memory").is_some_and(|bytes| bytes > 1024.0), "{result:#}");
}

#[test]
fn used_memory_above_memory_crit_is_critical() {
    let (code, result, _) = run("redis", REDIS, "", "memory_warn = \"512B\"\nmemory_crit = \"1KiB\"");
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    assert!(summary(&result).ends_with(": used memory above memory_crit 1 KiB"), "{result:#}");
}

#[test]
fn used_memory_as_a_share_of_maxmemory_warns_and_goes_critical() {
    let addr = scripted_redis(NEARLY_FULL).to_string();
    let (_, result, _) = run("redis", &addr, "", "memory_warn = \"80%\"\nmemory_crit = \"95%\"");
    assert_eq!((status(&result), reason(&result)), ("warning", "assertion"), "{result:#}");
    assert!(summary(&result).contains(", 900 KiB of 1 MiB used (87.9%), 2 clients"), "{result:#}");
    assert!(summary(&result).ends_with(": used memory 87.9% of maxmemory, above memory_warn 80%"), "{result:#}");
    assert_eq!(metric(&result, "used_memory"), Some(921600.0));

    let (_, result, _) = run("redis", &addr, "", "memory_warn = \"50%\"\nmemory_crit = \"85%\"");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": used memory 87.9% of maxmemory, above memory_crit 85%"), "{result:#}");
}

#[test]
fn a_percentage_without_maxmemory_is_unknown() {
    let addr = scripted_redis(REPLICA_UP).to_string();
    let (code, result, _) = run("redis", &addr, "", "memory_warn = \"80%\"");
    assert_eq!((status(&result), reason(&result), code), ("unknown", "plugin-error", 3), "{result:#}");
    assert!(
        summary(&result)
            .ends_with(": memory_warn 80% is a share of maxmemory, which is not set; give a size such as \"512MiB\""),
        "{result:#}"
    );
}

#[test]
fn a_ping_slower_than_warn_time_is_a_warning_and_than_crit_time_critical() {
    // Any PING over a real connection takes more than a microsecond.
    let (_, result, _) = run("redis", REDIS, "", "warn_time = \"1us\"");
    assert_eq!((status(&result), reason(&result)), ("warning", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": PING slower than warn_time 1 µs"), "{result:#}");
    assert!(metric(&result, "time_ping").is_some_and(|ms| ms > 0.001), "{result:#}");

    let (_, result, _) = run("redis", REDIS, "", "warn_time = \"1us\"\ncrit_time = \"1us\"");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": PING slower than crit_time 1 µs"), "{result:#}");
}

#[test]
fn a_master_where_a_replica_is_expected_is_critical() {
    let (_, result, _) = run("redis", REDIS, "", "role = \"replica\"");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": role is master, expected replica"), "{result:#}");
}

#[test]
fn a_replica_with_its_link_up_reports_master_last_io() {
    let addr = scripted_redis(REPLICA_UP).to_string();
    let (_, result, _) = run("redis", &addr, "", "role = \"replica\"");
    assert_eq!(status(&result), "ok", "{result:#}");
    let expected = format!("Redis 7.2.4 replica at {addr} (master 10.0.0.5:6379, link up), PONG in ");
    assert!(summary(&result).starts_with(&expected), "{result:#}");
    assert_eq!(metric(&result, "master_last_io"), Some(2.0));
    assert_eq!(metric(&result, "connected_clients"), Some(4.0));
}

#[test]
fn a_replica_whose_master_link_is_down_is_critical() {
    let addr = scripted_redis(REPLICA_DOWN).to_string();
    let (code, result, _) = run("redis", &addr, "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    assert!(summary(&result).ends_with(": link to master 10.0.0.5:6379 is down (for 40.0 s)"), "{result:#}");
    assert_eq!(metric(&result, "master_last_io"), None);
}

#[test]
fn an_acl_user_with_its_password_from_the_environment_is_ok() {
    let password = "pw-ok the-right-one";
    let user = AclUser::new(password);
    let config = format!("user = \"{}\"\npassword = \"${{env:{PASSWORD_VAR}}}\"", user.name);
    let (code, result, stderr) = run_env("redis", REDIS, "", &config, &[(PASSWORD_VAR, password)]);
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).contains(" master at 127.0.0.1:6379, PONG in "), "{result:#}");
    assert!(!result.to_string().contains(password), "the password leaked: {result:#}");
}

#[test]
fn a_wrong_password_is_critical_authentication_failed() {
    let user = AclUser::new("pw-right");
    let config = format!("user = \"{}\"\npassword = \"${{env:{PASSWORD_VAR}}}\"", user.name);
    let (code, result, stderr) = run_env("redis", REDIS, "", &config, &[(PASSWORD_VAR, "pw-wrong")]);
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    let expected = format!("authentication failed for user \"{}\": WRONGPASS ", user.name);
    assert!(summary(&result).starts_with(&expected), "{result:#}");
    assert!(!result.to_string().contains("pw-wrong") && !stderr.contains("pw-wrong"), "the password leaked");
    assert_eq!(metric(&result, "time_ping"), None);
}

#[test]
fn a_closed_port_is_critical_connect() {
    let target = format!("127.0.0.1:{}", servers::closed_port());
    let (_, result, _) = run("redis", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "connect"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("connect to {target} failed: ")), "{result:#}");
}

#[test]
fn a_server_that_never_answers_is_critical_timeout() {
    let target = servers::silent().to_string();
    let (_, result, _) = run("redis", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "timeout"), "{result:#}");
    assert!(summary(&result).starts_with(&format!("PING to {target} failed: ")), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn a_server_that_is_not_redis_is_critical_protocol_quoting_it() {
    let target = servers::banner("SSH-2.0-OpenSSH_9.6\r\n").to_string();
    let (_, result, _) = run("redis", &target, "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}");
    assert_eq!(summary(&result), format!("PING to {target}: expected +PONG, got \"SSH-2.0-OpenSSH_9.6\""));
}
