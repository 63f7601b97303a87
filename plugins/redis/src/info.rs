//! The text INFO returns: `# Section` headers and `field:value` lines, read into the fields
//! a health check judges.

use std::collections::BTreeMap;

use vitals_sdk::sanitize;

/// Longest a field's value may get when shown in a summary or the details.
const MAX_SHOWN: usize = 80;

/// The fields of an INFO reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Info {
    fields: BTreeMap<String, String>,
}

impl Info {
    /// Reads `field:value` lines, skipping section headers, blank lines and lines without a
    /// colon (a field seen twice keeps its first value).
    pub fn parse(text: &str) -> Info {
        let mut fields = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((name, value)) = line.split_once(':') {
                fields.entry(name.trim().to_string()).or_insert_with(|| value.trim().to_string());
            }
        }
        Info { fields }
    }

    /// A field's raw value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// A field's value made safe for a summary.
    pub fn shown(&self, name: &str) -> Option<String> {
        // `sanitize` trims before it turns control characters into spaces: trim again.
        self.get(name).map(|value| sanitize(value, MAX_SHOWN).trim().to_string())
    }

    /// A field that is a whole number of bytes, clients, seconds.
    pub fn unsigned(&self, name: &str) -> Option<u64> {
        self.get(name)?.parse().ok()
    }

    /// A field that is a whole number that may be negative (`-1` meaning none).
    pub fn signed(&self, name: &str) -> Option<i64> {
        self.get(name)?.parse().ok()
    }

    /// "Redis 7.2.4" or "Valkey 8.0.1": the server and its version, when INFO names them.
    pub fn product(&self) -> String {
        if let Some(version) = self.shown("valkey_version") {
            return format!("Valkey {version}");
        }
        match self.shown("redis_version") {
            Some(version) => format!("Redis {version}"),
            None => "Redis".to_string(),
        }
    }

    /// `master_host:master_port` of a replica, made safe for a summary.
    pub fn master(&self) -> Option<String> {
        let host = self.shown("master_host")?;
        Some(match self.shown("master_port") {
            Some(port) if host.contains(':') => format!("[{host}]:{port}"),
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }

    /// The fields worth a line in the details, `name: value`, in this order.
    pub fn details(&self) -> Vec<String> {
        const SHOWN: [&str; 16] = [
            "redis_version",
            "valkey_version",
            "redis_mode",
            "uptime_in_seconds",
            "connected_clients",
            "blocked_clients",
            "used_memory_human",
            "maxmemory_human",
            "maxmemory_policy",
            "role",
            "connected_slaves",
            "master_host",
            "master_port",
            "master_link_status",
            "master_last_io_seconds_ago",
            "master_link_down_since_seconds",
        ];
        SHOWN.iter().filter_map(|name| self.shown(name).map(|value| format!("{name}: {value}"))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLICA: &str = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n# Clients\r\n\
        connected_clients:3\r\n\r\n# Memory\r\nused_memory:1048576\r\nmaxmemory:0\r\n\r\n# Replication\r\n\
        role:slave\r\nmaster_host:10.0.0.5\r\nmaster_port:6379\r\nmaster_link_status:up\r\n\
        master_last_io_seconds_ago:-1\r\n";

    #[test]
    fn fields_numbers_and_names() {
        let info = Info::parse(REPLICA);
        assert_eq!(info.get("role"), Some("slave"));
        assert_eq!(info.unsigned("used_memory"), Some(1 << 20));
        assert_eq!(info.unsigned("connected_clients"), Some(3));
        assert_eq!(info.signed("master_last_io_seconds_ago"), Some(-1));
        assert_eq!(info.unsigned("master_last_io_seconds_ago"), None);
        assert_eq!(info.get("Server"), None);
        assert_eq!(info.product(), "Redis 7.0.15");
        assert_eq!(info.master().as_deref(), Some("10.0.0.5:6379"));
        assert_eq!(info.details()[0], "redis_version: 7.0.15");
        assert!(info.details().contains(&"master_link_status: up".to_string()));
    }

    #[test]
    fn odd_text() {
        assert_eq!(Info::parse(""), Info::default());
        assert_eq!(Info::parse("# Server\r\nno colon here\r\n"), Info::default());
        let info = Info::parse("valkey_version:8.0.1\nredis_version:7.2.4\nmaster_host:::1\nmaster_port:7000\n");
        assert_eq!(info.product(), "Valkey 8.0.1");
        assert_eq!(info.master().as_deref(), Some("[::1]:7000"));
        let info = Info::parse("redis_version:\x1b[31mevil\x07\n");
        assert_eq!(info.product(), "Redis [31mevil");
    }
}
