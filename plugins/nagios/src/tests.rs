//! Unit tests of how a program's exit and output are judged (pure logic: natively `exec`
//! has no host), with outputs as the Debian monitoring-plugins 2.3 print them.

use super::*;
use crate::output::{clean_lines, metric_name, perfdata, split, unique};

const DISK: &str = "/usr/lib/nagios/plugins/check_disk";

fn exit(code: Option<i32>, stdout: &str) -> Exit {
    Exit {
        code,
        timed_out: false,
        stdout: stdout.as_bytes().to_vec(),
        stderr: Vec::new(),
        truncated: false,
        time_us: 12_500,
    }
}

fn limit() -> Limit {
    Limit { time: Duration::from_millis(4_500), by_check: true }
}

fn find<'a>(result: &'a CheckResult, name: &str) -> &'a Metric {
    result.metrics.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no metric {name} in {result:?}"))
}

fn details(result: &CheckResult) -> &str {
    result.details.as_deref().unwrap_or("")
}

// --- exit codes -------------------------------------------------------------------------

#[test]
fn check_disk_ok_is_ok_with_its_perfdata_in_bytes() {
    let out =
        "DISK OK - free space: / 57124MiB (61% inode=97%);| /=37672189952B;267847005634;267847005634;0;270552530944\n";
    let result = judge(DISK, limit(), &exit(Some(0), out));
    assert_eq!((result.status, result.reason), (Status::Ok, None));
    assert_eq!(result.summary, "free space: / 57124MiB (61% inode=97%);");
    let root = find(&result, "root");
    assert_eq!((root.value, root.unit.as_str()), (37_672_189_952.0, "B"));
    assert_eq!((root.warn.as_deref(), root.crit.as_deref()), (Some("267847005634"), Some("267847005634")));
    assert_eq!((root.min, root.max), (Some(0.0), Some(270_552_530_944.0)));
    let time = find(&result, "time_total");
    assert_eq!((time.value, time.unit.as_str(), time.min), (12.5, "ms", Some(0.0)));
    assert_eq!(result.metrics.len(), 2);
    assert_eq!(details(&result), format!("program: {DISK}, exit code 0, after 12.5 ms"));
}

#[test]
fn exit_codes_one_and_two_are_warning_and_critical_from_the_program() {
    let out = "DISK WARNING - free space: / 55156MiB (59% inode=97%);| /=39736836096B;0;270552530944;0;270552530944\n";
    let result = judge(DISK, limit(), &exit(Some(1), out));
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert_eq!(result.summary, "free space: / 55156MiB (59% inode=97%);");
    assert_eq!(find(&result, "root").warn.as_deref(), Some("0"));

    let out = "DISK CRITICAL - free space: / 55156MiB (59% inode=97%);| /=39736836096B;0;0;0;270552530944\n";
    let result = judge(DISK, limit(), &exit(Some(2), out));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(find(&result, "root").crit.as_deref(), Some("0"));

    let refused = "connect to address 127.0.0.1 and port 40791: Connection refused\n";
    let result = judge("/usr/lib/nagios/plugins/check_tcp", limit(), &exit(Some(2), refused));
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "connect to address 127.0.0.1 and port 40791: Connection refused");
}

#[test]
fn exit_code_three_any_other_code_and_a_signal_are_unknown() {
    let result = judge("/usr/lib/nagios/plugins/check_dummy", limit(), &exit(Some(3), "UNKNOWN: text\n"));
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert_eq!(result.summary, "text");

    let result = judge("/opt/checks/check_queue", limit(), &exit(Some(4), "queue is odd\n"));
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert_eq!(result.summary, "queue is odd (check_queue exited with 4, not a Monitoring Plugins status)");
    assert!(details(&result).ends_with("program: /opt/checks/check_queue, exit code 4, after 12.5 ms"));

    let result = judge("/opt/checks/check_queue", limit(), &exit(Some(-1), ""));
    assert_eq!(result.status, Status::Unknown);

    let result = judge("/opt/checks/check_queue", limit(), &exit(None, "half a li"));
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert_eq!(result.summary, "half a li (check_queue was ended by a signal)");
    assert!(details(&result).contains("ended by a signal, after"), "{}", details(&result));
}

