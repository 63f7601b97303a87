//! The `dns` host import as plain Rust: one question to one name server, over UDP (with a
//! retry over TCP when the answer is truncated) or TCP, within the call's time limit. The
//! server must be granted like any host and port; the system's resolver may be asked only
//! about a name the check is granted (its `dns:NAME` target).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

use crate::plan::grants::Grants;
use crate::runtime::imports::net::{NetError, human_duration};
use crate::runtime::output;

/// Most answer records handed to the plugin.
pub const MAX_RECORDS: usize = 256;
/// Longest record text kept, in bytes (a long TXT record is cut).
const MAX_DATA: usize = 2048;
/// Largest UDP answer read, in bytes (the EDNS payload size offered is smaller).
const UDP_BUFFER: usize = 4096;
/// The EDNS payload size offered (the DNS Flag Day 2020 value).
const EDNS_PAYLOAD: u16 = 1232;
/// Where the system's resolver configuration lives.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The record types a query may ask for (the WIT `record-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name.
    Cname,
    /// Mail exchanger.
    Mx,
    /// Text.
    Txt,
    /// Name server.
    Ns,
    /// Start of authority.
    Soa,
    /// Service.
    Srv,
    /// CA authorization.
    Caa,
    /// Pointer.
    Ptr,
}

impl Kind {
    fn record_type(self) -> RecordType {
        match self {
            Kind::A => RecordType::A,
            Kind::Aaaa => RecordType::AAAA,
            Kind::Cname => RecordType::CNAME,
            Kind::Mx => RecordType::MX,
            Kind::Txt => RecordType::TXT,
            Kind::Ns => RecordType::NS,
            Kind::Soa => RecordType::SOA,
            Kind::Srv => RecordType::SRV,
            Kind::Caa => RecordType::CAA,
            Kind::Ptr => RecordType::PTR,
        }
    }

    fn from_record_type(t: RecordType) -> Option<Kind> {
        Some(match t {
            RecordType::A => Kind::A,
            RecordType::AAAA => Kind::Aaaa,
            RecordType::CNAME => Kind::Cname,
            RecordType::MX => Kind::Mx,
            RecordType::TXT => Kind::Txt,
            RecordType::NS => Kind::Ns,
            RecordType::SOA => Kind::Soa,
            RecordType::SRV => Kind::Srv,
            RecordType::CAA => Kind::Caa,
            RecordType::PTR => Kind::Ptr,
            _ => return None,
        })
    }
}

/// One question, as the plugin asks it.
#[derive(Debug, Clone)]
pub struct DnsQuery {
    /// The name to look up.
    pub name: String,
    /// The type asked for.
    pub kind: Kind,
    /// `ip` or `ip:port`; none: the system's resolver.
    pub server: Option<String>,
    /// TCP instead of UDP.
    pub tcp: bool,
    /// Set the DO bit and ask for validation.
    pub dnssec: bool,
}

/// One answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name, with its trailing dot.
    pub name: String,
    /// Type.
    pub kind: Kind,
    /// TTL in seconds.
    pub ttl: u32,
    /// Presentation-format data.
    pub data: String,
}

/// What the server answered.
#[derive(Debug, Clone)]
pub struct DnsAnswer {
    /// `NOERROR`, `NXDOMAIN`, ...
    pub rcode: String,
    /// The answer section, bounded.
    pub records: Vec<DnsRecord>,
    /// The AD flag.
    pub authenticated: bool,
    /// The AA flag.
    pub authoritative: bool,
    /// Who answered.
    pub server: SocketAddr,
    /// Question to answer.
    pub time: Duration,
}

/// Asks `query` within `limit` (and before `deadline`), after checking the grants.
pub async fn resolve(
    grants: &Grants,
    query: DnsQuery,
    limit: Duration,
    deadline: Instant,
) -> Result<DnsAnswer, NetError> {
    let name = Name::from_ascii(query.name.trim())
        .map_err(|e| NetError::Invalid(format!("{:?} is not a valid DNS name: {e}", query.name)))?;
    let server = match &query.server {
        Some(text) => {
            let addr = parse_server(text)?;
            if !grants.allows_addr(&addr.ip().to_string(), addr) {
                return Err(NetError::Denied(format!(
                    "name server {addr} is not granted to this check; make it the check's target \
                     (dns://{addr}/NAME) or add \"{addr}\" to its allow list"
                )));
            }
            addr
        }
        None => {
            let asked = query.name.trim().trim_end_matches('.');
            if !grants.allows(asked, 53) {
                return Err(NetError::Denied(format!(
                    "asking the system's resolver about {asked:?} is not granted to this check; make it the \
                     check's target (dns:{asked}) or add \"{asked}:53\" to its allow list"
                )));
            }
            system_server().await?
        }
    };
    let mut message = Message::new();
    message
        .set_id(rand::random::<u16>())
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name, query.kind.record_type()));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    if query.dnssec {
        edns.set_dnssec_ok(true);
        message.set_authentic_data(true);
    }
    message.set_edns(edns);
    let bytes = message.to_vec().map_err(|e| NetError::Invalid(format!("cannot encode the query: {e}")))?;
    let end = (Instant::now() + limit).min(deadline);
    let start = Instant::now();
    let exchange = async {
        let answer = if query.tcp { over_tcp(server, &bytes).await? } else { over_udp(server, &bytes).await? };
        let answer = parse(&answer, message.id())?;
        if answer.truncated() && !query.tcp {
            parse(&over_tcp(server, &bytes).await?, message.id())
        } else {
            Ok(answer)
        }
    };
    let answer = match tokio::time::timeout_at(end, exchange).await {
        Ok(answer) => answer?,
        Err(_) => {
            return Err(NetError::Timeout(format!(
                "no answer from {server} within {}",
                human_duration(end.saturating_duration_since(start))
            )));
        }
    };
    let time = start.elapsed();
    let records = answer
        .answers()
        .iter()
        .filter_map(|r| {
            Some(DnsRecord {
                name: output::one_line(&r.name().to_string(), 256),
                kind: Kind::from_record_type(r.record_type())?,
                ttl: r.ttl(),
                data: output::one_line(&r.data().to_string(), MAX_DATA),
            })
        })
        .take(MAX_RECORDS)
        .collect();
    Ok(DnsAnswer {
        rcode: rcode(answer.response_code()),
        records,
        authenticated: answer.authentic_data(),
        authoritative: answer.authoritative(),
        server,
        time,
    })
}

