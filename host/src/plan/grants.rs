//! Grants: the hosts and ports one check may reach, parsed from its target and `allow` list.
//! Every network host call is checked here, by name before DNS and by address after it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a check's target or one of its `allow` entries could not be turned into a grant.
///
/// Each message names the offending text, says what is wrong with it and how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The check's target is not a URL with a host, nor `host:port`.
    #[error("check target {target:?}: {problem}")]
    Target {
        /// The target as written.
        target: String,
        /// What is wrong, and how to write it.
        problem: String,
    },
    /// One entry of the check's `allow` list is malformed.
    #[error("allow entry {entry:?}: {problem}")]
    Entry {
        /// The entry as written.
        entry: String,
        /// What is wrong, and how to write it.
        problem: String,
    },
}

/// Which hosts one rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    /// Every host (`*`).
    Any,
    /// One host name, lower case, without trailing dot.
    Name(String),
    /// Every strict subdomain of this name (`*.example.com` is stored as `example.com`).
    Subdomains(String),
    /// One IP address (canonical: IPv4-mapped IPv6 addresses are stored as IPv4).
    Ip(IpAddr),
    /// An address range; `network` has no host bits set.
    Cidr { network: IpAddr, prefix: u8 },
}

/// One granted host pattern with its port (`None`: any port).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    host: HostRule,
    port: Option<u16>,
}

impl Rule {
    /// Whether this rule names addresses (an IP literal or a CIDR range) rather than names.
    fn matches_ip(&self, ip: IpAddr, port: u16) -> bool {
        if !self.port_matches(port) {
            return false;
        }
        match &self.host {
            HostRule::Ip(granted) => *granted == ip,
            HostRule::Cidr { network, prefix } => cidr_contains(*network, *prefix, ip),
            HostRule::Any | HostRule::Name(_) | HostRule::Subdomains(_) => false,
        }
    }

    /// Whether this rule names `ip` (an IP literal or a CIDR range), on any port.
    fn matches_ip_any_port(&self, ip: IpAddr) -> bool {
        match &self.host {
            HostRule::Ip(granted) => *granted == ip,
            HostRule::Cidr { network, prefix } => cidr_contains(*network, *prefix, ip),
            HostRule::Any | HostRule::Name(_) | HostRule::Subdomains(_) => false,
        }
    }

    fn port_matches(&self, port: u16) -> bool {
        self.port.is_none_or(|granted| granted == port)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            HostRule::Any => f.write_str("*")?,
            HostRule::Name(name) => f.write_str(name)?,
            HostRule::Subdomains(name) => write!(f, "*.{name}")?,
            HostRule::Ip(IpAddr::V4(ip)) => write!(f, "{ip}")?,
            HostRule::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]")?,
            HostRule::Cidr { network: IpAddr::V4(ip), prefix } => write!(f, "{ip}/{prefix}")?,
            HostRule::Cidr { network: IpAddr::V6(ip), prefix } => write!(f, "[{ip}/{prefix}]")?,
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => f.write_str(":*"),
        }
    }
}

/// What one check may reach: its target's host and port, plus each entry of its `allow` list.
///
/// Names are compared case-insensitively with any trailing dot ignored. A name grant
/// matches that name only; IP literal and CIDR grants match addresses (an IP literal
/// target, or the addresses a granted name resolves to). Link-local addresses (cloud
/// metadata endpoints) and unspecified addresses are only reachable when granted as an
/// IP literal or CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grants {
    rules: Vec<Rule>,
    /// The CAs the check trusts instead of the system's (`ca`), if it names any.
    trust: Option<Trust>,
    /// `allow = ["system"]`: the facts of this machine (the `system` interface).
    system: bool,
    /// `allow = ["exec:/path"]`: the programs the check may run outside the sandbox.
    programs: Vec<String>,
    /// `target = "ping:HOST"`: hosts that may be pinged (the `ping` interface), on no port.
    icmp: Vec<HostRule>,
}

/// One `allow` entry: a network rule, or a capability beyond the network.
enum Entry {
    /// Hosts and ports.
    Net(Rule),
    /// `system`.
    System,
    /// `exec:/absolute/path`.
    Exec(String),
}

/// The certificate authorities one check trusts instead of the system's (`ca =
/// "file.pem"` on the check): read by the host from the operator's file when the config is
/// loaded, never by the plugin.
#[derive(Clone)]
pub struct Trust {
    path: std::path::PathBuf,
    roots: std::sync::Arc<rustls::RootCertStore>,
}