#[test]
fn a_program_at_its_time_limit_is_critical_with_reason_timeout() {
    let mut ran = exit(None, "");
    ran.timed_out = true;
    ran.time_us = 500_300;
    let own = Limit { time: Duration::from_millis(500), by_check: false };
    let result = judge("/usr/bin/sleep", own, &ran);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Timeout)));
    assert_eq!(result.summary, "sleep did not finish within its timeout of 500.0 ms and was ended");
    assert!(details(&result).contains("ended with its process group at its time limit of 500.0 ms"));
    assert_eq!(find(&result, "time_total").value, 500.3);

    let result = judge("/usr/bin/sleep", limit(), &ran);
    assert_eq!(
        result.summary,
        "sleep did not finish within 4.5 s (what was left of the check's timeout) and was ended"
    );
}

// --- summary ----------------------------------------------------------------------------

#[test]
fn the_programs_own_status_prefix_is_left_out_when_it_agrees() {
    let cases = [
        (
            0,
            "TCP OK - 0.000 second response time on 127.0.0.1 port 22",
            "0.000 second response time on 127.0.0.1 port 22",
        ),
        (0, "HTTP OK: HTTP/1.1 200 OK - 164 bytes in 0.001 second", "HTTP/1.1 200 OK - 164 bytes in 0.001 second"),
        (2, "HTTP CRITICAL: HTTP/1.1 500 Internal Server Error", "HTTP/1.1 500 Internal Server Error"),
        (1, "LOAD WARNING - total load average: 3.79, 5.90, 5.60", "total load average: 3.79, 5.90, 5.60"),
        (2, "CRITICAL - Socket timeout after 10 seconds", "Socket timeout after 10 seconds"),
        (0, "PROCS OK: 3 processes with command name 'nginx'", "3 processes with command name 'nginx'"),
        (0, "check_foo.sh OK - fine", "fine"),
        // Nothing after the word, a word that disagrees, or no prefix: as printed.
        (0, "OK", "OK"),
        (0, "DISK OK -", "DISK OK -"),
        (0, "CRITICAL: the exit code says otherwise", "CRITICAL: the exit code says otherwise"),
        (0, "all 3 replicas OK", "all 3 replicas OK"),
        (0, "OKAY - not the word", "OKAY - not the word"),
        (
            2,
            "connect to address ::1 and port 5: Connection refused",
            "connect to address ::1 and port 5: Connection refused",
        ),
        (0, "free: 4 OK - fine", "free: 4 OK - fine"),
    ];
    for (code, printed, shown) in cases {
        let result = judge("/x/check", limit(), &exit(Some(code), printed));
        assert_eq!(result.summary, shown, "{printed:?}");
    }
}

#[test]
fn the_summary_is_cleaned_and_bounded() {
    let result = judge("/x/check", limit(), &exit(Some(0), "OK - a\x1b[31m red\tword\u{7}\n"));
    assert_eq!(result.summary, "a [31m red word");
    let long = format!("{}\n", "x".repeat(2_000));
    let result = judge("/x/check", limit(), &exit(Some(0), &long));
    assert_eq!(result.summary.chars().count(), output::MAX_SUMMARY + 1);
    assert!(result.summary.ends_with('…'));
    let result = judge("/x/check", limit(), &exit(Some(0), "\n\n  \r\nOK - after blank lines\n"));
    assert_eq!(result.summary, "after blank lines");
    let bytes = Exit { stdout: b"OK - caf\xe9\n".to_vec(), ..exit(Some(0), "") };
    assert_eq!(judge("/x/check", limit(), &bytes).summary, "caf\u{fffd}");
}

#[test]
fn no_output_says_so_with_the_first_line_of_stderr() {
    let result = judge("/x/check", limit(), &exit(Some(0), ""));
    assert_eq!((result.status, result.summary.as_str()), (Status::Ok, "(no output)"));
    let result = judge("/x/check", limit(), &exit(Some(2), "   \n\n"));
    assert_eq!(result.summary, "(no output)");
    let result = judge("/x/check", limit(), &exit(Some(2), "|time=1s"));
    assert_eq!(result.summary, "(no output)");
    assert_eq!(find(&result, "time").value, 1.0);
    let mut failed = exit(Some(3), "");
    failed.stderr = b"\nTraceback (most recent call last):\n  File \"x\", line 1\nNameError: y\n".to_vec();
    let result = judge("/x/check", limit(), &failed);
    assert_eq!(result.summary, "(no output) stderr: Traceback (most recent call last):");
    assert!(
        details(&result)
            .starts_with("stderr:\nTraceback (most recent call last):\n  File \"x\", line 1\nNameError: y\n")
    );
}

// --- details ----------------------------------------------------------------------------