/// `ip` or `ip:port` (`[v6]:port`); names are refused, since resolving the resolver
/// would need a resolver.
fn parse_server(text: &str) -> Result<SocketAddr, NetError> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = text.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(NetError::Invalid(format!(
        "name server {text:?} is not an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)"
    )))
}

/// The first name server of the system's resolver configuration.
async fn system_server() -> Result<SocketAddr, NetError> {
    let text = tokio::fs::read(RESOLV_CONF)
        .await
        .map_err(|e| NetError::Dns(format!("cannot read the system's resolver configuration {RESOLV_CONF}: {e}")))?;
    let config =
        resolv_conf::Config::parse(&text).map_err(|e| NetError::Dns(format!("cannot parse {RESOLV_CONF}: {e}")))?;
    config
        .nameservers
        .first()
        .map(|ns| SocketAddr::new(IpAddr::from(ns.clone()), 53))
        .ok_or_else(|| NetError::Dns(format!("{RESOLV_CONF} names no name server")))
}

async fn over_udp(server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, NetError> {
    let local: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("literal address");
    let socket =
        UdpSocket::bind(local).await.map_err(|e| NetError::Connect(format!("cannot open a UDP socket: {e}")))?;
    socket.connect(server).await.map_err(|e| NetError::Connect(format!("cannot reach {server}: {e}")))?;
    socket.send(query).await.map_err(|e| NetError::Connect(format!("cannot send to {server}: {e}")))?;
    let mut buf = vec![0u8; UDP_BUFFER];
    // A connected UDP socket only takes datagrams from `server`; a refused port shows
    // as an error on receive (ICMP port unreachable).
    let n = socket.recv(&mut buf).await.map_err(|e| NetError::Connect(format!("no DNS server at {server}: {e}")))?;
    buf.truncate(n);
    Ok(buf)
}

async fn over_tcp(server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, NetError> {
    let mut stream =
        TcpStream::connect(server).await.map_err(|e| NetError::Connect(format!("cannot connect to {server}: {e}")))?;
    let len = u16::try_from(query.len()).map_err(|_| NetError::Invalid("the query is too long".into()))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    let broken = |e: std::io::Error| NetError::Protocol(format!("the DNS connection to {server} failed: {e}"));
    stream.write_all(&framed).await.map_err(broken)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.map_err(broken)?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut answer).await.map_err(broken)?;
    Ok(answer)
}

/// Decodes an answer and checks that it answers our question.
fn parse(bytes: &[u8], id: u16) -> Result<Message, NetError> {
    let message = Message::from_vec(bytes).map_err(|e| {
        NetError::Protocol(format!("the server's answer is not a DNS message ({e}); {} bytes", bytes.len()))
    })?;
    if message.id() != id || message.message_type() != MessageType::Response {
        return Err(NetError::Protocol("the server's answer does not answer the question sent (id mismatch)".into()));
    }
    Ok(message)
}

/// The mnemonic of a response code, as `dig` prints it.
fn rcode(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::YXDomain => "YXDOMAIN".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_ip_addresses_with_an_optional_port() {
        assert_eq!(parse_server("192.0.2.53").ok(), "192.0.2.53:53".parse().ok());
        assert_eq!(parse_server("127.0.0.1:5353").ok(), "127.0.0.1:5353".parse().ok());
        assert_eq!(parse_server("[::1]").ok(), "[::1]:53".parse().ok());
        assert!(matches!(parse_server("ns.example"), Err(NetError::Invalid(m)) if m.contains("not an IP address")));
    }

    #[test]
    fn response_codes_are_spelt_as_dig_spells_them() {
        assert_eq!(rcode(ResponseCode::NXDomain), "NXDOMAIN");
        assert_eq!(rcode(ResponseCode::NoError), "NOERROR");
    }
}
