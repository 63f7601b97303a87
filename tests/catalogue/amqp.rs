//! The `amqp` plugin against RabbitMQ on 127.0.0.1:5672 (user guest, password guest, which
//! RabbitMQ accepts from loopback only) and against servers the tests start.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// RabbitMQ.
const SERVER: &str = "127.0.0.1:5672";

/// A server that reads the 8-byte protocol header, then sends `reply` and holds the
/// connection a moment.
fn scripted_server(reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a scripted server");
    let addr = listener.local_addr().expect("scripted server address");
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut header = [0u8; 8];
                if stream.read_exact(&mut header).is_ok() {
                    let _ = stream.write_all(reply);
                    thread::sleep(Duration::from_secs(2));
                }
            });
        }
    });
    addr
}

#[test]
fn guest_opens_the_default_vhost_and_the_summary_names_rabbitmq() {
    let (code, result, stderr) = run("amqp", SERVER, "", "");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    let text = summary(&result);
    assert!(text.starts_with("RabbitMQ "), "{result:#}");
    assert!(text.contains(" at 127.0.0.1:5672: user \"guest\" opened vhost \"/\" in "), "{result:#}");
    assert!(metric(&result, "time_open").is_some_and(|ms| ms > 0.0), "{result:#}");
    assert!(metric(&result, "time_connect").is_some_and(|ms| ms >= 0.0), "{result:#}");
    assert_eq!(metric(&result, "time_round_trip"), None);
    let details = result["details"].as_str().unwrap_or("");
    assert!(details.contains("product: RabbitMQ") && details.contains("mechanisms: "), "{details}");
    assert!(!details.contains("closing:"), "a clean Connection.Close/CloseOk: {details}");
}

#[test]
fn a_round_trip_through_a_temporary_queue_brings_the_message_back() {
    let (code, result, stderr) = run("amqp", SERVER, "", "round_trip = true");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).contains(", round trip in "), "{result:#}");
    assert!(metric(&result, "time_round_trip").is_some_and(|ms| ms > 0.0), "{result:#}");
    let details = result["details"].as_str().unwrap_or("");
    assert!(details.contains("round-trip queue: amq.gen-"), "{details}");
    assert!(!details.contains("closing:"), "{details}");
}

#[test]
fn the_password_from_the_environment_logs_in() {
    let (_, result, stderr) = run_env(
        "amqp",
        SERVER,
        "",
        "user = \"guest\"\npassword = \"${env:VITALS_TEST_AMQP_PASSWORD}\"",
        &[("VITALS_TEST_AMQP_PASSWORD", "guest")],
    );
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    // The secret is "guest", the user name too: the host masks every occurrence of it.
    assert!(summary(&result).contains(": user \"***\" opened vhost \"/\" in "), "{result:#}");
    assert!(!result.to_string().contains("guest"), "{result:#}");
}

#[test]
fn a_wrong_password_is_an_authentication_failure_that_never_shows_it() {
    let wrong = "not-the-guest-password-4b2e";
    let (code, result, stderr) = run_env(
        "amqp",
        SERVER,
        "",
        "password = \"${env:VITALS_TEST_AMQP_PASSWORD}\"",
        &[("VITALS_TEST_AMQP_PASSWORD", wrong)],
    );
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}\n{stderr}");
    assert!(
        summary(&result).starts_with("authentication failed for user \"guest\": ACCESS_REFUSED - Login was refused"),
        "{result:#}"
    );
    assert_eq!(metric(&result, "time_open"), None);
    assert!(!result.to_string().contains(wrong) && !stderr.contains(wrong), "{result:#}\n{stderr}");
}

#[test]
fn a_vhost_that_does_not_exist_is_refused() {
    let (_, result, stderr) = run("amqp", SERVER, "", "vhost = \"vitals-catalogue-no-such-vhost\"");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert!(
        summary(&result).starts_with("virtual host \"vitals-catalogue-no-such-vhost\" refused for user \"guest\": "),
        "{result:#}"
    );
    assert!(summary(&result).contains("NOT_ALLOWED"), "{result:#}");
}

#[test]
fn a_closed_port_is_critical_connect() {
    let port = servers::closed_port();
    let (code, result, stderr) = run("amqp", &format!("127.0.0.1:{port}"), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "connect", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to 127.0.0.1:{port} failed: ")), "{result:#}");
}

#[test]
fn a_silent_server_is_critical_timeout_within_the_check_timeout() {
    let addr = servers::silent();
    let (code, result, stderr) = run("amqp", &addr.to_string(), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "timeout", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("waiting for Connection.Start from {addr} failed: ")), "{result:#}");
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn a_server_speaking_something_else_is_critical_protocol_and_quoted() {
    let addr = servers::banner("SSH-2.0-OpenSSH_9.6\r\n");
    let (code, result, stderr) = run("amqp", &addr.to_string(), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "protocol", 2), "{result:#}\n{stderr}");
    assert_eq!(
        summary(&result),
        format!("{addr} does not speak AMQP 0-9-1: expected Connection.Start, got \"SSH-2.0-OpenSSH_9.6\"")
    );
}

#[test]
fn a_frame_announced_beyond_frame_max_is_refused_unread() {
    let addr = scripted_server(&[1, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF]);
    let (_, result, stderr) = run("amqp", &addr.to_string(), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("does not speak AMQP 0-9-1: a frame of 2.0 GiB announced"), "{result:#}");
}

#[test]
fn an_mqtt_broker_is_not_taken_for_an_amqp_server() {
    // Mosquitto drops a connection whose first bytes are no MQTT CONNECT.
    let (_, result, stderr) = run("amqp", "127.0.0.1:1883", "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), "127.0.0.1:1883 closed the connection while Connection.Start was expected");
}

#[test]
fn open_thresholds_warn_and_crit_with_the_ranges_on_the_metric() {
    let (code, result, stderr) = run("amqp", SERVER, "", "warn_time = \"1us\"\ncrit_time = \"1h\"");
    assert_eq!((status(&result), reason(&result), code), ("warning", "assertion", 1), "{result:#}\n{stderr}");
    assert!(summary(&result).ends_with(": opening slower than warn_time 1 µs"), "{result:#}");
    let open = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "time_open")).cloned();
    let open = open.unwrap_or_default();
    assert_eq!((open["warn"].as_str(), open["crit"].as_str()), (Some("0.001"), Some("3600000")), "{open}");

    let (code, result, _) = run("amqp", SERVER, "", "crit_time = \"1us\"");
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    assert!(summary(&result).ends_with(": opening slower than crit_time 1 µs"), "{result:#}");
}
