//! The `mqtt` plugin against Mosquitto on 127.0.0.1:1883 and against servers the tests
//! start. Mosquitto here allows anonymous clients and has no password file
//! (/etc/mosquitto/mosquitto.conf), so it accepts any user name and password: the refused
//! login is played by a scripted broker that answers CONNECT with CONNACK 5.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use crate::support::{metric, servers};
use crate::{reason, run, run_env, status, summary};

/// Mosquitto.
const BROKER: &str = "127.0.0.1:1883";

/// A broker of one answer: for every connection it reads one MQTT packet (the CONNECT),
/// hands it to the returned receiver, sends `reply` and holds the connection a moment.
fn scripted_broker(reply: &'static [u8]) -> (SocketAddr, Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a scripted broker");
    let addr = listener.local_addr().expect("scripted broker address");
    let (seen, packets) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            thread::spawn(move || {
                if let Ok(packet) = read_packet(&stream) {
                    let _ = seen.send(packet);
                    let _ = (&stream).write_all(reply);
                    thread::sleep(Duration::from_secs(2));
                }
            });
        }
    });
    (addr, packets)
}

/// One MQTT packet, whole: the first byte, the remaining length, the rest.
fn read_packet(mut stream: &TcpStream) -> std::io::Result<Vec<u8>> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut packet = vec![0u8; 1];
    stream.read_exact(&mut packet)?;
    let (mut length, mut multiplier) = (0usize, 1usize);
    loop {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte)?;
        packet.push(byte[0]);
        length += usize::from(byte[0] & 0x7F) * multiplier;
        multiplier *= 128;
        if byte[0] & 0x80 == 0 || packet.len() > 4 {
            break;
        }
    }
    let mut body = vec![0u8; length.min(1 << 16)];
    stream.read_exact(&mut body)?;
    packet.extend_from_slice(&body);
    Ok(packet)
}

#[test]
fn an_anonymous_client_is_accepted_by_mosquitto() {
    let (code, result, stderr) = run("mqtt", BROKER, "", "");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with("127.0.0.1:1883 accepted an anonymous client in "), "{result:#}");
    assert!(metric(&result, "time_connack").is_some_and(|ms| ms > 0.0), "{result:#}");
    assert!(metric(&result, "time_connect").is_some_and(|ms| ms >= 0.0), "{result:#}");
    assert!(metric(&result, "time_total").is_some_and(|ms| ms > 0.0), "{result:#}");
    assert_eq!(metric(&result, "time_round_trip"), None);
    let details = result["details"].as_str().unwrap_or("");
    assert!(details.contains("client id: vitals-c-"), "{details}");
}

#[test]
fn a_round_trip_through_mosquitto_brings_the_message_back() {
    let (code, result, stderr) = run("mqtt", BROKER, "", "round_trip = true");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    assert!(summary(&result).contains(", round trip in "), "{result:#}");
    assert!(metric(&result, "time_round_trip").is_some_and(|ms| ms > 0.0), "{result:#}");
    let details = result["details"].as_str().unwrap_or("");
    assert!(details.contains("round-trip topic: vitals/vitals-c-"), "{details}");
}

#[test]
fn a_round_trip_on_a_configured_topic_and_client_id() {
    let (_, result, stderr) = run(
        "mqtt",
        BROKER,
        "",
        "round_trip = true\nclient_id = \"vitals-catalogue-test\"\ntopic = \"vitals/catalogue/test\"",
    );
    assert_eq!(status(&result), "ok", "{result:#}\n{stderr}");
    let details = result["details"].as_str().unwrap_or("");
    assert!(details.contains("client id: vitals-catalogue-test"), "{details}");
    assert!(details.contains("round-trip topic: vitals/catalogue/test"), "{details}");
}

#[test]
fn a_refused_login_is_critical_and_the_password_comes_from_the_environment() {
    let (addr, packets) = scripted_broker(&[0x20, 0x02, 0x00, 0x05]);
    let secret = "mqtt-test-secret-7d1f";
    let (code, result, stderr) = run_env(
        "mqtt",
        &addr.to_string(),
        "",
        "user = \"monitor\"\npassword = \"${env:VITALS_TEST_MQTT_PASSWORD}\"",
        &[("VITALS_TEST_MQTT_PASSWORD", secret)],
    );
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), "authentication failed for user \"monitor\": not authorized (CONNACK 5)");
    assert!(metric(&result, "time_connack").is_some(), "{result:#}");
    // The broker got the substituted password; the output never shows it.
    let connect = packets.recv_timeout(Duration::from_secs(10)).expect("the scripted broker saw a CONNECT");
    assert!(connect.windows(secret.len()).any(|w| w == secret.as_bytes()), "{connect:?}");
    assert!(!result.to_string().contains(secret) && !stderr.contains(secret), "{result:#}\n{stderr}");
}

#[test]
fn a_closed_port_is_critical_connect() {
    let port = servers::closed_port();
    let (code, result, stderr) = run("mqtt", &format!("127.0.0.1:{port}"), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "connect", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("connect to 127.0.0.1:{port} failed: ")), "{result:#}");
}

#[test]
fn a_silent_server_is_critical_timeout_within_the_check_timeout() {
    let addr = servers::silent();
    let (code, result, stderr) = run("mqtt", &addr.to_string(), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "timeout", 2), "{result:#}\n{stderr}");
    assert!(summary(&result).starts_with(&format!("waiting for CONNACK from {addr} failed: ")), "{result:#}");
    // The plugin's own result, with the metrics it measured, not the host's deadline.
    assert!(metric(&result, "time_connect").is_some(), "{result:#}");
}

#[test]
fn a_server_speaking_something_else_is_critical_protocol_and_quoted() {
    let addr = servers::banner("SSH-2.0-OpenSSH_9.6\r\n");
    let (code, result, stderr) = run("mqtt", &addr.to_string(), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "protocol", 2), "{result:#}\n{stderr}");
    assert_eq!(summary(&result), format!("{addr} does not speak MQTT: expected CONNACK, got \"SSH-2.0-OpenSSH_9.6\""));
}

#[test]
fn a_packet_announced_beyond_one_mebibyte_is_refused_unread() {
    let (addr, _packets) = scripted_broker(&[0x20, 0xFF, 0xFF, 0xFF, 0x7F]);
    let (_, result, stderr) = run("mqtt", &addr.to_string(), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}\n{stderr}");
    assert!(summary(&result).contains("a packet of 256.0 MiB announced (at most 1 MiB)"), "{result:#}");
}

#[test]
fn connack_thresholds_warn_and_crit_with_the_ranges_on_the_metric() {
    let (code, result, stderr) = run("mqtt", BROKER, "", "warn_time = \"1us\"\ncrit_time = \"1h\"");
    assert_eq!((status(&result), reason(&result), code), ("warning", "assertion", 1), "{result:#}\n{stderr}");
    assert!(summary(&result).ends_with(": CONNACK slower than warn_time 1 µs"), "{result:#}");
    let connack = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "time_connack")).cloned();
    let connack = connack.unwrap_or_default();
    assert_eq!((connack["warn"].as_str(), connack["crit"].as_str()), (Some("0.001"), Some("3600000")), "{connack}");

    let (code, result, _) = run("mqtt", BROKER, "", "warn_time = \"1us\"\ncrit_time = \"1us\"");
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    assert!(summary(&result).ends_with(": CONNACK slower than crit_time 1 µs"), "{result:#}");
}