#[test]
fn long_output_and_stderr_are_the_details_without_perfdata() {
    let out = "DISK OK - 2 file systems | /=1B;;;0;10\n/ 10% used\n/var 20% used | /var=2B;;;0;10\n'/var/log'=3B\n";
    let mut ran = exit(Some(0), out);
    ran.stderr = b"warning: \x1b[1mdeprecated\x1b[0m option\n".to_vec();
    let result = judge(DISK, limit(), &ran);
    assert_eq!(result.summary, "2 file systems");
    let names: Vec<&str> = result.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["root", "var", "var_log", "time_total"]);
    assert_eq!(
        details(&result),
        format!(
            "/ 10% used\n/var 20% used\nstderr:\nwarning:  [1mdeprecated [0m option\nprogram: {DISK}, exit code 0, after 12.5 ms"
        )
    );
}

#[test]
fn long_output_is_bounded_and_a_cut_by_the_host_is_said() {
    let out = format!("OK - big\n{}", "line of long output\n".repeat(2_000));
    let mut ran = exit(Some(0), &out);
    ran.truncated = true;
    let result = judge("/x/check", limit(), &ran);
    let text = details(&result);
    assert!(text.len() < output::MAX_LONG_OUTPUT + 300, "{}", text.len());
    assert!(text.contains("…\nthe host cut the program's output"), "{text}");
    assert_eq!(clean_lines("\n\n  a\t b  \n\n c\r\n\n", 100), "  a  b\n\n c");
    assert_eq!(clean_lines("ääää", 5), "ä…");
}

// --- perfdata ---------------------------------------------------------------------------

fn parse(text: &str) -> (Vec<Perf>, Vec<String>) {
    let mut notes = Vec::new();
    let items = perfdata(text, &mut notes);
    (items, notes)
}

#[test]
fn perfdata_of_the_debian_plugins() {
    let (items, notes) =
        parse("load1=3.790;100.000;200.000;0; load5=5.900;100.000;200.000;0; load15=5.600;100.000;200.000;0; ");
    assert_eq!(notes, Vec::<String>::new());
    assert_eq!(items.len(), 3);
    assert_eq!((items[0].label.as_str(), items[0].value, items[0].unit.as_str()), ("load1", 3.79, ""));
    assert_eq!((items[0].warn.as_deref(), items[0].crit.as_deref()), (Some("100.000"), Some("200.000")));
    assert_eq!((items[0].min, items[0].max), (Some(0.0), None));

    let (items, notes) = parse("time=0.000130s;;;0.000000;10.000000");
    assert!(notes.is_empty());
    assert_eq!((items[0].value, items[0].unit.as_str(), items[0].warn.clone()), (0.00013, "s", None));
    assert_eq!(items[0].max, Some(10.0));

    let (items, _) = parse("time=0.001s;;;0.000000 size=164B;;;0");
    assert_eq!((items[1].label.as_str(), items[1].value, items[1].unit.as_str()), ("size", 164.0, "B"));
}

#[test]
fn every_unit_of_the_guidelines_and_values_without_one() {
    let (items, notes) = parse("a=1s b=2ms c=3us d=4% e=5B f=6KB g=7MB h=8GB i=9TB j=10c k=11 l=12kB");
    assert!(notes.is_empty(), "{notes:?}");
    let units: Vec<&str> = items.iter().map(|p| p.unit.as_str()).collect();
    assert_eq!(units, ["s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c", "", "KB"]);
    let (items, notes) = parse("temp=21.5C rx=5MiB");
    assert_eq!((items[0].value, items[0].unit.as_str(), items[1].unit.as_str()), (21.5, "", ""));
    assert_eq!(notes.len(), 2);
    assert!(notes[0].starts_with("perfdata 'temp': unit \"C\" dropped"), "{notes:?}");
}

#[test]
fn numbers_in_every_form_a_program_writes() {
    let (items, notes) = parse("a=-1.5 b=+2 c=.5 d=3. e=1e3 f=2.5E-3s g=0");
    assert!(notes.is_empty(), "{notes:?}");
    let values: Vec<f64> = items.iter().map(|p| p.value).collect();
    assert_eq!(values, [-1.5, 2.0, 0.5, 3.0, 1000.0, 0.0025, 0.0]);
    assert_eq!(items[5].unit, "s");
}

#[test]
fn quoted_labels_with_spaces_equals_and_escaped_quotes() {
    let (items, notes) = parse("'/ inodes'=97%;;;0;100 'it''s=odd'=1 '' ok=2");
    assert_eq!(items.iter().map(|p| p.label.as_str()).collect::<Vec<_>>(), ["/ inodes", "it's=odd", "ok"]);
    assert_eq!(notes, ["perfdata \"''\" skipped: no `=` after the quoted label"]);
    let (items, notes) = parse("'unterminated=1 next=2");
    assert!(items.is_empty());
    assert_eq!(notes, ["perfdata \"'unterminated=1 next=2\" skipped: its quote is never closed"]);
    let (_, notes) = parse("''=1");
    assert_eq!(notes, ["perfdata \"''=1\" skipped: the label is empty"]);
}

