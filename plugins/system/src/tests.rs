//! Unit tests of how the facts of a machine are judged (pure logic on the values the
//! host's `system` interface returns; natively there is no host to ask).

use vitals_sdk::system::{LoadAverage, MemoryUsage, Mount};
use vitals_sdk::{Status, Thresholds};

use super::*;
use crate::judge::{MAX_MOUNT_METRICS, disk_used_pct, inode_used_pct, mount_label, number};

const GIB: u64 = 1 << 30;

fn loaded(json: &str) -> (Config, Parts) {
    match Config::load(json) {
        Ok(loaded) => loaded,
        Err(error) => panic!("{error}"),
    }
}

/// A file system of `total` GiB with `used` GiB used and the rest available (no reserve).
fn mount(path: &str, fs_type: &str, total: u64, used: u64) -> Mount {
    Mount {
        path: path.into(),
        device: format!("/dev/{}", mount_label(path)),
        fs_type: fs_type.into(),
        total_bytes: total * GIB,
        available_bytes: (total - used) * GIB,
        used_bytes: used * GIB,
        total_inodes: 1_000_000,
        free_inodes: 900_000,
    }
}

/// A machine: `/` 41% full, 24 GiB of memory 42% in use, no swap, load 0.6 on 2 CPUs.
fn machine() -> Facts {
    Facts {
        mounts: vec![mount("/", "ext4", 100, 41), mount("/dev/shm", "tmpfs", 12, 0)],
        memory: Some(MemoryUsage {
            total_bytes: 100 * GIB,
            available_bytes: 58 * GIB,
            swap_total_bytes: 0,
            swap_free_bytes: 0,
        }),
        load: Some(LoadAverage { one: 0.6, five: 1.0, fifteen: 4.0, cpus: 2 }),
        processes: None,
        listening: Vec::new(),
    }
}

fn run(json: &str, facts: &Facts) -> CheckResult {
    let (config, parts) = loaded(json);
    judge(&config, parts, facts)
}

fn find<'a>(result: &'a CheckResult, name: &str) -> &'a vitals_sdk::Metric {
    match result.metrics.iter().find(|m| m.name == name) {
        Some(m) => m,
        None => panic!("no metric {name} in {:?}", result.metrics.iter().map(|m| &m.name).collect::<Vec<_>>()),
    }
}

fn problems(json: &str) -> Vec<(Option<String>, String)> {
    System::validate(json).into_iter().map(|p| (p.key, p.message)).collect()
}

#[test]
fn a_config_without_keys_reports_disk_memory_swap_and_load_without_thresholds() {
    let result = run("{}", &machine());
    assert_eq!(result.status, Status::Ok);
    assert_eq!(result.summary, "disk / 41% used, memory 42% used, no swap, load 0.3 per core");
    let used = find(&result, "disk_used_pct.root");
    assert_eq!(
        (used.value, used.unit.as_str(), used.warn.clone(), used.min, used.max),
        (41.0, "%", None, Some(0.0), Some(100.0))
    );
    assert_eq!(find(&result, "disk_free.root").value, (59 * GIB) as f64);
    assert_eq!(find(&result, "inode_used_pct.root").value, 10.0);
    assert_eq!(find(&result, "memory_used_pct").value, 42.0);
    assert_eq!(find(&result, "memory_available").unit, "B");
    assert_eq!(find(&result, "swap_used_pct").value, 0.0);
    assert_eq!((find(&result, "load1").value, find(&result, "load15").value), (0.6, 4.0));
    assert_eq!(find(&result, "load_per_core").value, 0.3);
    // tmpfs is ignored by default.
    assert!(!result.metrics.iter().any(|m| m.name.contains("dev_shm")));
    let details = result.details.unwrap_or_default();
    assert!(details.contains("/ (ext4, /dev/root): 41% used, 59 GiB free of 100 GiB, inodes 10% used"), "{details}");
    assert!(details.contains("load: 0.6 1 4 (1m 5m 15m) on 2 CPUs"), "{details}");
}

