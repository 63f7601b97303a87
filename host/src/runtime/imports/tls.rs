//! The facts of a TLS peer (`tcp.connection.tls-info`): the chain it sent, each
//! certificate's fields, and whether the chain and the name verify, checked apart from the
//! handshake so that an expired or self-signed certificate is still described. Also the
//! words for a rejected certificate, shared by every TLS error the host reports.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::runtime::output;

/// Most certificates of a chain described.
pub const MAX_CHAIN: usize = 16;
/// Most names of one certificate described.
const MAX_NAMES: usize = 64;
/// Longest distinguished name or name kept, in bytes.
const MAX_TEXT: usize = 512;

/// One certificate of a peer's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The subject's distinguished name.
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// subjectAltName DNS names and IP addresses.
    pub names: Vec<String>,
    /// Start of validity, ms since the epoch.
    pub not_before_ms: i64,
    /// End of validity, ms since the epoch.
    pub not_after_ms: i64,
    /// basicConstraints cA.
    pub is_ca: bool,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
    /// Serial number, hex.
    pub serial: String,
    /// The public key's kind and size.
    pub key: String,
}

/// What a completed handshake established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFacts {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: String,
    /// IANA cipher suite name.
    pub cipher: String,
    /// ALPN protocol, if agreed.
    pub alpn: Option<String>,
    /// The name the certificate was checked against.
    pub server_name: String,
    /// The chain as sent, leaf first.
    pub chain: Vec<CertFacts>,
    /// The chain leads to a trusted root and is valid now.
    pub chain_valid: bool,
    /// The leaf is valid for `server_name`.
    pub name_valid: bool,
    /// Why the certificate was not accepted.
    pub problem: Option<String>,
}

/// The facts of `conn`'s completed handshake with `server_name`, its chain verified
/// against `roots` at `now`.
pub fn facts(conn: &rustls::ClientConnection, server_name: &str, roots: Arc<RootCertStore>) -> TlsFacts {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_string(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| iana_name(s.suite().as_str().unwrap_or("unknown")))
        .unwrap_or_else(|| "unknown".to_string());
    let alpn = conn.alpn_protocol().map(|p| output::one_line(&String::from_utf8_lossy(p), 64));
    let der: &[CertificateDer<'static>] = conn.peer_certificates().unwrap_or(&[]);
    let chain: Vec<CertFacts> = der.iter().take(MAX_CHAIN).map(|c| describe(c)).collect();
    let (chain_valid, name_valid, problem) = verify(der, server_name, roots, chain.first());
    TlsFacts {
        version,
        cipher,
        alpn,
        server_name: output::one_line(server_name, MAX_TEXT),
        chain,
        chain_valid,
        name_valid,
        problem,
    }
}

/// A cipher suite's IANA name: rustls spells the TLS 1.3 ones `TLS13_...`.
fn iana_name(rustls_name: &str) -> String {
    match rustls_name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => rustls_name.to_string(),
    }
}

/// Verifies the chain and the name as a verifying handshake would: (chain valid, name
/// valid, the problem in words).
fn verify(
    der: &[CertificateDer<'static>],
    server_name: &str,
    roots: Arc<RootCertStore>,
    leaf: Option<&CertFacts>,
) -> (bool, bool, Option<String>) {
    let Some((end_entity, intermediates)) = der.split_first() else {
        return (false, false, Some("the server sent no certificate".to_string()));
    };
    let Ok(name) = ServerName::try_from(server_name.trim_matches(['[', ']']).to_string()) else {
        return (false, false, Some(format!("{server_name:?} is not a valid TLS server name")));
    };
    let verifier = match WebPkiServerVerifier::builder_with_provider(roots, super::net::provider()).build() {
        Ok(v) => v,
        Err(e) => return (false, false, Some(format!("no trusted root certificates to verify against: {e}"))),
    };
    let intermediates: Vec<CertificateDer<'static>> = intermediates.iter().take(MAX_CHAIN).cloned().collect();
    match verifier.verify_server_cert(end_entity, &intermediates, &name, &[], UnixTime::now()) {
        Ok(_) => (true, true, None),
        // webpki checks the chain before the name: a name error means the chain verified.
        Err(rustls::Error::InvalidCertificate(
            e @ (CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }),
        )) => (true, false, Some(certificate_problem(&e, server_name, leaf))),
        Err(rustls::Error::InvalidCertificate(e)) => {
            let name_valid = leaf.is_some_and(|l| matches_name(&l.names, server_name));
            (false, name_valid, Some(certificate_problem(&e, server_name, leaf)))
        }
        Err(other) => (false, false, Some(output::one_line(&other.to_string(), MAX_TEXT))),
    }
}

