//! The `ping` check against 127.0.0.1, the only address the tests may reach. Where this
//! machine lets the host open no ICMP socket (no CAP_NET_RAW and a closed
//! `net.ipv4.ping_group_range`), the tests assert the host's message that says how to
//! allow it instead. A host that never answers cannot be made on loopback without changing
//! the machine's firewall, so "no reply" is covered by the plugin's unit tests.

use crate::support::{Sandbox, metric};
use crate::{reason, run, status, summary};

/// Loopback, with a port the host's grants need and ICMP ignores.
const LOOPBACK: &str = "127.0.0.1:7";

/// Whether `result` is the host failing to open an ICMP socket, which must then explain
/// how to allow one.
fn no_icmp_socket(result: &serde_json::Value) -> bool {
    if (status(result), reason(result)) != ("critical", "connect") {
        return false;
    }
    let text = summary(result);
    assert!(text.starts_with("ping 127.0.0.1 failed: cannot open an ICMP socket"), "{result:#}");
    assert!(text.contains("ping_group_range") && text.contains("CAP_NET_RAW"), "{result:#}");
    true
}

#[test]
fn loopback_answers_every_request() {
    let (code, result, stderr) = run("ping", LOOPBACK, "", "count = 3\ninterval = \"100ms\"");
    if no_icmp_socket(&result) {
        return;
    }
    assert_eq!((status(&result), reason(&result)), ("ok", ""), "{result:#}\n{stderr}");
    assert_eq!(code, 0);
    assert!(summary(&result).starts_with("PING 127.0.0.1: 3/3 replies, rta "), "{result:#}");
    assert!(summary(&result).ends_with(", loss 0%"), "{result:#}");
    assert_eq!((metric(&result, "sent"), metric(&result, "received")), (Some(3.0), Some(3.0)));
    assert_eq!(metric(&result, "pl"), Some(0.0));
    let rta = metric(&result, "rta").expect("rta");
    let (min, max) = (metric(&result, "rtt_min").expect("rtt_min"), metric(&result, "rtt_max").expect("rtt_max"));
    assert!(0.0 <= min && min <= rta && rta <= max, "min {min} rta {rta} max {max}");
    let pl = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "pl")).expect("pl");
    assert_eq!((pl["unit"].as_str(), pl["warn"].as_str(), pl["crit"].as_str()), (Some("%"), Some("20"), Some("60")));
    assert_eq!(pl["max"].as_f64(), Some(100.0));
}

#[test]
fn an_average_round_trip_above_rtt_crit_is_critical() {
    let (code, result, stderr) = run("ping", LOOPBACK, "", "count = 2\ninterval = \"100ms\"\nrtt_crit = \"1us\"");
    if no_icmp_socket(&result) {
        return;
    }
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}\n{stderr}");
    assert_eq!(code, 2);
    assert!(summary(&result).starts_with("PING 127.0.0.1: 2/2 replies, "), "{result:#}");
    assert!(summary(&result).ends_with(": rta above rtt_crit 1 µs"), "{result:#}");
    let rta = result["metrics"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "rta")).expect("rta");
    assert_eq!(rta["crit"], "0.001");
}

#[test]
fn validate_refuses_more_requests_than_the_host_sends_and_names_the_key() {
    let sandbox = Sandbox::new(
        "[[check]]\nname = \"p\"\nplugin = \"ping\"\ntarget = \"127.0.0.1:7\"\n[check.config]\ncount = 50\n",
    );
    let out = sandbox.vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("`count`: must be from 1 to 20"), "{stderr}");
}
