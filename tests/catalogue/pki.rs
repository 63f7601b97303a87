//! Certificates for the TLS tests of the catalogue (`tls`, `http`, `grpc`): a private CA
//! written as PEM for a check's `ca`, leaves it signs with any validity, and self-signed
//! ones, all made by rcgen in the test.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// One day.
pub const DAY: Duration = Duration::from_secs(86_400);
/// A leaf's validity runs out an hour after its last whole day, so that its whole days
/// left do not depend on how long the test takes to get to the check.
pub const HOUR: Duration = Duration::from_secs(3_600);
/// The names every test leaf is for.
pub const LOCAL: [&str; 2] = ["localhost", "127.0.0.1"];

/// How long ago (`-`) or from now (`+`) a validity bound lies.
#[derive(Clone, Copy)]
pub enum When {
    /// Before now.
    Ago(Duration),
    /// After now.
    In(Duration),
}

/// Sets a certificate's validity, `from` and `until` relative to now (rcgen's date type is
/// reached by inference, without naming the `time` crate).
fn validity(params: &mut CertificateParams, from: When, until: When) {
    let now = rcgen::date_time_ymd(1970, 1, 1) + SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let shift = |when: When| match when {
        When::Ago(d) => now - d,
        When::In(d) => now + d,
    };
    params.not_before = shift(from);
    params.not_after = shift(until);
}

/// A certificate to serve: its chain (its own first) and its key, in DER and PEM.
pub struct Served {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Served {
    fn new(cert: &rcgen::Certificate, key: &KeyPair) -> Served {
        Served {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A rustls server configuration presenting this certificate.
    pub fn server_config(&self, tls12_only: bool) -> rustls::ServerConfig {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider);
        let builder = if tls12_only {
            builder.with_protocol_versions(&[&rustls::version::TLS12])
        } else {
            builder.with_protocol_versions(rustls::ALL_VERSIONS)
        };
        builder
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .expect("server certificate")
    }
}

/// A private CA, its certificate written as PEM for the check's `ca`.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: PathBuf,
    _dir: tempfile::TempDir,
}

impl Ca {
    /// A CA named `name`, valid ten years.
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        validity(&mut params, When::Ago(DAY), When::In(3650 * DAY));
        let cert = params.self_signed(&key).expect("CA certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        let pem = dir.path().join("ca.pem");
        std::fs::write(&pem, cert.pem()).expect("write ca.pem");
        Ca { issuer: Issuer::new(params, key), pem, _dir: dir }
    }

    /// `ca = "…/ca.pem"`, for the [[check]] table.
    pub fn setting(&self) -> String {
        format!("ca = {}", crate::support::toml_str(&self.pem.display().to_string()))
    }

    /// A leaf for `names`, valid from `from` to `until`, signed by this CA.
    pub fn leaf(&self, names: &[&str], from: When, until: When) -> Served {
        let key = KeyPair::generate().expect("leaf key");
        let params = leaf_params(names, from, until);
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        Served::new(&cert, &key)
    }

    /// A leaf for 127.0.0.1 and localhost, valid until `days` days (and an hour) from now.
    pub fn valid_for(&self, days: u32) -> Served {
        self.leaf(&LOCAL, When::Ago(DAY), When::In(days * DAY + HOUR))
    }
}

fn leaf_params(names: &[&str], from: When, until: When) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, "localhost");
    validity(&mut params, from, until);
    params
}

/// A self-signed certificate for 127.0.0.1, valid 90 days; with `ca`, a CA certificate.
pub fn self_signed(ca: bool) -> Served {
    let key = KeyPair::generate().expect("key");
    let mut params = leaf_params(&LOCAL, When::Ago(DAY), When::In(90 * DAY + HOUR));
    // Its own issuer: a name no system root has (Debian's trusted snakeoil is CN=localhost,
    // and a root of the same name would be tried as the issuer).
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "Vitals self-signed test");
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    let cert = params.self_signed(&key).expect("certificate");
    Served::new(&cert, &key)
}
