//! Unit tests of how calls are judged (pure logic, no host calls), and the cases.

use super::*;
use crate::session::Fields;
use vitals_sdk::Timings;

fn config(json: &str) -> Config {
    match Config::parse(json) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

fn exchange(config: &Config) -> Exchange {
    let timings = Timings { dns_us: None, connect_us: Some(300), tls_us: None, first_byte_us: None, total_us: 350 };
    let mut exchange = Exchange::new(config, Link::new("127.0.0.1:50051", "127.0.0.1:50051".into(), timings));
    exchange.rpc = Some(Duration::from_micros(1_234));
    exchange.link.elapsed = Duration::from_millis(3);
    exchange.received = 133;
    exchange
}

fn fields(status: &str, grpc_status: Option<&str>, grpc_message: Option<&str>) -> Fields {
    Fields {
        status: Some(status.to_string()),
        content_type: Some("application/grpc".to_string()),
        grpc_status: grpc_status.map(str::to_string),
        grpc_message: grpc_message.map(str::to_string),
    }
}

fn answer(serving: u8) -> Response {
    Response { fields: fields("200", Some("0"), None), trailers_only: false, body: vec![0, 0, 0, 0, 2, 0x08, serving] }
}

fn trailers_only(grpc_status: &str, grpc_message: &str) -> Response {
    Response { fields: fields("200", Some(grpc_status), Some(grpc_message)), trailers_only: true, body: Vec::new() }
}

/// Judges `response` as `run` does, metrics and details included.
fn judged(json: &str, response: &Response) -> CheckResult {
    let config = config(json);
    let mut exchange = exchange(&config);
    let result = judge(&config, &mut exchange, response);
    result.with_metrics(metrics(&config, &exchange)).with_details(details(&config, &exchange))
}

fn value(result: &CheckResult, name: &str) -> Option<f64> {
    result.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

#[test]
fn serving_is_ok_with_the_call_time() {
    let result = judged("{}", &answer(1));
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "gRPC health of \"\" at 127.0.0.1:50051: SERVING in 1.2 ms");
    assert_eq!(value(&result, "time_connect"), Some(0.3));
    assert_eq!(value(&result, "time_rpc"), Some(1.234));
    assert_eq!(value(&result, "time_total"), Some(3.0));
    assert_eq!(value(&result, "serving_status"), Some(1.0));
    assert_eq!(value(&result, "time_tls"), None);
    let details = result.details.unwrap_or_default();
    assert!(details.contains(":status 200, content-type application/grpc"), "{details}");
    assert!(details.contains("grpc-status 0\n"), "{details}");
    assert!(details.ends_with("received: 133 B"), "{details}");
}

#[test]
fn thresholds_apply_to_the_call_time_and_ride_on_time_rpc() {
    let result = judged(r#"{"warn_time": "1ms", "crit_time": "10ms"}"#, &answer(1));
    assert_eq!(result.status, Status::Warning);
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert_eq!(
        result.summary,
        "gRPC health of \"\" at 127.0.0.1:50051: SERVING in 1.2 ms: slower than warn_time 1.0 ms"
    );
    let rpc = result.metrics.iter().find(|m| m.name == "time_rpc");
    assert_eq!(rpc.and_then(|m| m.warn.clone()).as_deref(), Some("1"));
    assert_eq!(rpc.and_then(|m| m.crit.clone()).as_deref(), Some("10"));
    assert_eq!(judged(r#"{"crit_time": "1ms"}"#, &answer(1)).status, Status::Critical);
    assert_eq!(judged(r#"{"warn_time": "2ms"}"#, &answer(1)).status, Status::Ok);
}

#[test]
fn every_other_serving_status_is_critical() {
    let result = judged(r#"{"service": "shop.Cart"}"#, &answer(2));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "gRPC health of \"shop.Cart\" at 127.0.0.1:50051: NOT_SERVING, expected SERVING");
    assert_eq!(value(&result, "serving_status"), Some(2.0));

    let result = judged(r#"{"service": "shop.Cart"}"#, &answer(3));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(result.summary.ends_with(": service \"shop.Cart\" is unknown to the server (SERVICE_UNKNOWN)"));

    let result = judged("{}", &answer(0));
    assert!(result.summary.ends_with(": UNKNOWN, expected SERVING"), "{}", result.summary);

    let result = judged("{}", &answer(7));
    assert_eq!(result.reason, Some(Reason::Protocol));
    assert_eq!(value(&result, "serving_status"), Some(7.0));
}

#[test]
fn grpc_errors_are_named_and_their_messages_cleaned() {
    let result = judged(r#"{"service": "no.Such"}"#, &trailers_only("5", "service%20not%20registered"));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert!(
        result
            .summary
            .ends_with(": service \"no.Such\" is unknown to the server (NOT_FOUND: \"service not registered\")"),
        "{}",
        result.summary
    );
    assert_eq!(value(&result, "serving_status"), None);
    assert!(result.details.unwrap_or_default().contains("grpc-status 5 (trailers-only response)"));

    let result = judged("{}", &trailers_only("16", "bad%0Atoken%1B[0m"));
    assert_eq!(result.reason, Some(Reason::Assertion));
    assert!(
        result.summary.ends_with(": authentication failed: \"bad token [0m\" (UNAUTHENTICATED)"),
        "{}",
        result.summary
    );

    let result = judged("{}", &trailers_only("12", ""));
    assert_eq!(result.reason, Some(Reason::Protocol));
    assert!(
        result.summary.ends_with(": the server does not implement grpc.health.v1 (UNIMPLEMENTED)"),
        "{}",
        result.summary
    );

    let result = judged("{}", &trailers_only("99", "x"));
    assert!(result.summary.ends_with(": the call failed with an unknown code (99): \"x\""), "{}", result.summary);

    let long = "y".repeat(500);
    let result = judged("{}", &trailers_only("13", &long));
    assert!(result.summary.chars().count() < 250, "{}", result.summary);
}

#[test]
fn http_and_grpc_framing_problems() {
    let mut response = trailers_only("14", "unavailable");
    response.fields.status = Some("503".into());
    let result = judged("{}", &response);
    assert_eq!(result.reason, Some(Reason::HttpStatus));
    assert!(result.summary.ends_with(": HTTP status 503, expected 200: \"unavailable\""), "{}", result.summary);

    let mut response = answer(1);
    response.fields.status = None;
    assert!(judged("{}", &response).summary.ends_with(": the response has no :status"));

    let mut response = answer(1);
    response.fields.grpc_status = Some("zero".into());
    let result = judged("{}", &response);
    assert_eq!(result.reason, Some(Reason::Protocol));
    assert!(result.summary.ends_with(": the grpc-status \"zero\" is not a number"));

    let mut response = answer(1);
    response.fields.content_type = None;
    assert_eq!(judged("{}", &response).status, Status::Ok, "a missing content-type is let pass");
    response.fields.content_type = Some("application/grpc+proto".into());
    assert_eq!(judged("{}", &response).status, Status::Ok);

    let mut response = answer(1);
    response.body.clear();
    assert!(judged("{}", &response).summary.ends_with(": the call succeeded without a response message"));
}

#[test]
fn peers_that_are_not_http2_are_quoted_or_recognised() {
    let config = config("{}");
    let exchange = exchange(&config);
    let result = not_http2(&config, &exchange, b"SSH-2.0-OpenSSH_9.6\r\n");
    assert_eq!(
        result.summary,
        "gRPC health of \"\" at 127.0.0.1:50051: the server does not speak HTTP/2: it sent \"SSH-2.0-OpenSSH_9.6\""
    );
    let result = not_http2(&config, &exchange, b"\x00\x00\x00\x00\x00\x00\x00\x00\x00");
    assert!(result.summary.ends_with("it sent 9 B that are not an HTTP/2 SETTINGS frame"), "{}", result.summary);
    let result = not_http2(&config, &exchange, b"\x16\x03\x03\x00\x10");
    assert!(result.summary.ends_with("(set tls = true)"), "{}", result.summary);
    let tls = self::config(r#"{"tls": true}"#);
    let result = not_http2(&tls, &exchange, b"\x16\x03\x03\x00\x10");
    assert!(!result.summary.contains("set tls"), "{}", result.summary);
}

#[test]
fn a_host_tls_error_is_not_repeated() {
    let err = NetError::Tls("TLS handshake with a.test failed: invalid peer certificate: Expired".into());
    assert_eq!(without_context(err), NetError::Tls("invalid peer certificate: Expired".into()));
    let err = NetError::Tls("received fatal alert: HandshakeFailure".into());
    assert_eq!(without_context(err.clone()), err);
}

#[test]
fn describe_lists_every_key() {
    let description = Grpc::describe();
    assert_eq!(description.name, "grpc");
    assert_eq!(description.version, "0.1.0");
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["service", "tls", "tls_verify", "server_name", "metadata", "warn_time", "crit_time"]);
    for metric in ["time_connect", "time_tls", "time_rpc", "time_total", "serving_status"] {
        assert!(description.summary.contains(metric), "{metric}");
    }
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Grpc::validate(r#"{"metadata": {"Bad Name": "x"}, "server_name": "", "warn_time": "1s"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("server_name"), Some("metadata")]);
    assert_eq!(
        Grpc::validate(r#"{"service": "a.B", "tls": true, "metadata": {"authorization": "Bearer ${env:T}"}}"#),
        []
    );
}

/// Answers made here, replayed natively by the test kit (which a wasm32 build leaves out).
#[cfg(not(target_arch = "wasm32"))]
mod replayed {
    use super::*;

    /// tonic-health's answer to `Check { service: "" }` (make_cases.py's RECORDED_SERVING).
    const RECORDED: &str = "000012040000000000000400100000000500004000000600004000000000040100000000000004080000000000000f0001\
        000026010400000001885f8b1d75d0620d263d4c4d65646196e4593e940094be52282009c502e5c03d700fa98b46ff\
        0000070000000000010000000002080100000c01050000000140889acac8b21234da8f8107";

    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..4 {
                out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
            }
        }
        out
    }

    /// The case that sends `request()` and then gets `answers` in turn, each a receive
    /// or (prefixed "send:") a send; its result.
    fn replay(steps: &[(&str, Vec<u8>)]) -> Result<CheckResult, Vec<String>> {
        let script: Vec<String> =
            steps.iter().map(|(kind, bytes)| format!("{{ {kind}_base64 = \"{}\" }}", base64(bytes))).collect();
        let toml = format!(
            "[[case]]\nname = \"made\"\ntarget = \"grpc.test:50051\"\nexpect.status = \"critical\"\n\
             [[case.tcp]]\nscript = [{{ send_base64 = \"{}\" }}, {}]\n",
            base64(&h2::request(&grpc::header_block(false, "grpc.test:50051", &[]), &grpc::request_message(""))),
            script.join(", ")
        );
        match vitals_sdk::testing::CaseFile::parse(&toml) {
            Ok(file) => vitals_sdk::testing::run_case::<Grpc>(&file.cases[0]),
            Err(error) => panic!("{error}"),
        }
    }

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        h2::frame(&mut out, kind, flags, stream, payload);
        out
    }

    #[test]
    fn more_than_a_mib_from_the_server_is_critical_protocol() {
        let settings = frame(h2::kind::SETTINGS, 0, 0, &[]);
        // Frames of a type no one defined, which a client ignores: 1.1 MiB of them.
        let flood: Vec<u8> = (0..70).flat_map(|_| frame(0xfa, 0, 0, &[0; h2::MAX_FRAME])).collect();
        let result = replay(&[("receive", settings), ("send", h2::settings_ack()), ("receive", flood)]);
        let result = result.unwrap_or_else(|misses| panic!("{misses:?}"));
        assert_eq!(result.reason, Some(Reason::Protocol));
        assert!(
            result.summary.ends_with(": the server sent more than 1 MiB without finishing the call"),
            "{}",
            result.summary
        );
    }

    /// Mangled answers (bytes flipped, cut, repeated, spliced with random ones) never make the
    /// plugin panic: every one ends in a result.
    #[test]
    fn mangled_answers_end_in_a_result() {
        let recorded: Vec<u8> =
            (0..RECORDED.len() / 2).map(|i| u8::from_str_radix(&RECORDED[2 * i..2 * i + 2], 16).unwrap_or(0)).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below.max(1) as u64) as usize
        };
        let mut critical = 0;
        for _ in 0..1500 {
            let mut bytes = recorded.clone();
            for _ in 0..=next(4) {
                let at = next(bytes.len());
                match next(4) {
                    0 => bytes[at] ^= 1 << next(8),
                    1 => bytes[at] = next(256) as u8,
                    2 => bytes.truncate(at),
                    _ => {
                        let piece: Vec<u8> = (0..next(40)).map(|_| next(256) as u8).collect();
                        bytes.splice(at..at, piece);
                    }
                }
                if bytes.is_empty() {
                    bytes.push(0);
                }
            }
            // Any result will do; `Ok` is a critical one the replay had nothing to say about
            // (it does about the SETTINGS ACK when the plugin still sends one).
            if replay(&[("receive", bytes)]).is_ok() {
                critical += 1;
            }
        }
        assert!(critical > 300, "only {critical} mangled answers were critical");
    }
}

// Every case of cases.toml, run natively through `Grpc::run` with the host's answers
// replayed; `vitals plugin test` replays the same file in the real sandbox.
vitals_sdk::test_cases!(Grpc, "cases.toml");
