//! The verdict as JUnit XML, the report format Jenkins, GitLab and GitHub test reporters
//! read: one `<testsuite>` per check, one `<testcase>` per condition on it, and a
//! `<failure>` whose message carries the measured value.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::Verdict;
use super::output::measured_text;

/// Renders the verdict as a JUnit XML document.
pub fn junit(verdict: &Verdict) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("vitals gate");
    for check in verdict.checks() {
        let mut suite = TestSuite::new(check);
        for c in &verdict.conditions {
            for o in c.outcomes.iter().filter(|o| o.check == check) {
                let status = if o.passed {
                    TestCaseStatus::success()
                } else {
                    let mut failure = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    failure.set_message(c.describe(o)).set_type("gate condition").set_description(format!(
                        "condition: {}\ncheck: {}\nmeasured: {}\nsource: {}",
                        c.condition,
                        o.check,
                        measured_text(o),
                        c.source
                    ));
                    failure
                };
                let mut case = TestCase::new(c.condition.as_str(), status);
                case.set_classname(format!("vitals.gate.{check}"));
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    report.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::output::tests::sample;

    #[test]
    fn one_suite_per_check_and_a_failure_with_the_measured_value() {
        let xml = junit(&sample()).unwrap();
        assert!(
            xml.contains(r#"<testsuites name="vitals gate" tests="3" skipped="0" failures="2" errors="0">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"<testsuite name="web" tests="2" skipped="0" errors="0" failures="1">"#), "{xml}");
        assert!(xml.contains("<testsuite name=\"db\""), "{xml}");
        assert!(xml.contains(r#"message="`p95(tag:api) &lt; 300ms` failed on web: measured 412.0 ms""#), "{xml}");
    }
}