#[test]
fn a_file_system_over_its_critical_threshold_is_named_first() {
    let mut facts = machine();
    facts.mounts[0] = mount("/", "ext4", 100, 91);
    let result = run(r#"{"disk_warn": "80%", "disk_crit": "90%", "memory_warn": "90%", "load_warn": 2}"#, &facts);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "disk / 91% used (critical > 90%), memory 42% used, load 0.3 per core");
    let used = find(&result, "disk_used_pct.root");
    assert_eq!((used.warn.as_deref(), used.crit.as_deref()), (Some("80"), Some("90")));
    assert_eq!(find(&result, "load_per_core").warn.as_deref(), Some("2"));
    // Only the parts asked about: no swap metric.
    assert!(!result.metrics.iter().any(|m| m.name == "swap_used_pct"));

    facts.mounts[0] = mount("/", "ext4", 100, 85);
    let result = run(r#"{"disk_warn": "80%", "disk_crit": "90%"}"#, &facts);
    assert_eq!((result.status, result.reason), (Status::Warning, Some(Reason::Assertion)));
    assert_eq!(result.summary, "disk / 85% used (warning > 80%)");
}

#[test]
fn zero_percent_thresholds_alert_on_anything_in_use() {
    let result = run(r#"{"disk_crit": "0%"}"#, &machine());
    assert_eq!(result.status, Status::Critical);
    assert!(result.summary.starts_with("disk / 41% used (critical > 0%)"), "{}", result.summary);
    let result = run(r#"{"memory_warn": "0%"}"#, &machine());
    assert_eq!((result.status, result.summary.as_str()), (Status::Warning, "memory 42% used (warning > 0%)"));
}

#[test]
fn the_worst_finding_comes_first_and_wins() {
    let mut facts = machine();
    facts.mounts.push(mount("/var", "xfs", 10, 7));
    facts.processes = Some(0);
    let json = r#"{"disk_warn": "60%", "memory_warn": "40%", "memory_crit": "99%", "process": "nginx"}"#;
    let result = run(json, &facts);
    assert_eq!(result.status, Status::Critical);
    assert_eq!(
        result.summary,
        "0 processes named nginx (critical, expected at least 1), disk /var 70% used (warning > 60%), \
         memory 42% used (warning > 40%), disk / 41% used"
    );
    assert_eq!(find(&result, "processes").crit.as_deref(), Some("1:"));
}

#[test]
fn a_value_just_above_its_threshold_shows_enough_decimals() {
    let mut facts = machine();
    facts.mounts =
        vec![Mount { used_bytes: 9_040, available_bytes: 960, total_bytes: 10_000, ..mount("/", "ext4", 1, 0) }];
    let result = run(r#"{"disk_crit": "90%"}"#, &facts);
    assert_eq!(result.summary, "disk / 90.4% used (critical > 90%)");
    assert_eq!(number(0.30, 2), "0.3");
    assert_eq!(number(12.0, 1), "12");
    assert_eq!(number(99.95, 1), "100");
}

#[test]
fn listed_mounts_are_checked_whatever_their_type_and_a_missing_one_is_critical() {
    let json = r#"{"mounts": ["/dev/shm/", "/data"], "disk_crit": "95%"}"#;
    let result = run(json, &machine());
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "disk /data not mounted, disk /dev/shm 0% used");
    assert_eq!(find(&result, "disk_used_pct.dev_shm").value, 0.0);
    assert!(!result.metrics.iter().any(|m| m.name == "disk_used_pct.root"));
}

#[test]
fn ignored_types_can_be_changed_and_a_machine_with_nothing_to_check_is_unknown() {
    let result = run(r#"{"ignore_fs_types": []}"#, &machine());
    assert_eq!(result.summary, "disk ok on 2 file systems, fullest / 41% used");
    let result = run(r#"{"ignore_fs_types": ["ext4", "tmpfs"]}"#, &machine());
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert_eq!(result.summary, "no file system to check: every mounted one is of an ignored type (ext4, tmpfs)");
}

#[test]
fn inodes_are_judged_where_a_file_system_counts_them() {
    let mut facts = machine();
    facts.mounts[0].free_inodes = 30_000;
    facts.mounts.push(Mount { total_inodes: 0, free_inodes: 0, ..mount("/srv/btrfs", "btrfs", 10, 1) });
    let result = run(r#"{"inode_warn": "80%", "inode_crit": "95%"}"#, &facts);
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.summary, "inodes / 97% used (critical > 95%), disk ok on 2 file systems, fullest / 41% used");
    assert_eq!(find(&result, "inode_used_pct.root").crit.as_deref(), Some("95"));
    assert!(!result.metrics.iter().any(|m| m.name == "inode_used_pct.srv_btrfs"));
    assert_eq!(inode_used_pct(&facts.mounts[2]), None);
}

#[test]
fn used_space_is_of_what_users_can_have_as_df_shows_it() {
    // 5% reserved for root: 50 used, 45 available of 100 is 52.6% used, not 50%.
    let m = Mount { used_bytes: 50, available_bytes: 45, total_bytes: 100, ..mount("/", "ext4", 1, 0) };
    assert!((disk_used_pct(&m) - 52.63).abs() < 0.01);
    let empty = Mount { used_bytes: 0, available_bytes: 0, total_bytes: 0, ..m };
    assert_eq!(disk_used_pct(&empty), 0.0);
}

#[test]
fn metric_labels_keep_to_the_hosts_characters_and_stay_apart() {
    assert_eq!(mount_label("/"), "root");
    assert_eq!(mount_label("/var/lib"), "var_lib");
    assert_eq!(mount_label("/mnt/my disk:1/"), "mnt_my_disk_1");
    assert_eq!(mount_label("/a.b-c"), "a.b-c");
    assert!(mount_label(&format!("/{}", "x".repeat(200))).len() <= 46);
    let mut facts = machine();
    facts.mounts = vec![mount("/var/lib", "ext4", 10, 1), mount("/var_lib", "ext4", 10, 1)];
    let result = run(r#"{"disk_warn": "90%"}"#, &facts);
    let names: Vec<&str> = result.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "disk_used_pct.var_lib",
            "disk_free.var_lib",
            "inode_used_pct.var_lib",
            "disk_used_pct.var_lib-2",
            "disk_free.var_lib-2",
            "inode_used_pct.var_lib-2"
        ]
    );
    for name in names {
        assert!(name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)), "{name}");
    }
}

#[test]
fn many_file_systems_keep_within_the_hosts_metrics_with_the_fullest_kept() {
    let mut facts = machine();
    facts.mounts = (0..30).map(|i| mount(&format!("/m{i}"), "ext4", 100, i)).collect();
    facts.processes = Some(1);
    facts.listening = (1..=16).map(|p| (p, true)).collect();
    let json = r#"{"disk_warn": "90%", "memory_warn": "90%", "swap_warn": "90%", "load_warn": 9,
                   "process": "sshd", "listening": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}"#;
    let result = run(json, &facts);
    assert!(result.metrics.len() <= 64, "{} metrics", result.metrics.len());
    assert_eq!(result.metrics.iter().filter(|m| m.name.starts_with("disk_used_pct.")).count(), MAX_MOUNT_METRICS);
    assert!(result.metrics.iter().any(|m| m.name == "disk_used_pct.m29"));
    assert!(!result.metrics.iter().any(|m| m.name == "disk_used_pct.m0"));
    assert!(result.summary.starts_with("disk ok on 30 file systems, fullest /m29 29% used"), "{}", result.summary);
    assert!(result.details.unwrap_or_default().contains("metrics of the 12 fullest of 30 file systems"));
}

#[test]
fn swap_is_judged_and_no_swap_is_fine() {
    let result = run(r#"{"swap_crit": "50%"}"#, &machine());
    assert_eq!((result.status, result.summary.as_str()), (Status::Ok, "no swap"));
    let mut facts = machine();
    facts.memory = facts.memory.map(|m| MemoryUsage { swap_total_bytes: 10 * GIB, swap_free_bytes: 4 * GIB, ..m });
    let result = run(r#"{"swap_warn": "30%", "swap_crit": "50%"}"#, &facts);
    assert_eq!((result.status, result.summary.as_str()), (Status::Critical, "swap 60% used (critical > 50%)"));
    let swap = find(&result, "swap_used_pct");
    assert_eq!((swap.value, swap.warn.as_deref(), swap.crit.as_deref()), (60.0, Some("30"), Some("50")));
}

#[test]
fn load_is_per_cpu_over_the_chosen_window() {
    let result = run(r#"{"load_warn": 1.5, "load_crit": 3, "load_average": "15m"}"#, &machine());
    assert_eq!(
        (result.status, result.summary.as_str()),
        (Status::Warning, "load 2 per core (15m average) (warning > 1.5)")
    );
    let per_core = find(&result, "load_per_core");
    assert_eq!((per_core.value, per_core.warn.as_deref(), per_core.crit.as_deref()), (2.0, Some("1.5"), Some("3")));
    let result = run(r#"{"load_crit": 0.25}"#, &machine());
    assert_eq!((result.status, result.summary.as_str()), (Status::Critical, "load 0.3 per core (critical > 0.25)"));
    let mut facts = machine();
    facts.load = Some(LoadAverage { one: 0.04, five: 0.0, fifteen: 0.0, cpus: 0 });
    assert_eq!(run(r#"{"load_warn": 1}"#, &facts).summary, "load 0.04 per core");
}

#[test]
fn a_process_count_outside_its_limits_is_critical() {
    let mut facts = machine();
    facts.processes = Some(2);
    let result = run(r#"{"process": "nginx"}"#, &facts);
    assert_eq!((result.status, result.summary.as_str()), (Status::Ok, "2 processes named nginx"));
    assert_eq!(find(&result, "processes").value, 2.0);
    let result = run(r#"{"process": "nginx", "process_min": 1, "process_max": 1}"#, &facts);
    assert_eq!(result.status, Status::Critical);
    assert_eq!(result.summary, "2 processes named nginx (critical, expected exactly 1)");
    assert_eq!(find(&result, "processes").crit.as_deref(), Some("1:1"));
    let result = run(r#"{"process": "nginx", "process_min": 3, "process_max": 5}"#, &facts);
    assert_eq!(result.summary, "2 processes named nginx (critical, expected 3 to 5)");
    let result = run(r#"{"process": "cron", "process_min": 0, "process_max": 0}"#, &facts);
    assert_eq!(result.summary, "2 processes named cron (critical, expected exactly 0)");
    let result = run(r#"{"process": "cron", "process_min": 0, "process_max": 4}"#, &facts);
    assert_eq!((result.status, result.summary.as_str()), (Status::Ok, "2 processes named cron"));
    facts.processes = Some(1);
    assert_eq!(run(r#"{"process": "sshd"}"#, &facts).summary, "1 process named sshd");
}

#[test]
fn ports_not_listening_are_critical_and_each_has_a_metric() {
    let mut facts = machine();
    facts.listening = vec![(22, true), (9, false), (443, true), (10, false)];
    let result = run(r#"{"listening": [22, 9, 443, 10]}"#, &facts);
    assert_eq!((result.status, result.reason), (Status::Critical, Some(Reason::Assertion)));
    assert_eq!(result.summary, "ports 9, 10 not listening (critical), ports 22, 443 listening");
    let m = find(&result, "listening.9");
    assert_eq!((m.value, m.crit.as_deref(), m.max), (0.0, Some("1:"), Some(1.0)));
    assert_eq!(find(&result, "listening.22").value, 1.0);
    facts.listening = vec![(22, true)];
    let result = run(r#"{"listening": [22]}"#, &facts);
    assert_eq!((result.status, result.summary.as_str()), (Status::Ok, "port 22 listening"));
}

#[test]
fn parts_follow_the_keys_given() {
    let parts = |json: &str| loaded(json).1;
    let inventory = Parts { disk: true, memory: true, swap: true, load: true, process: false, listening: false };
    assert_eq!(parts("{}"), inventory);
    assert_eq!(parts(r#"{"process": "x"}"#), Parts { process: true, ..Parts::default() });
    assert_eq!(parts(r#"{"mounts": ["/"]}"#), Parts { disk: true, ..Parts::default() });
    assert_eq!(parts(r#"{"inode_crit": "90%"}"#), Parts { disk: true, ..Parts::default() });
    assert_eq!(parts(r#"{"load_average": "5m"}"#), Parts { load: true, ..Parts::default() });
    assert_eq!(
        parts(r#"{"listening": [22], "swap_warn": "1%"}"#),
        Parts { listening: true, swap: true, ..Parts::default() }
    );
}

#[test]
fn percentages_and_the_other_values_are_checked_by_key() {
    let m = |key: &str, message: &str| (Some(key.to_string()), message.to_string());
    assert_eq!(
        problems(r#"{"disk_warn": "abc"}"#),
        [m("disk_warn", "expected a percentage such as \"80%\", found \"abc\"")]
    );
    assert_eq!(
        problems(r#"{"disk_crit": "80"}"#),
        [m("disk_crit", "expected a percentage such as \"80%\", found \"80\"")]
    );
    assert_eq!(problems(r#"{"memory_crit": "101%"}"#), [m("memory_crit", "\"101%\" is not between 0% and 100%")]);
    assert_eq!(
        problems(r#"{"load_average": "1h"}"#),
        [m("load_average", "expected \"1m\", \"5m\" or \"15m\", found \"1h\"")]
    );
    assert_eq!(problems(r#"{"load_warn": -1}"#), [m("load_warn", "must be a number of 0 or more")]);
    assert_eq!(
        problems(r#"{"process": "/usr/sbin/nginx"}"#),
        [m("process", "a process name is one word without `/`, e.g. \"nginx\"")]
    );
    assert_eq!(
        problems(r#"{"mounts": ["/", "var"]}"#),
        [m("mounts", "item 2: a mount point is an absolute path such as \"/var\"")]
    );
    assert_eq!(problems(r#"{"listening": [22, 0]}"#), [m("listening", "item 2: a port is a number from 1 to 65535")]);
    assert_eq!(
        problems(r#"{"listening": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}"#),
        [m("listening", "at most 16 ports")]
    );
    assert_eq!(problems(r#"{"disk_warn": " 80.5 % ", "disk_crit": "90%", "load_crit": 2}"#), []);
}

#[test]
fn keys_that_contradict_each_other_are_refused() {
    let m = |key: &str, message: &str| (Some(key.to_string()), message.to_string());
    assert_eq!(
        problems(r#"{"disk_warn": "95%", "disk_crit": "90%", "load_warn": 3, "load_crit": 2}"#),
        [
            m("disk_warn", "is above disk_crit: a warning comes before the critical level"),
            m("load_warn", "is above load_crit: a warning comes before the critical level")
        ]
    );
    assert_eq!(
        problems(r#"{"process_max": 2}"#),
        [m("process_max", "needs process, the name of the process to count")]
    );
    assert_eq!(
        problems(r#"{"process": "x", "process_min": 3, "process_max": 2}"#),
        [m("process_max", "is below process_min (3): no count could pass")]
    );
}

#[test]
fn config_defaults_and_describe() {
    assert_eq!(Config::check_defaults(), []);
    let (config, _) = loaded("");
    assert_eq!((config.process_min, config.load_average), (1, crate::config::LoadWindow::One));
    assert_eq!(config.ignore_fs_types, ["tmpfs", "devtmpfs", "squashfs", "iso9660"]);
    let description = System::describe();
    assert_eq!((description.name.as_str(), description.version.as_str()), ("system", "0.1.0"));
    let names: Vec<&str> = description.config.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "disk_warn",
            "disk_crit",
            "mounts",
            "ignore_fs_types",
            "inode_warn",
            "inode_crit",
            "memory_warn",
            "memory_crit",
            "swap_warn",
            "swap_crit",
            "load_warn",
            "load_crit",
            "load_average",
            "process",
            "process_min",
            "process_max",
            "listening"
        ]
    );
    assert!(description.summary.contains("disk_used_pct.LABEL (%)"));
    // A percentage threshold is the range check_disk users know: alert above it.
    let thresholds = Thresholds { warn: None, crit: Some(crate::config::Percent(90.0).upper()) };
    assert_eq!((thresholds.evaluate(90.0), thresholds.evaluate(90.1)), (Status::Ok, Status::Critical));
}

#[test]
fn targets_are_system_and_a_label() {
    assert_eq!(check_target("system:disk"), Ok(()));
    assert_eq!(check_target(" system:web-1 "), Ok(()));
    for bad in ["system:", "disk", "127.0.0.1:22", ""] {
        assert!(check_target(bad).is_err_and(|e| e.contains("system:NAME")), "{bad:?}");
    }
}

/// Natively there is no host: a run gets as far as asking, and says why it cannot.
#[test]
fn a_native_run_says_there_is_no_host() {
    let request = |config: &str| CheckRequest {
        name: "c".into(),
        target: "system:disk".into(),
        config: config.into(),
        deadline_ms: 5_000,
    };
    let result = System::run(request(r#"{"disk_warn": "80%"}"#));
    assert_eq!((result.status, result.reason), (Status::Unknown, Some(Reason::PluginError)));
    assert!(result.summary.starts_with("reading the mounted file systems failed: no host: "), "{}", result.summary);
    let result = System::run(request(r#"{"disk_warn": "abc"}"#));
    assert!(result.summary.starts_with("invalid config: disk_warn: "), "{}", result.summary);
    let result = System::run(CheckRequest { target: "localhost:22".into(), ..request("{}") });
    assert!(result.summary.contains("system:NAME"), "{}", result.summary);
}

// The config refusals of cases.toml, run natively through `System::run`; the cases format
// cannot answer `system` calls, so the judging is tested above on plain values.
vitals_sdk::test_cases!(System, "cases.toml");