/// Whether one of a certificate's names covers `server_name` (one wildcard label).
fn matches_name(names: &[String], server_name: &str) -> bool {
    let wanted = server_name.trim_matches(['[', ']']).trim_end_matches('.').to_ascii_lowercase();
    names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        match n.strip_prefix("*.") {
            Some(base) => wanted.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == base),
            None => n == wanted,
        }
    })
}

/// One certificate's fields, cleaned and bounded; an unparsable one says so.
fn describe(der: &CertificateDer<'_>) -> CertFacts {
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(der.as_ref()));
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return CertFacts {
            subject: "(unparsable certificate)".into(),
            issuer: String::new(),
            names: Vec::new(),
            not_before_ms: 0,
            not_after_ms: 0,
            is_ca: false,
            sha256,
            serial: String::new(),
            key: String::new(),
        };
    };
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(output::one_line(d, MAX_TEXT)),
                    GeneralName::IPAddress(ip) => ip_text(ip),
                    _ => None,
                })
                .take(MAX_NAMES)
                .collect()
        })
        .unwrap_or_default();
    let key = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => match ec.key_size() {
            256 => "ECDSA P-256".to_string(),
            384 => "ECDSA P-384".to_string(),
            521 => "ECDSA P-521".to_string(),
            bits => format!("ECDSA {bits}"),
        },
        _ if cert.public_key().algorithm.algorithm.to_id_string() == "1.3.101.112" => "Ed25519".to_string(),
        _ => format!("other ({})", cert.public_key().algorithm.algorithm.to_id_string()),
    };
    CertFacts {
        subject: output::one_line(&cert.subject().to_string(), MAX_TEXT),
        issuer: output::one_line(&cert.issuer().to_string(), MAX_TEXT),
        names,
        not_before_ms: cert.validity().not_before.timestamp().saturating_mul(1000),
        not_after_ms: cert.validity().not_after.timestamp().saturating_mul(1000),
        is_ca: cert.is_ca(),
        sha256,
        serial: hex::encode(cert.raw_serial()),
        key,
    }
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes).ok().map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

/// A rejected certificate in words a person would use (`certificate for localhost
/// expired on 2026-11-28, 3 days ago`), rather than rustls's debug names. `leaf` adds the
/// dates and issuer when they are known.
pub fn certificate_problem(error: &CertificateError, server_name: &str, leaf: Option<&CertFacts>) -> String {
    let name = server_name.trim_matches(['[', ']']);
    let now_ms = UnixTime::now().as_secs() as i64 * 1000;
    let text = match error {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let not_after = match (error, leaf) {
                (CertificateError::ExpiredContext { not_after, .. }, _) => Some(not_after.as_secs() as i64 * 1000),
                (_, Some(leaf)) => Some(leaf.not_after_ms),
                _ => None,
            };
            match not_after {
                Some(at) => format!("certificate for {name} expired on {}, {} ago", date(at), days(now_ms - at)),
                None => format!("certificate for {name} has expired"),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => match leaf {
            Some(leaf) => format!("certificate for {name} is not valid before {}", date(leaf.not_before_ms)),
            None => format!("certificate for {name} is not valid yet"),
        },
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let presented = match error {
                CertificateError::NotValidForNameContext { presented, .. } => presented.clone(),
                _ => leaf.map(|l| l.names.clone()).unwrap_or_default(),
            };
            if presented.is_empty() {
                format!("certificate is not valid for {name}: it names no host")
            } else {
                let shown: Vec<&str> = presented.iter().take(5).map(String::as_str).collect();
                let more =
                    if presented.len() > 5 { format!(" and {} more", presented.len() - 5) } else { String::new() };
                format!("certificate is for {}{more}, not {name}", shown.join(", "))
            }
        }
        CertificateError::UnknownIssuer => match leaf {
            Some(leaf) if leaf.subject == leaf.issuer => {
                format!("certificate for {name} is self-signed (issued by itself, {}), and not trusted", leaf.issuer)
            }
            Some(leaf) => format!(
                "certificate for {name} was issued by {}, which is not a trusted authority (for a private CA, set \
                 `ca` on the check)",
                leaf.issuer
            ),
            None => format!("certificate for {name} was issued by an authority that is not trusted"),
        },
        CertificateError::BadSignature => format!("certificate for {name} has an invalid signature"),
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => format!(
            "certificate for {name} is signed with an algorithm that does not match the key of its issuer \
             (or one this client does not support): it was not issued by a trusted authority"
        ),
        CertificateError::Revoked => format!("certificate for {name} has been revoked"),
        CertificateError::BadEncoding => format!("certificate for {name} is not correctly encoded"),
        CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::CaUsedAsEndEntity) => {
                format!("certificate for {name} is a CA certificate, not a server certificate")
            }
            Some(webpki::Error::EndEntityUsedAsCa) => {
                format!("the chain for {name} uses a server certificate as a CA")
            }
            Some(webpki::Error::RequiredEkuNotFoundContext(_)) => {
                format!("certificate for {name} is not meant for TLS servers (no serverAuth key usage)")
            }
            Some(webpki::Error::MaximumPathDepthExceeded | webpki::Error::MaximumPathBuildCallsExceeded) => {
                format!("the chain for {name} is too long to verify")
            }
            Some(e) => format!("certificate for {name} was rejected: {e}"),
            None => format!("certificate for {name} was rejected: {other}"),
        },
        other => format!("certificate for {name} was rejected: {other}"),
    };
    output::one_line(&text, MAX_TEXT)
}

