//! The `ping` host import as plain Rust: ICMP echo requests to a host the check is
//! granted, through surge-ping (an unprivileged ICMP "ping" socket where
//! `net.ipv4.ping_group_range` allows it, a raw socket with the privilege).

use std::net::IpAddr;
use std::time::Duration;

use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};
use tokio::time::Instant;

use crate::plan::grants::Grants;
use crate::runtime::imports::net::{NetError, human_duration};

/// Most echo requests one call sends.
pub const MAX_COUNT: u32 = 20;
/// Largest payload, in bytes.
pub const MAX_SIZE: u32 = 1024;
/// Shortest interval between requests.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// What a series of echo requests found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingStats {
    /// The address pinged.
    pub address: IpAddr,
    /// Requests sent.
    pub sent: u32,
    /// Replies received.
    pub received: u32,
    /// Round-trip time of each reply.
    pub rtts: Vec<Duration>,
}

/// The request of one `echo` call.
#[derive(Debug, Clone)]
pub struct Echo {
    /// Name or address.
    pub host: String,
    /// Requests, 1 to [`MAX_COUNT`].
    pub count: u32,
    /// Time between requests.
    pub interval: Duration,
    /// Payload bytes.
    pub size: u32,
}

/// Pings `echo.host` within `limit` (and before `deadline`).
pub async fn echo(grants: &Grants, echo: Echo, limit: Duration, deadline: Instant) -> Result<PingStats, NetError> {
    let host = echo.host.trim().trim_matches(['[', ']']).to_string();
    if !grants.allows_host(&host) {
        return Err(NetError::Denied(format!(
            "pinging {host} is not granted to this check; make it the check's target or add \"{host}:*\" to its \
             allow list"
        )));
    }
    if echo.count == 0 || echo.count > MAX_COUNT || echo.size > MAX_SIZE {
        return Err(NetError::Invalid(format!(
            "ping sends 1 to {MAX_COUNT} requests of at most {MAX_SIZE} bytes (asked: {} of {})",
            echo.count, echo.size
        )));
    }
    let end = (Instant::now() + limit).min(deadline);
    let address = resolve(&host, end).await?;
    if !grants.allows_host_ip(&host, address) {
        return Err(NetError::Denied(format!("{host} resolved to {address}, which this check is not granted")));
    }
    let kind = if address.is_ipv4() { ICMP::V4 } else { ICMP::V6 };
    let client = Client::new(&Config::builder().kind(kind).build()).map_err(|e| {
        // surge-ping's own message carries advice of its own; the OS error is enough here.
        NetError::Connect(format!(
            "cannot open an ICMP socket ({}); allow unprivileged ICMP with `sysctl -w \
             net.ipv4.ping_group_range=\"0 2147483647\"`, or give vitals CAP_NET_RAW",
            std::io::Error::from(e.kind())
        ))
    })?;
    let mut pinger = client.pinger(address, PingIdentifier(rand::random())).await;
    let payload = vec![0x56u8; echo.size as usize];
    let interval = echo.interval.max(MIN_INTERVAL);
    let mut stats = PingStats { address, sent: 0, received: 0, rtts: Vec::new() };
    for seq in 0..echo.count {
        let now = Instant::now();
        if now >= end {
            break;
        }
        // Each reply may take until the next request is due, the last until the end.
        let wait = if seq + 1 == echo.count { end - now } else { interval.min(end - now) };
        pinger.timeout(wait);
        let started = Instant::now();
        stats.sent += 1;
        match pinger.ping(PingSequence(u16::try_from(seq).unwrap_or(u16::MAX)), &payload).await {
            Ok((_, rtt)) => {
                stats.received += 1;
                stats.rtts.push(rtt);
            }
            Err(SurgeError::Timeout { .. }) => {}
            Err(e) => return Err(NetError::Connect(format!("ping {address}: {e}"))),
        }
        let next = started + interval;
        if seq + 1 < echo.count && next < end {
            tokio::time::sleep_until(next).await;
        }
    }
    if stats.sent == 0 {
        return Err(NetError::Timeout(format!("no time left to ping {host} ({})", human_duration(limit))));
    }
    Ok(stats)
}

/// The first address of `host` (an IP literal is itself).
async fn resolve(host: &str, end: Instant) -> Result<IpAddr, NetError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let found = tokio::time::timeout_at(end, tokio::net::lookup_host((host, 0)))
        .await
        .map_err(|_| NetError::Timeout(format!("timed out resolving {host}")))?
        .map_err(|e| NetError::Dns(format!("{host}: could not resolve: {e}")))?;
    found.map(|a| a.ip()).next().ok_or_else(|| NetError::Dns(format!("{host} has no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(target: &str) -> Grants {
        Grants::for_check(target, &[]).expect("grants")
    }

    #[tokio::test]
    async fn loopback_answers_or_the_socket_error_says_how_to_allow_it() {
        let g = grants("127.0.0.1:1");
        let asked = Echo { host: "127.0.0.1".into(), count: 3, interval: MIN_INTERVAL, size: 56 };
        let soon = Instant::now() + Duration::from_secs(5);
        match echo(&g, asked, Duration::from_secs(5), soon).await {
            Ok(stats) => {
                assert_eq!((stats.sent, stats.received, stats.rtts.len()), (3, 3, 3), "{stats:?}");
                assert_eq!(stats.address.to_string(), "127.0.0.1");
            }
            // A machine that allows neither kind of ICMP socket: the error says what to do.
            Err(NetError::Connect(m)) => assert!(m.contains("ping_group_range"), "{m}"),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_ungranted_host_and_silly_counts_are_refused() {
        let g = grants("127.0.0.1:1");
        let soon = Instant::now() + Duration::from_secs(5);
        let other = Echo { host: "10.1.2.3".into(), count: 1, interval: MIN_INTERVAL, size: 56 };
        assert!(matches!(echo(&g, other, Duration::from_secs(1), soon).await, Err(NetError::Denied(_))));
        let many = Echo { host: "127.0.0.1".into(), count: 1000, interval: MIN_INTERVAL, size: 56 };
        assert!(matches!(echo(&g, many, Duration::from_secs(1), soon).await, Err(NetError::Invalid(_))));
    }
}
