//! DNS queries made by the host (`vitals:plugin/dns`, since WIT 0.1.3): in a component the
//! WIT import itself; in a native build the same function, which the test kit does not
//! answer (it fails saying so), so a plugin's judging of answers is tested on plain values.

pub use crate::bindings::vitals::plugin::dns::{Answer, AnswerRecord, Query, RecordType};

#[cfg(target_arch = "wasm32")]
pub use crate::bindings::vitals::plugin::dns::resolve;

/// Sends one query and reads the answer, through the host, which checks that the check
/// may ask that server (or, for the system's resolver, about that name). An answer with an
/// error rcode (`NXDOMAIN`) is an answer, not an error.
///
/// In a native build (`cargo test`) there is no host and the test kit does not model DNS:
/// this returns [`NetError::Invalid`](crate::NetError::Invalid) saying so.
///
/// ```
/// use vitals_sdk::dns::{Query, RecordType, resolve};
/// let query = Query {
///     name: "example.com".into(),
///     kind: RecordType::A,
///     server: Some("127.0.0.1:53".into()),
///     tcp: false,
///     dnssec: false,
///     timeout_ms: 1_000,
/// };
/// let err = resolve(&query).map(|_| ()).unwrap_err();
/// assert!(err.message().starts_with("no host: "), "{err:?}");
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn resolve(query: &Query) -> Result<Answer, crate::NetError> {
    Err(crate::native::unanswered(&format!("dns::resolve({} {})", query.name, query.kind.mnemonic())))
}

impl RecordType {
    /// The type's mnemonic, as DNS tools write it (`A`, `AAAA`, `MX`).
    ///
    /// ```
    /// assert_eq!(vitals_sdk::dns::RecordType::Aaaa.mnemonic(), "AAAA");
    /// ```
    pub fn mnemonic(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Ns => "NS",
            RecordType::Soa => "SOA",
            RecordType::Srv => "SRV",
            RecordType::Caa => "CAA",
            RecordType::Ptr => "PTR",
        }
    }

    /// The type a mnemonic names, in any case; none for an unknown one.
    ///
    /// ```
    /// use vitals_sdk::dns::RecordType;
    /// assert_eq!(RecordType::from_mnemonic("mx"), Some(RecordType::Mx));
    /// assert_eq!(RecordType::from_mnemonic("HINFO"), None);
    /// ```
    pub fn from_mnemonic(text: &str) -> Option<RecordType> {
        const ALL: [RecordType; 10] = [
            RecordType::A,
            RecordType::Aaaa,
            RecordType::Cname,
            RecordType::Mx,
            RecordType::Txt,
            RecordType::Ns,
            RecordType::Soa,
            RecordType::Srv,
            RecordType::Caa,
            RecordType::Ptr,
        ];
        ALL.into_iter().find(|t| t.mnemonic().eq_ignore_ascii_case(text.trim()))
    }
}