/// A rustls handshake error in words: certificate problems as [`certificate_problem`]
/// says them, the rest as rustls says them.
pub fn handshake_problem(error: &rustls::Error, server_name: &str) -> String {
    match error {
        rustls::Error::InvalidCertificate(e) => certificate_problem(e, server_name, None),
        rustls::Error::AlertReceived(alert) => format!("the server refused the handshake ({alert:?} alert)"),
        rustls::Error::NoCertificatesPresented => "the server sent no certificate".to_string(),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("{server_name} does not speak TLS here (its answer is not a TLS handshake message)")
        }
        rustls::Error::PeerIncompatible(why) => format!("the server offers nothing this client accepts ({why:?})"),
        other => other.to_string(),
    }
}

/// `2026-11-28`.
fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// `3 days`, `1 day`, `5 hours`.
fn days(ms: i64) -> String {
    let hours = ms.max(0) / 3_600_000;
    match hours / 24 {
        0 if hours == 1 => "1 hour".to_string(),
        0 => format!("{hours} hours"),
        1 => "1 day".to_string(),
        d => format!("{d} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(names: &[&str], subject: &str, issuer: &str) -> CertFacts {
        CertFacts {
            subject: subject.into(),
            issuer: issuer.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
            not_before_ms: 0,
            not_after_ms: 1_764_288_000_000,
            is_ca: false,
            sha256: String::new(),
            serial: String::new(),
            key: String::new(),
        }
    }

    #[test]
    fn certificate_errors_read_like_a_person_wrote_them() {
        let ca = CertificateError::Other(rustls::OtherError(Arc::new(webpki::Error::CaUsedAsEndEntity)));
        assert_eq!(
            certificate_problem(&ca, "localhost", None),
            "certificate for localhost is a CA certificate, not a server certificate"
        );
        let wrong = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("localhost").expect("name"),
            presented: vec!["DnsName(\"other.test\")".into()],
        };
        assert!(certificate_problem(&wrong, "localhost", None).ends_with(", not localhost"));
        let selfsigned = leaf(&["localhost"], "CN=localhost", "CN=localhost");
        assert!(
            certificate_problem(&CertificateError::UnknownIssuer, "localhost", Some(&selfsigned))
                .starts_with("certificate for localhost is self-signed")
        );
        let expired = certificate_problem(&CertificateError::Expired, "[::1]", Some(&selfsigned));
        assert!(expired.starts_with("certificate for ::1 expired on 2025-11-28, "), "{expired}");
    }

    #[test]
    fn names_match_exactly_or_by_one_wildcard_label() {
        let names = vec!["*.example.com".to_string(), "localhost".to_string()];
        assert!(matches_name(&names, "www.example.com"));
        assert!(matches_name(&names, "LOCALHOST"));
        assert!(!matches_name(&names, "a.b.example.com"));
        assert!(!matches_name(&names, "example.com"));
    }
}