#[test]
fn malformed_items_are_skipped_and_said_and_the_rest_kept() {
    let (items, notes) = parse("good=1 novalue= bare x=U y=abc z=1,5 w=1;2;3;4;5;6 =3 also=2");
    assert_eq!(items.iter().map(|p| p.label.as_str()).collect::<Vec<_>>(), ["good", "also"]);
    assert_eq!(
        notes,
        [
            "perfdata \"novalue=\" skipped: no value",
            "perfdata \"bare\" skipped: no `=` between label and value",
            "perfdata \"x=U\" skipped: its value is U (the program could not determine it)",
            "perfdata \"y=abc\" skipped: the value \"abc\" is not a number",
            "perfdata \"z=1,5\" skipped: the value \"1,5\" is not a number",
            "perfdata \"w=1;2;3;4;5;6\" skipped: 6 fields after `=`, at most 5 (value;warn;crit;min;max)",
            "perfdata \"=3\" skipped: the label is empty",
        ]
    );
    let (items, notes) = parse("inf=inf nan=NaN big=1e999");
    assert!(items.is_empty() && notes.len() == 3, "{notes:?}");
}

#[test]
fn thresholds_are_kept_as_written_when_they_are_ranges() {
    let (items, notes) = parse("a=5;10:;@10:20;0;100 b=5;~:4;4:2 c=5;x;y;min;max d=5;;;;");
    assert_eq!((items[0].warn.as_deref(), items[0].crit.as_deref()), (Some("10:"), Some("@10:20")));
    assert_eq!(items[1].warn.as_deref(), Some("~:4"));
    assert_eq!(items[1].crit, None);
    assert_eq!((items[2].warn.clone(), items[2].min, items[2].max), (None, None, None));
    assert_eq!((items[3].warn.clone(), items[3].crit.clone(), items[3].min), (None, None, None));
    assert_eq!(
        notes,
        [
            "perfdata 'b': crit \"4:2\" dropped, not a range",
            "perfdata 'c': warn \"x\" dropped, not a range",
            "perfdata 'c': crit \"y\" dropped, not a range",
            "perfdata 'c': min \"min\" dropped, not a number",
            "perfdata 'c': max \"max\" dropped, not a number",
        ]
    );
}

#[test]
fn skipped_perfdata_is_said_in_the_details_never_a_failure() {
    let out = "CRITICAL: a|b\n";
    let result = judge("/usr/lib/nagios/plugins/check_dummy", limit(), &exit(Some(2), out));
    assert_eq!((result.status, result.summary.as_str()), (Status::Critical, "a"));
    assert!(details(&result).starts_with("perfdata \"b\" skipped: no `=` between label and value\n"));
    let many: String = (0..8).map(|n| format!("bad{n} ")).collect();
    let result = judge("/x/check", limit(), &exit(Some(0), &format!("OK - x | {many}")));
    assert_eq!(result.status, Status::Ok);
    assert!(details(&result).contains("3 more perfdata notes\n"), "{}", details(&result));
}

#[test]
fn at_most_sixty_four_metrics_with_time_total() {
    let many: String = (0..70).map(|n| format!("m{n}={n} ")).collect();
    let result = judge("/x/check", limit(), &exit(Some(0), &format!("OK - many | {many}")));
    assert_eq!(result.metrics.len(), 64);
    assert_eq!(result.metrics[62].name, "m62");
    assert_eq!(result.metrics[63].name, "time_total");
    assert!(details(&result).contains("7 more perfdata items dropped (at most 63 are kept)"));
    // The program's own time_total wins; Vitals' is left out.
    let result = judge("/x/check", limit(), &exit(Some(0), "OK | time_total=3ms"));
    assert_eq!(result.metrics.len(), 1);
    assert_eq!(find(&result, "time_total").value, 3.0);
}

// --- metric names -----------------------------------------------------------------------

#[test]
fn labels_become_recognizable_metric_names() {
    for (label, name) in [
        ("/", "root"),
        ("//", "root"),
        ("/var", "var"),
        ("/var/log", "var_log"),
        ("/boot/efi", "boot_efi"),
        ("/ inodes", "inodes"),
        ("load1", "load1"),
        ("time_total", "time_total"),
        ("rta", "rta"),
        ("eth0 rx bytes", "eth0_rx_bytes"),
        ("a..b-c_d", "a..b-c_d"),
        ("C:\\ Used Space", "C_Used_Space"),
        ("_private_", "_private_"),
        ("temp (°C)", "temp_C"),
        ("über", "ber"),
        ("???", "unnamed"),
        ("", "unnamed"),
    ] {
        assert_eq!(metric_name(label), name, "{label:?}");
    }
    assert_eq!(metric_name(&"x".repeat(100)).len(), 64);
}

