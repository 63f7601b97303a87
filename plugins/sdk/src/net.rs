//! Mapping the host's network errors to check results.

use crate::{CheckResult, NetError, Reason, critical, unknown};

impl NetError {
    /// The host's message, without the error kind.
    pub fn message(&self) -> &str {
        match self {
            NetError::Denied(m)
            | NetError::Dns(m)
            | NetError::Connect(m)
            | NetError::Tls(m)
            | NetError::Timeout(m)
            | NetError::Protocol(m)
            | NetError::Invalid(m) => m,
        }
    }

    /// The reason a result caused by this error carries.
    pub fn reason(&self) -> Reason {
        match self {
            NetError::Denied(_) => Reason::Denied,
            NetError::Dns(_) => Reason::Dns,
            NetError::Connect(_) => Reason::Connect,
            NetError::Tls(_) => Reason::Tls,
            NetError::Timeout(_) => Reason::Timeout,
            NetError::Protocol(_) => Reason::Protocol,
            NetError::Invalid(_) => Reason::PluginError,
        }
    }
}

/// The result of a failed host call: `context` says what was attempted, e.g.
/// `"connect to 127.0.0.1:9"` gives `"connect to 127.0.0.1:9 failed: connection refused"`.
///
/// `denied` and `invalid` (the check's own fault) are `unknown`, with reason `denied` and
/// `plugin-error`; every other error is `critical` with the matching reason.
pub fn net_failure(context: &str, err: &NetError) -> CheckResult {
    let summary = format!("{context} failed: {}", err.message());
    match err {
        NetError::Denied(_) | NetError::Invalid(_) => unknown(summary, err.reason()),
        _ => critical(summary, err.reason()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn maps_every_error() {
        let cases = [
            (NetError::Denied("no".into()), Status::Unknown, Reason::Denied),
            (NetError::Dns("x".into()), Status::Critical, Reason::Dns),
            (NetError::Connect("x".into()), Status::Critical, Reason::Connect),
            (NetError::Tls("x".into()), Status::Critical, Reason::Tls),
            (NetError::Timeout("x".into()), Status::Critical, Reason::Timeout),
            (NetError::Protocol("x".into()), Status::Critical, Reason::Protocol),
            (NetError::Invalid("x".into()), Status::Unknown, Reason::PluginError),
        ];
        for (err, status, reason) in cases {
            let result = net_failure("op", &err);
            assert_eq!(result.status, status, "{err:?}");
            assert_eq!(result.reason, Some(reason), "{err:?}");
        }
        let result = net_failure("connect to 127.0.0.1:9", &NetError::Connect("connection refused".into()));
        assert_eq!(result.summary, "connect to 127.0.0.1:9 failed: connection refused");
    }
}
