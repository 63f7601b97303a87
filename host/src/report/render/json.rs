//! The report as one JSON object for programs, with a `schema_version` (docs/output.md):
//! every figure of every check and tag, unformatted, and the rule they follow in words.

use std::io::{self, Write};

use serde::Serialize;

use crate::report::check::CheckReport;
use crate::report::groups::GroupReport;
use crate::report::sla::NoData;
use crate::report::{MaintenanceListing, Report};

/// The version of the JSON report's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 3;

/// What the availability figures count.
pub const RULE: &str = "availability is the time-weighted share of HARD states that are up (ok or warning); \
                        the time up in a HARD warning is degraded_ms, and its periods are warnings; \
                        time without results is left out (or counted down with --no-data-as down); \
                        maintenance windows are cut out";

/// The JSON report: its fields, in this order, are the schema.
#[derive(Serialize)]
struct Schema<'a> {
    schema_version: u32,
    from_ms: i64,
    to_ms: i64,
    /// What the availability figures count, in words.
    rule: &'static str,
    no_data: NoData,
    checks: &'a [CheckReport],
    groups: &'a [GroupReport],
    maintenance: &'a [MaintenanceListing],
}

/// Writes the report, pretty-printed, with a final newline.
pub fn write(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let schema = Schema {
        schema_version: SCHEMA_VERSION,
        from_ms: report.window.from_ms,
        to_ms: report.window.to_ms,
        rule: RULE,
        no_data: report.no_data,
        checks: &report.checks,
        groups: &report.groups,
        maintenance: &report.maintenance,
    };
    serde_json::to_writer_pretty(&mut *out, &schema).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render::fixture::{self, rendered};

    #[test]
    fn the_json_report_has_the_schema_fields_in_order_with_its_version_and_rule() {
        let report = fixture::report();
        let text = rendered(write, &report);
        assert!(text.starts_with("{\n  \"schema_version\": 3,\n") && text.ends_with("\n}\n"), "{text}");
        let at = |field: &str| text.find(&format!("\n  \"{field}\": ")).unwrap_or_else(|| panic!("no {field}"));
        let fields = ["schema_version", "from_ms", "to_ms", "rule", "no_data", "checks", "groups", "maintenance"];
        assert!(fields.windows(2).all(|w| at(w[0]) < at(w[1])), "fields out of order: {text}");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(json["schema_version"], SCHEMA_VERSION);
        assert_eq!(json.as_object().map(|o| o.len()), Some(fields.len()), "no other fields");
        assert_eq!(
            (json["from_ms"].as_i64(), json["to_ms"].as_i64()),
            (Some(fixture::DAY0), Some(fixture::DAY0 + 86_400_000))
        );
        assert_eq!(json["rule"], RULE);
        assert_eq!(json["no_data"], "exclude");
    }

    /// `value` written as JSON and read back, as the report's text is, so that floats are
    /// compared after the same parse.
    fn reparsed(value: &impl Serialize) -> serde_json::Value {
        serde_json::from_str(&serde_json::to_string(value).expect("serializes")).expect("JSON")
    }

    #[test]
    fn checks_groups_and_maintenance_are_written_whole() {
        let report = fixture::report();
        let json: serde_json::Value = serde_json::from_str(&rendered(write, &report)).expect("JSON");
        assert_eq!(json["checks"], reparsed(&report.checks));
        assert_eq!(json["checks"][0]["availability"]["ratio"], 0.995);
        assert_eq!(json["checks"][0]["slo"]["budget"]["total_ms"], 25_920_000);
        assert!(json["checks"][1].get("slo").is_none(), "no objective, no slo field");
        assert_eq!(json["groups"], reparsed(&report.groups));
        assert_eq!(json["groups"][0]["checks"], serde_json::json!(["api", "db|replica"]));
        assert_eq!(
            json["maintenance"],
            serde_json::json!([{
                "name": "db upgrade",
                "from_ms": fixture::DAY0 + 2 * 3_600_000,
                "to_ms": fixture::DAY0 + 3 * 3_600_000,
                "checks": ["db|replica"],
            }])
        );
    }

    #[test]
    fn time_without_data_counted_down_says_so() {
        let mut report = fixture::report();
        report.no_data = NoData::AsDown;
        let json: serde_json::Value = serde_json::from_str(&rendered(write, &report)).expect("JSON");
        assert_eq!(json["no_data"], "as_down");
    }
}