impl Trust {
    /// Reads every certificate of a PEM file; a file that cannot be read, holds no
    /// certificate or a certificate that is not a usable trust anchor is an error saying so.
    pub fn from_pem_file(path: &std::path::Path) -> Result<Trust, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut roots = rustls::RootCertStore::empty();
        for (n, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
            let cert =
                cert.map_err(|e| format!("certificate {} of {} is not valid PEM: {e}", n + 1, path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("certificate {} of {} cannot be a trust anchor: {e}", n + 1, path.display()))?;
        }
        if roots.is_empty() {
            return Err(format!("{} holds no PEM certificate", path.display()));
        }
        Ok(Trust { path: path.to_path_buf(), roots: std::sync::Arc::new(roots) })
    }

    /// The trust anchors.
    pub fn roots(&self) -> std::sync::Arc<rustls::RootCertStore> {
        std::sync::Arc::clone(&self.roots)
    }

    /// The file they came from.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trust").field("path", &self.path).field("roots", &self.roots.len()).finish()
    }
}

impl PartialEq for Trust {
    fn eq(&self, other: &Trust) -> bool {
        self.path == other.path && self.roots.len() == other.roots.len()
    }
}

impl Eq for Trust {}

impl Grants {
    /// Builds the grants of one check from its target (a URL such as
    /// `https://example.com/health`, or `host:port` such as `db.local:5432` or `[::1]:22`)
    /// and its `allow` entries (`host:port`, `host:*`, `*.example.com:443`, an IP literal,
    /// `[v6]:port`, a CIDR range such as `10.0.0.0/8:5432`, or `*:*` for everything).
    ///
    /// Two entries grant more than the network: `system` (the facts of this machine) and
    /// `exec:/absolute/path` (running that one program outside the sandbox). A target
    /// `system:WHAT` is about this machine and grants no host.
    pub fn for_check(target: &str, allow: &[String]) -> Result<Grants, GrantError> {
        let mut grants = Grants::default();
        if let Some(host) = target.trim().strip_prefix("ping:") {
            grants.icmp.push(ping_target(target, host)?);
        } else if let Some(rule) = parse_target(target)? {
            grants.push(rule);
        }
        for entry in allow {
            match classify_entry(entry)? {
                Entry::Net(rule) => grants.push(rule),
                Entry::System => grants.system = true,
                Entry::Exec(path) if !grants.programs.contains(&path) => grants.programs.push(path),
                Entry::Exec(_) => {}
            }
        }
        Ok(grants)
    }

    /// Checks one `allow` entry on its own, so that every bad entry of a list can be reported.
    pub fn check_entry(entry: &str) -> Result<(), GrantError> {
        classify_entry(entry).map(|_| ())
    }

    /// Whether the check may read the facts of this machine (`allow = ["system"]`).
    pub fn allows_system(&self) -> bool {
        self.system
    }

    /// Whether the check may run `program` (`allow = ["exec:PROGRAM"]`, the same path).
    pub fn allows_exec(&self, program: &str) -> bool {
        self.programs.iter().any(|p| p == program)
    }

    /// The programs the check may run outside the sandbox.
    pub fn programs(&self) -> &[String] {
        &self.programs
    }

    /// These grants, trusting the CAs of `trust` instead of the system's.
    pub fn trusting(mut self, trust: Trust) -> Grants {
        self.trust = Some(trust);
        self
    }

    /// The CAs the check trusts instead of the system's, if it names any.
    pub fn trust(&self) -> Option<&Trust> {
        self.trust.as_ref()
    }

    /// Grants that allow nothing (a plugin being described, not run).
    pub fn none() -> Grants {
        Grants::default()
    }

    fn push(&mut self, rule: Rule) {
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
    }