#[test]
fn names_that_collide_are_numbered() {
    let taken = vec!["root".to_string(), "root_2".to_string()];
    assert_eq!(unique("root".into(), &taken), "root_3");
    assert_eq!(unique("var".into(), &taken), "var");
    let long = "y".repeat(64);
    let suffixed = unique(long.clone(), &[long]);
    assert_eq!((suffixed.len(), suffixed.ends_with("y_2")), (64, true));
    let result = judge("/x/check", limit(), &exit(Some(0), "OK | /=1 /root=2 root=3"));
    let names: Vec<&str> = result.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["root", "root_2", "root_3", "time_total"]);
}

#[test]
fn splitting_stdout() {
    let parts = split("S | p=1\nl1\r\nl2 | p=2\np=3\n");
    assert_eq!(
        (parts.summary.as_str(), parts.long.as_str(), parts.perfdata.as_str()),
        ("S", "l1\nl2 ", "p=1 p=2\np=3")
    );
    let parts = split("just one line");
    assert_eq!((parts.summary.as_str(), parts.long.as_str(), parts.perfdata.as_str()), ("just one line", "", ""));
}

// --- host errors ------------------------------------------------------------------------

#[test]
fn a_program_not_granted_is_critical_with_reason_denied() {
    let err = NetError::Denied(
        "running \"/usr/bin/id\" is not granted to this check; add \"exec:/usr/bin/id\" (its exact absolute path) to \
         the check's allow list"
            .into(),
    );
    let result = refused("/usr/bin/id", &err);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Denied)));
    assert!(result.summary.starts_with("run id failed: running \"/usr/bin/id\" is not granted"), "{}", result.summary);
    let missing = refused("/opt/none", &NetError::Invalid("/opt/none does not exist".into()));
    assert_eq!((missing.status, missing.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert_eq!(missing.summary, "run none failed: /opt/none does not exist");
    let late = refused("/opt/x", &NetError::Timeout("the check's deadline passed".into()));
    assert_eq!((late.status, late.reason), (Status::Critical, Some(Reason::Timeout)));
}

#[test]
fn natively_exec_has_no_host() {
    let request = CheckRequest {
        name: "disk".into(),
        target: "system:disk".into(),
        config: format!(r#"{{"command": "{DISK}", "args": ["-w", "10%"]}}"#),
        deadline_ms: 5_000,
    };
    let result = Nagios::run(request);
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(result.summary.starts_with("run check_disk failed: no host: "), "{}", result.summary);
}

#[test]
fn macros_need_a_host_port_target() {
    let request = CheckRequest {
        name: "tcp".into(),
        target: "system:tcp".into(),
        config: r#"{"command": "/usr/lib/nagios/plugins/check_tcp", "args": ["-H", "$HOST$"]}"#.into(),
        deadline_ms: 5_000,
    };
    let result = Nagios::run(request);
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(result.summary.contains("need a host:port target"), "{}", result.summary);
}

// --- describe and validate ----------------------------------------------------------------

#[test]
fn describe_lists_every_key() {
    let description = Nagios::describe();
    assert_eq!((description.name.as_str(), description.version.as_str()), ("nagios", "0.1.0"));
    let keys: Vec<(&str, bool)> = description.config.iter().map(|k| (k.name.as_str(), k.required)).collect();
    assert_eq!(keys, [("command", true), ("args", false), ("timeout", false)]);
    assert!(description.summary.contains("allow = [\"exec:PATH\"]"));
}

#[test]
fn validate_names_each_bad_key() {
    let problems = Nagios::validate(r#"{"command": "check_disk", "args": ["-H", "$HOSTADDRESS$"], "timeout": "0s"}"#);
    let keys: Vec<Option<&str>> = problems.iter().map(|p| p.key.as_deref()).collect();
    assert_eq!(keys, [Some("command"), Some("args"), Some("timeout")]);
    assert_eq!(Nagios::validate(r#"{"command": "/usr/lib/nagios/plugins/check_disk", "args": ["-w", "10%"]}"#), []);
}

// Every case of cases.toml (config refusals: exec is not replayed by the kits), run
// natively through `Nagios::run`.
vitals_sdk::test_cases!(Nagios, "cases.toml");
