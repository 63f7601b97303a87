//! The `dns` check against a small name server this module starts on 127.0.0.1 (UDP and
//! TCP on one random port), which answers from a fixed table of records: every record
//! type, NXDOMAIN for unknown names, and names that misbehave (SERVFAIL, an answer too big
//! for UDP, no answer at all, garbage).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CAA, CNAME, MX, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use crate::support::{Sandbox, metric, toml_str};
use crate::{reason, run, status, summary};

/// The plugin under test.
const PLUGIN: &str = "dns";

/// Answered with SERVFAIL.
const SERVFAIL: &str = "servfail.example.test";
/// Twenty A records, sent over UDP as an empty answer with the TC bit (so the host asks
/// again over TCP), over TCP in full.
const BIG: &str = "big.example.test";
/// Never answered, over UDP or TCP.
const SILENT: &str = "silent.example.test";
/// Answered with bytes that are not a DNS message.
const GARBAGE: &str = "garbage.example.test";
/// Answered without the AA flag, as a cache would.
const CACHED: &str = "cached.example.test";
/// Answered with the AD flag, as a validating resolver would.
const SIGNED: &str = "signed.example.test";

/// The test name server, started once per test process.
fn server() -> SocketAddr {
    static SERVER: OnceLock<SocketAddr> = OnceLock::new();
    *SERVER.get_or_init(start)
}

/// `dns://SERVER/name`: a question to the test name server.
fn target(name: &str) -> String {
    format!("dns://{}/{name}", server())
}

/// `from 127.0.0.1:PORT: `, as a summary names the test name server.
fn from() -> String {
    format!("from {}: ", server())
}

/// Binds UDP on a random port and TCP on the same one, and serves both on threads.
fn start() -> SocketAddr {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind the test name server (UDP)");
        let addr = udp.local_addr().expect("its address");
        // The same port may be taken for TCP by someone else: then try another.
        let Ok(tcp) = TcpListener::bind(addr) else { continue };
        thread::spawn(move || serve_udp(udp));
        thread::spawn(move || {
            for stream in tcp.incoming().flatten() {
                thread::spawn(move || serve_tcp(stream));
            }
        });
        return addr;
    }
    panic!("no port was free for both UDP and TCP");
}

fn serve_udp(socket: UdpSocket) {
    let mut buf = [0u8; 4096];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf) else { continue };
        if let Some(answer) = answer(&buf[..n], false) {
            let _ = socket.send_to(&answer, peer);
        }
    }
}

/// Length-prefixed messages (RFC 1035 4.2.2), one answer per question, until the client
/// closes; a question never answered keeps the connection open and silent.
fn serve_tcp(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut question = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut question).is_err() {
            return;
        }
        let Some(answer) = answer(&question, true) else {
            thread::sleep(Duration::from_secs(30));
            return;
        };
        let Ok(len) = u16::try_from(answer.len()) else { return };
        if stream.write_all(&len.to_be_bytes()).and_then(|()| stream.write_all(&answer)).is_err() {
            return;
        }
    }
}

/// The bytes answering the message `question`; none for a name never answered.
fn answer(question: &[u8], over_tcp: bool) -> Option<Vec<u8>> {
    let request = Message::from_vec(question).ok()?;
    let query: Query = request.queries().first()?.clone();
    let name = query.name().to_ascii().trim_end_matches('.').to_ascii_lowercase();
    let mut response = Message::new();
    response
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(request.op_code())
        .set_recursion_desired(request.recursion_desired())
        .set_authoritative(name != CACHED)
        .set_authentic_data(name == SIGNED)
        .add_query(query.clone());
    match name.as_str() {
        SILENT => return None,
        GARBAGE => return Some(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec()),
        SERVFAIL => {
            response.set_authoritative(false).set_response_code(ResponseCode::ServFail);
        }
        BIG if !over_tcp => {
            response.set_truncated(true);
        }
        _ => match lookup(&name, query.query_type()) {
            Some(records) => {
                response.add_answers(records);
            }
            None => {
                response.set_response_code(ResponseCode::NXDomain);
            }
        },
    }
    response.to_vec().ok()
}