    /// Whether `host:port` may be reached, judged by the name (or IP literal) before any
    /// resolution. `host` may be a name, an IP literal or a bracketed IPv6 literal.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.allows_where(host, |rule| rule.port_matches(port), |rule, ip| rule.matches_ip(ip, port))
    }

    /// Whether `host` may be reached on some port: for ICMP echo, which has no port.
    pub fn allows_host(&self, host: &str) -> bool {
        let icmp = match parse_host_ip(host) {
            Some(ip) => self.icmp.contains(&HostRule::Ip(ip)),
            None => self.icmp.contains(&HostRule::Name(normalize_name(host))),
        };
        icmp || self.allows_where(host, |_| true, |rule, ip| rule.matches_ip_any_port(ip))
    }

    /// Whether `ip`, an address `host` resolved to, may be pinged (see [`Grants::allows_addr`]).
    pub fn allows_host_ip(&self, host: &str, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.icmp.contains(&HostRule::Ip(ip)) || self.rules.iter().any(|rule| rule.matches_ip_any_port(ip)) {
            return true;
        }
        !is_sensitive(ip) && self.allows_host(host)
    }

    fn allows_where(&self, host: &str, port_ok: impl Fn(&Rule) -> bool, ip_ok: impl Fn(&Rule, IpAddr) -> bool) -> bool {
        match parse_host_ip(host) {
            Some(ip) => self.rules.iter().any(|rule| ip_ok(rule, ip) || (rule.host == HostRule::Any && port_ok(rule))),
            None => {
                let name = normalize_name(host);
                self.rules.iter().any(|rule| {
                    port_ok(rule)
                        && match &rule.host {
                            HostRule::Any => true,
                            HostRule::Name(granted) => *granted == name,
                            HostRule::Subdomains(parent) => is_strict_subdomain(&name, parent),
                            HostRule::Ip(_) | HostRule::Cidr { .. } => false,
                        }
                })
            }
        }
    }

    /// Whether `addr`, an address that `host` resolved to (or the IP literal itself), may
    /// be connected to. Link-local (169.254.0.0/16, fe80::/10) and unspecified (0.0.0.0,
    /// ::) addresses are refused unless granted as an IP literal or CIDR range; other
    /// addresses, loopback and private ranges included, are allowed when `host` is granted.
    pub fn allows_addr(&self, host: &str, addr: SocketAddr) -> bool {
        let ip = addr.ip().to_canonical();
        let port = addr.port();
        if self.rules.iter().any(|rule| rule.matches_ip(ip, port)) {
            return true;
        }
        !is_sensitive(ip) && self.allows(host, port)
    }

    /// The granted entries in canonical spelling (`example.com:443`, `10.0.0.0/8:*`).
    pub fn entries(&self) -> Vec<String> {
        let mut entries: Vec<String> = self.rules.iter().map(Rule::to_string).collect();
        for host in &self.icmp {
            let spelled = Rule { host: host.clone(), port: None }.to_string();
            entries.push(format!("ping:{}", spelled.trim_end_matches(":*")));
        }
        if self.system {
            entries.push("system".to_string());
        }
        entries.extend(self.programs.iter().map(|p| format!("exec:{p}")));
        entries
    }
}

impl fmt::Display for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rules.is_empty() && self.icmp.is_empty() && !self.system && self.programs.is_empty() {
            return f.write_str("nothing");
        }
        f.write_str(&self.entries().join(", "))
    }
}

/// Addresses reachable only through an explicit IP grant: link-local and unspecified
/// ones, multicast, the cloud metadata endpoints outside link-local (Alibaba's
/// 100.100.100.200, AWS's fd00:ec2::254), and IPv6 forms that embed a sensitive IPv4
/// address (NAT64 64:ff9b::/96, 6to4 2002::/16, IPv4-compatible ::a.b.c.d).
fn is_sensitive(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_link_local() || v4.is_unspecified() || v4.is_multicast() || v4 == Ipv4Addr::new(100, 100, 100, 200)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |high: u16, low: u16| {
                let [a, b] = high.to_be_bytes();
                let [c, d] = low.to_be_bytes();
                is_sensitive(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            };
            v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || (s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0] && embedded(s[6], s[7]))
                || (s[0] == 0x2002 && embedded(s[1], s[2]))
                || (s[0..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && embedded(s[6], s[7]))
        }
    }
}

fn cidr_contains(network: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (network, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = mask_v4(prefix);
            u32::from(ip) & mask == u32::from(net)
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = mask_v6(prefix);
            u128::from(ip) & mask == u128::from(net)
        }
        _ => false,
    }
}

fn mask_v4(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
}

fn mask_v6(prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) }
}

/// Lower case, without one trailing dot.
fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

fn is_strict_subdomain(name: &str, parent: &str) -> bool {
    name.len() > parent.len() + 1 && name.ends_with(parent) && name.as_bytes()[name.len() - parent.len() - 1] == b'.'
}

/// An IP literal, possibly bracketed, as a canonical address.
fn parse_host_ip(host: &str) -> Option<IpAddr> {
    let inner = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// Checks a DNS name: labels of letters, digits, `-` and `_`, at most 253 characters.
fn valid_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the host is empty".into());
    }
    if name.len() > 253 {
        return Err("the host name is longer than 253 characters".into());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(format!("{name:?} has an empty label (two dots in a row, or a leading dot)"));
        }
        if label.len() > 63 {
            return Err(format!("{name:?} has a label longer than 63 characters"));
        }
        if let Some(bad) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
            return Err(format!("{name:?} contains {bad:?}, which is not allowed in a host name"));
        }
    }
    Ok(())
}

/// A DNS URI target (RFC 4501): `dns://SERVER[:PORT]/NAME` grants the name server
/// (port 53 unless given); `dns:NAME` grants asking the system's resolver about NAME,
/// written as NAME on port 53. None for any other target.
fn dns_target(target: &str) -> Result<Option<Rule>, String> {
    let Some(rest) = target.strip_prefix("dns:") else {
        return Ok(None);
    };
    let how = "write dns://SERVER[:PORT]/NAME (ask that name server) or dns:NAME (ask the system's resolver)";
    if let Some(authority) = rest.strip_prefix("//") {
        let server = authority.split('/').next().unwrap_or_default();
        if server.is_empty() {
            return Err(format!("the DNS target names no server; {how}"));
        }
        let (host, port) = match split_host_port(server) {
            Some((host, port)) => {
                (host, parse_port(port)?.ok_or_else(|| format!("a name server needs one port; {how}"))?)
            }
            None => (server, 53),
        };
        let ip = parse_host_ip(host).ok_or_else(|| {
            format!("the name server {host:?} must be an IP address (192.0.2.53, [2001:db8::53]); {how}")
        })?;
        return Ok(Some(Rule { host: HostRule::Ip(ip), port: Some(port) }));
    }
    let name = normalize_name(rest.split('?').next().unwrap_or_default());
    if name.is_empty() {
        return Err(format!("the DNS target names nothing to look up; {how}"));
    }
    valid_name(&name)?;
    Ok(Some(Rule { host: HostRule::Name(name), port: Some(53) }))
}

fn parse_target(target: &str) -> Result<Option<Rule>, GrantError> {
    let err = |problem: String| GrantError::Target { target: target.to_string(), problem };
    let trimmed = target.trim();
    if let Some(what) = trimmed.strip_prefix("system:") {
        if what.trim().is_empty() {
            return Err(err("say what on this machine the check is about: system:disk, system:memory, ...".into()));
        }
        return Ok(None);
    }
    parse_host_target(trimmed).map(Some).map_err(|e| match e {
        GrantError::Target { problem, .. } => err(problem),
        other => other,
    })
}

/// A ping target: `ping:HOST` (a name, or an IP address, IPv6 bare or bracketed) lets the
/// check ping HOST and reach nothing else: ICMP has no port, so none is granted.
fn ping_target(target: &str, host: &str) -> Result<HostRule, GrantError> {
    let err = |problem: String| GrantError::Target { target: target.to_string(), problem };
    let host = host.trim();
    if let Some(ip) = parse_host_ip(host) {
        return Ok(HostRule::Ip(ip));
    }
    if host.is_empty() || host.contains(['*', '[', ']', ':', '/']) {
        return Err(err(format!(
            "ping:HOST names one host or IP address (ping:gw.example, ping:192.0.2.1, ping:[::1]), not {host:?}"
        )));
    }
    let name = normalize_name(host);
    valid_name(&name).map_err(err)?;
    Ok(HostRule::Name(name))
}

fn parse_host_target(target: &str) -> Result<Rule, GrantError> {
    let err = |problem: String| GrantError::Target { target: target.to_string(), problem };
    let trimmed = target.trim();
    if trimmed.is_empty() {
        return Err(err(
            "the target is empty; write a URL (https://example.com/health) or host:port (db.local:5432)".into()
        ));
    }
    if let Some(rule) = dns_target(trimmed).map_err(err)? {
        return Ok(rule);
    }
    if trimmed.contains("://") {
        let url = url::Url::parse(trimmed).map_err(|e| err(format!("not a valid URL ({e})")))?;
        let port = url.port_or_known_default().ok_or_else(|| {
            err(format!(
                "the scheme {:?} has no default port; write the port in the URL ({}://host:PORT/...)",
                url.scheme(),
                url.scheme()
            ))
        })?;
        let host = match url.host() {
            Some(url::Host::Domain(name)) => {
                let name = normalize_name(name);
                valid_name(&name).map_err(err)?;
                HostRule::Name(name)
            }
            Some(url::Host::Ipv4(ip)) => HostRule::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => HostRule::Ip(IpAddr::V6(ip).to_canonical()),
            None => {
                return Err(err("the URL has no host; write it as scheme://host/path".into()));
            }
        };
        if port == 0 {
            return Err(err("port 0 cannot be connected to; write a port from 1 to 65535".into()));
        }
        return Ok(Rule { host, port: Some(port) });
    }
    let (host, port) = split_host_port(trimmed).ok_or_else(|| {
        err("no port given; write host:port (db.local:5432, [::1]:22) or a URL (https://example.com/health)".into())
    })?;
    let port = parse_port(port)
        .map_err(err)?
        .ok_or_else(|| err("a target needs one port, not `*`; list other ports in the check's allow list".into()))?;
    let host = if let Some(ip) = parse_host_ip(host) {
        HostRule::Ip(ip)
    } else if host.starts_with('[') {
        return Err(err(format!("{host:?} is not a valid bracketed IPv6 address; write [::1]:22")));
    } else {
        if host.contains('*') {
            return Err(err("a target cannot contain `*`; put wildcards in the check's allow list".into()));
        }
        let name = normalize_name(host);
        valid_name(&name).map_err(err)?;
        HostRule::Name(name)
    };
    Ok(Rule { host, port: Some(port) })
}