/// The records of `name` of type `kind`, after a CNAME as a name server follows it; none
/// when the zone has no such name.
fn lookup(name: &str, kind: RecordType) -> Option<Vec<Record>> {
    let all = zone(name);
    if all.is_empty() {
        return None;
    }
    if kind != RecordType::CNAME
        && let Some(alias) = all.iter().find(|r| r.record_type() == RecordType::CNAME)
    {
        let mut chain = vec![alias.clone()];
        if let RData::CNAME(CNAME(canonical)) = alias.data() {
            chain.extend(lookup(canonical.to_ascii().trim_end_matches('.'), kind).unwrap_or_default());
        }
        return Some(chain);
    }
    Some(all.into_iter().filter(|r| r.record_type() == kind).collect())
}

fn fqdn(name: &str) -> Name {
    Name::from_ascii(format!("{name}.")).expect("a valid name in the test zone")
}

/// The test zone: every record of `name`.
fn zone(name: &str) -> Vec<Record> {
    let record = |ttl: u32, data: RData| Record::from_rdata(fqdn(name), ttl, data);
    let v4 = |d: u8| RData::A(A(Ipv4Addr::new(192, 0, 2, d)));
    match name {
        "www.example.test" => vec![
            record(300, v4(1)),
            record(60, v4(2)),
            record(300, RData::AAAA(AAAA(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)))),
        ],
        "example.test" => vec![
            record(3600, RData::MX(MX::new(10, fqdn("mx1.example.test")))),
            record(3600, RData::MX(MX::new(20, fqdn("mx2.example.test")))),
            record(300, RData::TXT(TXT::new(vec!["v=spf1 -all".to_string()]))),
            record(86400, RData::NS(NS(fqdn("ns1.example.test")))),
            record(
                3600,
                RData::SOA(SOA::new(
                    fqdn("ns1.example.test"),
                    fqdn("hostmaster.example.test"),
                    2024010101,
                    3600,
                    600,
                    86400,
                    300,
                )),
            ),
            // The issuer as CA/Browser Forum practice writes it, without a trailing dot.
            record(3600, RData::CAA(CAA::new_issue(false, Name::from_ascii("letsencrypt.org").ok(), vec![]))),
        ],
        "alias.example.test" => vec![record(30, RData::CNAME(CNAME(fqdn("www.example.test"))))],
        "_http._tcp.example.test" => vec![record(300, RData::SRV(SRV::new(10, 5, 80, fqdn("www.example.test"))))],
        "1.2.0.192.in-addr.arpa" => vec![record(300, RData::PTR(PTR(fqdn("www.example.test"))))],
        BIG => (10..30).map(|d| record(120, v4(d))).collect(),
        CACHED => vec![record(42, v4(7))],
        SIGNED => vec![record(300, v4(8))],
        _ => vec![],
    }
}

#[test]
fn a_records_with_the_expected_addresses_are_ok() {
    let (code, result, stderr) = run(
        PLUGIN,
        &target("www.example.test"),
        "",
        r#"expect = ["192.0.2.2", "192.0.2.1"]
expect_exactly = true"#,
    );
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}\n{stderr}");
    let expected = format!("A www.example.test {}192.0.2.1, 192.0.2.2 in ", from());
    assert!(summary(&result).starts_with(&expected), "{}", summary(&result));
    assert_eq!(metric(&result, "records"), Some(2.0));
    assert_eq!(metric(&result, "ttl_min"), Some(60.0));
    assert!(metric(&result, "time_query").is_some_and(|ms| ms >= 0.0), "{result:#}");
}