/// Splits `host:port` or `[v6]:port` at the port's colon. None when there is no port.
fn split_host_port(text: &str) -> Option<(&str, &str)> {
    if text.starts_with('[') {
        let close = text.find(']')?;
        let rest = &text[close + 1..];
        let port = rest.strip_prefix(':')?;
        Some((&text[..=close], port))
    } else {
        let (host, port) = text.rsplit_once(':')?;
        if host.contains(':') {
            return None;
        }
        Some((host, port))
    }
}

/// `*` → None (any port); a number from 1 to 65535 → Some.
fn parse_port(port: &str) -> Result<Option<u16>, String> {
    if port == "*" {
        return Ok(None);
    }
    match port.parse::<u16>() {
        Ok(0) => Err("port 0 cannot be connected to; write a port from 1 to 65535, or `*` for any port".into()),
        Ok(p) => Ok(Some(p)),
        Err(_) => Err(format!("{port:?} is not a port; write a number from 1 to 65535, or `*` for any port")),
    }
}

/// An IP literal or a CIDR range (`10.0.0.0/8`, `fd00::/8`), without brackets.
fn parse_ip_or_cidr(text: &str) -> Option<Result<HostRule, String>> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(Ok(HostRule::Ip(ip.to_canonical())));
    }
    let (addr, prefix) = text.split_once('/')?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ip = addr.parse::<IpAddr>().ok()?;
    let ip = ip.to_canonical();
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix.parse::<u8>() {
        Ok(prefix) if prefix <= max => prefix,
        _ => {
            return Some(Err(format!("prefix /{prefix} is longer than {max} bits; write a prefix from 0 to {max}")));
        }
    };
    let network = match ip {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask_v4(prefix))),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask_v6(prefix))),
    };
    if network != ip {
        let hint = match network {
            IpAddr::V4(_) => format!("{network}/{prefix}"),
            IpAddr::V6(_) => format!("[{network}/{prefix}]"),
        };
        return Some(Err(format!("{addr} has bits set beyond the /{prefix} prefix; write the range as {hint}")));
    }
    Some(Ok(HostRule::Cidr { network, prefix }))
}

/// What to write instead of a URL in an allow list: its host and port (the scheme's
/// default port when the URL gives none), since a grant has no scheme and no path.
fn url_entry_problem(text: &str) -> String {
    let spelling = match url::Url::parse(text) {
        Ok(url) => match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("\"{host}:{port}\""),
            (Some(host), None) => format!("\"{host}:PORT\" with the port it listens on"),
            (None, _) => "host:port".to_string(),
        },
        Err(_) => "host:port".to_string(),
    };
    format!("an entry is host:port, not a URL; write {spelling}")
}

/// An `allow` entry: `system`, `exec:/path`, or a network rule.
fn classify_entry(entry: &str) -> Result<Entry, GrantError> {
    let text = entry.trim();
    if text == "system" {
        return Ok(Entry::System);
    }
    if let Some(path) = text.strip_prefix("exec:") {
        let problem = |problem: &str| GrantError::Entry { entry: entry.to_string(), problem: problem.to_string() };
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(problem(
                "exec needs the program's absolute path (exec:/usr/lib/nagios/plugins/check_disk), never a name \
                 looked up in PATH nor a shell command",
            ));
        }
        if path.contains(char::is_whitespace) || path.split('/').any(|part| part == "..") {
            return Err(problem("exec names one program by its path: no spaces, no arguments, no `..`"));
        }
        return Ok(Entry::Exec(path.to_string()));
    }
    parse_entry(entry).map(Entry::Net)
}