#[test]
fn every_record_type_is_asked_and_its_values_matched() {
    let cases = [
        ("www.example.test", "AAAA", r#"["2001:DB8::1"]"#, "2001:db8::1"),
        (
            "example.test",
            "MX",
            r#"["10 mx1.example.test", "mx2.example.test."]"#,
            "10 mx1.example.test., 20 mx2.example.test.",
        ),
        ("example.test", "TXT", r#"["v=spf1 -all"]"#, "v=spf1 -all"),
        ("example.test", "NS", r#"["NS1.example.test"]"#, "ns1.example.test."),
        (
            "example.test",
            "SOA",
            r#"["ns1.example.test hostmaster.example.test 2024010101"]"#,
            "ns1.example.test. hostmaster",
        ),
        ("_http._tcp.example.test", "SRV", r#"["10 5 80 www.example.test"]"#, "10 5 80 www.example.test."),
        ("example.test", "CAA", r#"["0 issue \"letsencrypt.org\""]"#, "0 issue \"letsencrypt.org\""),
        ("alias.example.test", "CNAME", r#"["www.example.test"]"#, "www.example.test."),
        ("1.2.0.192.in-addr.arpa", "PTR", r#"["www.example.test"]"#, "www.example.test."),
    ];
    for (name, kind, expect, shown) in cases {
        let config = format!("type = \"{kind}\"\nexpect = {expect}\nexpect_exactly = true\nauthoritative = true");
        let (code, result, stderr) = run(PLUGIN, &target(name), "", &config);
        assert_eq!((status(&result), code), ("ok", 0), "{kind} {name}: {result:#}\n{stderr}");
        let head = format!("{kind} {name} {}{shown}", from());
        assert!(summary(&result).starts_with(&head), "{kind}: {}", summary(&result));
        assert_eq!(reason(&result), "");
    }
}

#[test]
fn an_alias_is_followed_to_its_addresses() {
    let (_, result, _) = run(PLUGIN, &target("alias.example.test"), "", r#"expect = ["192.0.2.1"]"#);
    assert_eq!(status(&result), "ok", "{result:#}");
    assert!(summary(&result).contains(": 192.0.2.1, 192.0.2.2 in "), "{}", summary(&result));
    // The CNAME is in the answer section, but only the A records count.
    assert_eq!(metric(&result, "records"), Some(2.0));
    assert!(
        result["details"].as_str().unwrap_or("").contains("alias.example.test. 30 CNAME www.example.test."),
        "{result:#}"
    );
}

#[test]
fn a_missing_expected_value_is_critical_assertion() {
    let (code, result, _) = run(PLUGIN, &target("www.example.test"), "", r#"expect = ["192.0.2.1", "192.0.2.9"]"#);
    assert_eq!((status(&result), reason(&result), code), ("critical", "assertion", 2), "{result:#}");
    assert!(summary(&result).ends_with(": 192.0.2.9 not in the answer"), "{}", summary(&result));
    assert_eq!(metric(&result, "records"), Some(2.0));
}

#[test]
fn an_extra_record_under_expect_exactly_is_critical_assertion() {
    let (_, result, _) =
        run(PLUGIN, &target("www.example.test"), "", "expect = [\"192.0.2.1\"]\nexpect_exactly = true");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": 192.0.2.2 not expected"), "{}", summary(&result));
}

#[test]
fn a_name_that_must_not_exist_is_ok_when_it_does_not() {
    let (code, result, _) = run(PLUGIN, &target("gone.example.test"), "", r#"expect_rcode = "NXDOMAIN""#);
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}");
    assert!(
        summary(&result).starts_with(&format!("A gone.example.test {}NXDOMAIN in ", from())),
        "{}",
        summary(&result)
    );
    assert_eq!(metric(&result, "records"), Some(0.0));
}

#[test]
fn an_unknown_name_is_critical_dns() {
    let (code, result, _) = run(PLUGIN, &target("gone.example.test"), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "dns", 2), "{result:#}");
    assert!(summary(&result).contains("NXDOMAIN (expected NOERROR) in "), "{}", summary(&result));
}

#[test]
fn servfail_is_critical_dns() {
    let (_, result, _) = run(PLUGIN, &target(SERVFAIL), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "dns"), "{result:#}");
    let expected = format!("A {SERVFAIL} {}SERVFAIL (expected NOERROR) in ", from());
    assert!(summary(&result).starts_with(&expected), "{}", summary(&result));
}

#[test]
fn a_name_without_records_of_the_type_is_critical_assertion() {
    let (_, result, _) = run(PLUGIN, &target(CACHED), "", r#"type = "AAAA""#);
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).contains(": no AAAA records in "), "{}", summary(&result));
    assert!(summary(&result).ends_with(": expected at least 1"), "{}", summary(&result));
}

#[test]
fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    let (code, result, _) = run(PLUGIN, &target(BIG), "", "min_records = 20\nmax_records = 20");
    assert_eq!((status(&result), code), ("ok", 0), "{result:#}");
    assert_eq!(metric(&result, "records"), Some(20.0));
    // Five values are shown, the rest counted.
    assert!(summary(&result).contains("192.0.2.14 and 15 more in "), "{}", summary(&result));
}

#[test]
fn a_question_over_tcp_is_answered() {
    let (_, result, _) = run(PLUGIN, &target("www.example.test"), "", "tcp = true\nexpect = [\"192.0.2.1\"]");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert_eq!(metric(&result, "records"), Some(2.0));
}

#[test]
fn a_server_that_never_answers_is_critical_timeout() {
    let (code, result, _) = run(PLUGIN, &target(SILENT), "", "");
    assert_eq!((status(&result), reason(&result), code), ("critical", "timeout", 2), "{result:#}");
    let expected = format!("DNS query A {SILENT} to {} failed: no answer from {} within ", server(), server());
    assert!(summary(&result).starts_with(&expected), "{}", summary(&result));
}

#[test]
fn garbage_is_critical_protocol() {
    let (_, result, _) = run(PLUGIN, &target(GARBAGE), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "protocol"), "{result:#}");
    let expected = format!("DNS query A {GARBAGE} to {} failed: the server's answer ", server());
    assert!(summary(&result).starts_with(&expected), "{}", summary(&result));
}

#[test]
fn a_closed_udp_port_is_critical_connect() {
    let port = {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        socket.local_addr().expect("address").port()
    };
    let (_, result, _) = run(PLUGIN, &format!("dns://127.0.0.1:{port}/www.example.test"), "", "");
    assert_eq!((status(&result), reason(&result)), ("critical", "connect"), "{result:#}");
    assert!(summary(&result).contains(&format!("no DNS server at 127.0.0.1:{port}")), "{}", summary(&result));
}

#[test]
fn authoritative_requires_the_aa_flag() {
    let (_, result, _) = run(PLUGIN, &target(CACHED), "", "authoritative = true");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": not authoritative (no AA flag)"), "{}", summary(&result));
    let (_, result, _) = run(PLUGIN, &target(CACHED), "", "");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert_eq!(metric(&result, "ttl_min"), Some(42.0));
}

#[test]
fn dnssec_requires_the_ad_flag() {
    let (_, result, _) = run(PLUGIN, &target(SIGNED), "", "dnssec = true");
    assert_eq!(status(&result), "ok", "{result:#}");
    assert_eq!(metric(&result, "dnssec_authenticated"), Some(1.0));
    let (_, result, _) = run(PLUGIN, &target("www.example.test"), "", "dnssec = true");
    assert_eq!((status(&result), reason(&result)), ("critical", "assertion"), "{result:#}");
    assert!(summary(&result).ends_with(": not authenticated by DNSSEC (no AD flag)"), "{}", summary(&result));
    assert_eq!(metric(&result, "dnssec_authenticated"), Some(0.0));
}

#[test]
fn slower_than_warn_time_is_a_warning() {
    let (code, result, _) = run(PLUGIN, &target("www.example.test"), "", "warn_time = \"1us\"\ncrit_time = \"1h\"");
    assert_eq!((status(&result), reason(&result), code), ("warning", "assertion", 1), "{result:#}");
    assert!(summary(&result).contains(": slower than warn_time "), "{}", summary(&result));
}

#[test]
fn validate_refuses_an_unknown_record_type() {
    let toml = format!(
        "[[check]]\nname = \"c\"\nplugin = {}\ntarget = {}\n[check.config]\ntype = \"BOGUS\"\n",
        toml_str(PLUGIN),
        toml_str("dns://127.0.0.1:53/www.example.test")
    );
    let out = Sandbox::new(&toml).vitals(&["validate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("`type`") && stderr.contains("unknown record type \"BOGUS\""), "{stderr}");
}