fn parse_entry(entry: &str) -> Result<Rule, GrantError> {
    let err = |problem: String| GrantError::Entry { entry: entry.to_string(), problem };
    let text = entry.trim();
    if text.is_empty() {
        return Err(err(
            "the entry is empty; write host:port, host:*, *.example.com:443, an IP address or a CIDR range".into(),
        ));
    }
    if text == "*" {
        return Err(err("a bare `*` is ambiguous; write \"*:*\" to grant every host and every port".into()));
    }
    if text.contains("://") {
        return Err(err(url_entry_problem(text)));
    }
    // A bare IP literal or CIDR range grants every port.
    if let Some(parsed) = parse_ip_or_cidr(text) {
        return Ok(Rule { host: parsed.map_err(err)?, port: None });
    }
    if let Some(inner) = text.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(err("missing `]`; write an IPv6 address as [::1]:22 or [fd00::/8]:*".into()));
        };
        let host = match parse_ip_or_cidr(&inner[..close]) {
            Some(Ok(host)) => host,
            Some(Err(problem)) => return Err(err(problem)),
            None => {
                return Err(err(format!(
                    "{:?} is not an IPv6 address or range; write [::1]:22 or [fd00::/8]:*",
                    &inner[..close]
                )));
            }
        };
        let rest = &inner[close + 1..];
        let port = if rest.is_empty() {
            None
        } else {
            let Some(port) = rest.strip_prefix(':') else {
                return Err(err(format!("unexpected {rest:?} after `]`; write [::1]:22")));
            };
            parse_port(port).map_err(err)?
        };
        return Ok(Rule { host, port });
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(err(format!("no port given; write {text}:PORT for one port or {text}:* for any port")));
    };
    if host.contains(':') {
        return Err(err(
            "an IPv6 address with a port needs brackets; write [::1]:22, or the bare address for any port".into(),
        ));
    }
    let port = parse_port(port).map_err(err)?;
    if host == "*" {
        return Ok(Rule { host: HostRule::Any, port });
    }
    if let Some(parsed) = parse_ip_or_cidr(host) {
        return Ok(Rule { host: parsed.map_err(err)?, port });
    }
    let name = normalize_name(host);
    if let Some(parent) = name.strip_prefix("*.") {
        if parent.contains('*') {
            return Err(err("only one leading `*.` is allowed; write *.example.com:443".into()));
        }
        valid_name(parent).map_err(err)?;
        return Ok(Rule { host: HostRule::Subdomains(parent.to_string()), port });
    }
    if name.contains('*') {
        return Err(err("`*` may only stand alone (*:443) or lead a name (*.example.com:443)".into()));
    }
    valid_name(&name).map_err(err)?;
    Ok(Rule { host: HostRule::Name(name), port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(target: &str, allow: &[&str]) -> Grants {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        match Grants::for_check(target, &allow) {
            Ok(g) => g,
            Err(e) => panic!("unexpected grant error: {e}"),
        }
    }

    fn refused(target: &str, allow: &[&str]) -> String {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        match Grants::for_check(target, &allow) {
            Ok(g) => panic!("expected an error, got {g}"),
            Err(e) => e.to_string(),
        }
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn https_url_target_grants_host_on_443() {
        let g = grants("https://Example.com/health", &[]);
        assert_eq!(g.entries(), vec!["example.com:443"]);
        assert!(g.allows("example.com", 443));
        assert!(g.allows("EXAMPLE.COM.", 443));
        assert!(!g.allows("example.com", 80));
        assert!(!g.allows("www.example.com", 443));
    }

    #[test]
    fn http_url_targets_use_default_or_given_port() {
        assert_eq!(grants("http://example.com/x", &[]).entries(), vec!["example.com:80"]);
        let g = grants("http://127.0.0.1:8080/x", &[]);
        assert_eq!(g.entries(), vec!["127.0.0.1:8080"]);
        assert!(g.allows("127.0.0.1", 8080));
        assert!(g.allows_addr("127.0.0.1", addr("127.0.0.1:8080")));
        assert_eq!(grants("http://[::1]:8080/", &[]).entries(), vec!["[::1]:8080"]);
    }

    #[test]
    fn host_port_targets_parse() {
        assert_eq!(grants("db.local:5432", &[]).entries(), vec!["db.local:5432"]);
        let g = grants("[::1]:22", &[]);
        assert_eq!(g.entries(), vec!["[::1]:22"]);
        assert!(g.allows("::1", 22));
        assert!(g.allows("[::1]", 22));
        assert!(!g.allows("::1", 23));
    }

    #[test]
    fn target_refusals_explain_the_spelling() {
        assert!(refused("db.local", &[]).contains("write host:port"));
        assert!(refused("", &[]).contains("target is empty"));
        assert!(refused("db.local:0", &[]).contains("port 0"));
        assert!(refused("db.local:http", &[]).contains("is not a port"));
        assert!(refused("db.local:*", &[]).contains("one port"));
        assert!(refused("*.local:22", &[]).contains("cannot contain `*`"));
        assert!(refused("foo://thing/x", &[]).contains("no default port"));
        assert!(refused("bad host:22", &[]).contains("not allowed in a host name"));
    }

    #[test]
    fn metadata_endpoints_and_disguised_link_local_addresses_need_an_explicit_grant() {
        let g = grants("metadata.example:80", &[]);
        for ip in [
            "169.254.169.254",
            "100.100.100.200",
            "224.0.0.1",
            "[fd00:ec2::254]",
            "[64:ff9b::a9fe:a9fe]",
            "[2002:a9fe:a9fe::]",
            "[::169.254.169.254]",
            "[ff02::1]",
        ] {
            let addr: SocketAddr = format!("{ip}:80").parse().expect("address");
            assert!(!g.allows_addr("metadata.example", addr), "{ip} was allowed through a name");
        }
        assert!(g.allows_addr("metadata.example", "10.0.0.7:80".parse().expect("address")));
        assert!(g.allows_addr("metadata.example", "[::1]:80".parse().expect("address")));
        assert!(grants("169.254.169.254:80", &[]).allows_addr("x", "169.254.169.254:80".parse().expect("address")));
    }

    #[test]
    fn ping_targets_grant_their_host_for_icmp_only() {
        let g = grants("ping:GW.example.", &[]);
        assert!(g.allows_host("gw.example") && !g.allows("gw.example", 7));
        assert!(!g.allows_host_ip("gw.example", "169.254.1.1".parse().expect("ip")));
        assert_eq!(g.entries(), vec!["ping:gw.example"]);
        let g = grants("ping:::1", &[]);
        assert!(g.allows_host("[::1]") && g.allows_host_ip("::1", "::1".parse().expect("ip")) && !g.allows("::1", 22));
        assert_eq!(g.entries(), vec!["ping:[::1]"]);
        assert!(refused("ping:", &[]).contains("ping:HOST"));
        assert!(refused("ping:*.example", &[]).contains("ping:HOST"));
    }

    #[test]
    fn dns_targets_grant_their_name_server_or_their_name() {
        let server = grants("dns://127.0.0.1:5353/www.example.test", &[]);
        assert!(server.allows("127.0.0.1", 5353) && !server.allows("127.0.0.1", 53));
        assert!(!server.allows("www.example.test", 53));
        assert!(grants("dns://[::1]/x.test", &[]).allows("::1", 53));
        let name = grants("dns:WWW.Example.test.", &[]);
        assert!(name.allows("www.example.test", 53) && !name.allows("www.example.test", 443));
        assert!(refused("dns://ns.example.test/x.test", &[]).contains("must be an IP address"));
        assert!(refused("dns:", &[]).contains("names nothing to look up"));
        assert!(refused("dns:///x.test", &[]).contains("names no server"));
    }

    #[test]
    fn allow_entries_of_every_form_parse() {
        let g = grants(
            "http://127.0.0.1:8080/",
            &[
                "api.example.com:443",
                "Cache.Local.:*",
                "*.example.org:443",
                "192.168.1.10",
                "::1",
                "[fd00::1]:22",
                "10.0.0.0/8:5432",
                "[fd00::/8]:*",
                "172.16.0.0/12",
                "*:8443",
            ],
        );
        assert_eq!(
            g.entries(),
            vec![
                "127.0.0.1:8080",
                "api.example.com:443",
                "cache.local:*",
                "*.example.org:443",
                "192.168.1.10:*",
                "[::1]:*",
                "[fd00::1]:22",
                "10.0.0.0/8:5432",
                "[fd00::/8]:*",
                "172.16.0.0/12:*",
                "*:8443",
            ]
        );
        assert!(g.allows("api.example.com", 443));
        assert!(g.allows("cache.local", 6379));
        assert!(g.allows("a.b.example.org", 443));
        assert!(g.allows("192.168.1.10", 1));
        assert!(g.allows("10.9.8.7", 5432));
        assert!(!g.allows("10.9.8.7", 5433));
        assert!(g.allows("fd12::5", 9));
        assert!(g.allows("172.20.0.1", 80));
        assert!(g.allows("anything.test", 8443));
        assert!(!g.allows("anything.test", 443));
        assert_eq!(g.to_string(), g.entries().join(", "));
    }

    #[test]
    fn star_star_grants_everything_by_name() {
        let g = grants("db.local:5432", &["*:*"]);
        assert!(g.allows("whatever.example", 1));
        assert!(g.allows("8.8.8.8", 53));
        assert!(g.allows_addr("whatever.example", addr("10.1.2.3:80")));
    }

    #[test]
    fn bare_star_is_refused_with_the_exact_spelling() {
        let message = refused("db.local:5432", &["*"]);
        assert!(message.contains("allow entry \"*\""), "{message}");
        assert!(message.contains("\"*:*\""), "{message}");
    }

    #[test]
    fn entry_refusals_say_which_entry_and_how_to_write_it() {
        let m = refused("db.local:5432", &["ok.example:80", "example.com"]);
        assert!(m.contains("\"example.com\"") && m.contains("example.com:*"), "{m}");
        let m = refused("db.local:5432", &["fd00::1:*"]);
        assert!(m.contains("[::1]:22"), "{m}");
        let m = refused("db.local:5432", &["10.0.0.1/8:22"]);
        assert!(m.contains("10.0.0.0/8"), "{m}");
        let m = refused("db.local:5432", &["10.0.0.0/33"]);
        assert!(m.contains("longer than 32"), "{m}");
        let m = refused("db.local:5432", &["foo.*.com:443"]);
        assert!(m.contains("*.example.com:443"), "{m}");
        let m = refused("db.local:5432", &["example.com:70000"]);
        assert!(m.contains("1 to 65535"), "{m}");
        let m = refused("db.local:5432", &["[fd00::1"]);
        assert!(m.contains("missing `]`"), "{m}");
        let m = refused("db.local:5432", &["*.*.example.com:443"]);
        assert!(m.contains("one leading"), "{m}");
        let m = refused("db.local:5432", &[""]);
        assert!(m.contains("empty"), "{m}");
    }

    #[test]
    fn url_shaped_entries_say_which_host_and_port_to_write() {
        let m = refused("db.local:5432", &["http://api.example.com"]);
        assert!(m.contains("not a URL; write \"api.example.com:80\""), "{m}");
        let m = refused("db.local:5432", &["https://api.example.com:8443/path?q=1"]);
        assert!(m.contains("write \"api.example.com:8443\""), "{m}");
        let m = refused("db.local:5432", &["https://[::1]/"]);
        assert!(m.contains("write \"[::1]:443\""), "{m}");
        let m = refused("db.local:5432", &["redis://cache.local"]);
        assert!(m.contains("write \"cache.local:PORT\""), "{m}");
        let m = refused("db.local:5432", &["http://"]);
        assert!(m.contains("write host:port"), "{m}");
        assert_eq!(Grants::check_entry("api.example.com:443"), Ok(()));
        assert!(Grants::check_entry("https://api.example.com").is_err());
    }

    #[test]
    fn subdomain_wildcard_does_not_match_apex() {
        let g = grants("db.local:5432", &["*.example.com:443"]);
        assert!(g.allows("www.example.com", 443));
        assert!(g.allows("a.b.example.com.", 443));
        assert!(!g.allows("example.com", 443));
        assert!(!g.allows("badexample.com", 443));
        assert!(!g.allows("www.example.com", 80));
    }

    #[test]
    fn link_local_refused_via_name_but_allowed_via_cidr_grant() {
        let g = grants("metadata.internal:80", &[]);
        assert!(g.allows("metadata.internal", 80));
        assert!(!g.allows_addr("metadata.internal", addr("169.254.169.254:80")));
        assert!(!g.allows_addr("metadata.internal", addr("[fe80::1]:80")));
        assert!(!g.allows_addr("metadata.internal", addr("0.0.0.0:80")));
        assert!(!g.allows_addr("metadata.internal", addr("[::]:80")));
        assert!(!g.allows_addr("metadata.internal", addr("[::ffff:169.254.169.254]:80")));

        let g = grants("metadata.internal:80", &["169.254.0.0/16:80"]);
        assert!(g.allows_addr("metadata.internal", addr("169.254.169.254:80")));
        assert!(!g.allows_addr("metadata.internal", addr("169.254.169.254:81")));

        let g = grants("http://169.254.169.254/latest", &[]);
        assert!(g.allows_addr("169.254.169.254", addr("169.254.169.254:80")));

        let g = grants("db.local:5432", &["*:*"]);
        assert!(!g.allows_addr("db.local", addr("169.254.169.254:5432")));
    }

    #[test]
    fn loopback_and_private_allowed_through_granted_name() {
        let g = grants("db.local:5432", &[]);
        assert!(g.allows_addr("db.local", addr("127.0.0.1:5432")));
        assert!(g.allows_addr("DB.local.", addr("10.0.0.5:5432")));
        assert!(g.allows_addr("db.local", addr("[::1]:5432")));
        assert!(!g.allows_addr("db.local", addr("10.0.0.5:5433")));
        assert!(!g.allows_addr("other.local", addr("10.0.0.5:5432")));
    }

    #[test]
    fn ip_grants_do_not_grant_names() {
        let g = grants("127.0.0.1:80", &["10.0.0.0/8:*"]);
        assert!(!g.allows("localhost", 80));
        assert!(g.allows("10.1.1.1", 22));
        assert!(g.allows("::ffff:10.1.1.1", 22));
    }

    #[test]
    fn duplicate_entries_are_listed_once() {
        let g = grants("db.local:5432", &["DB.local:5432"]);
        assert_eq!(g.entries(), vec!["db.local:5432"]);
        assert_eq!(Grants::none().to_string(), "nothing");
    }
}
