//! The `nagios` plugin's configuration keys, declared once, the `$HOST$`/`$PORT$` macros
//! of its arguments, and the time limit the program gets.

use std::time::Duration;

use vitals_sdk::Config;

/// Most arguments the host passes to a program.
pub const MAX_ARGS: usize = 64;
/// Longest argument the host passes, in bytes.
pub const MAX_ARG: usize = 4096;
/// The macro replaced by the target's host.
pub const HOST_MACRO: &str = "$HOST$";
/// The macro replaced by the target's port.
pub const PORT_MACRO: &str = "$PORT$";

/// The parsed `[check.config]` table.
#[derive(Debug, Config)]
pub struct Config {
    /// Absolute path of the program to run (e.g. /usr/lib/nagios/plugins/check_disk), never through a shell; the check must grant exactly this path with allow = ["exec:PATH"].
    #[config(required, check = program_path)]
    pub command: String,
    /// Arguments given to the program as they are (no shell, no quoting); $HOST$ and $PORT$ are replaced by the host and port of a host:port target.
    #[config(check = arguments)]
    pub args: Vec<String>,
    /// How long the program may run before it is ended with its process group (critical, reason timeout); by default what is left of the check's timeout, less a margin.
    #[config(check = positive)]
    pub timeout: Option<Duration>,
}

/// `command`: one program by its absolute path, as an `exec:` grant names it.
fn program_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!(
            "{path:?} is not an absolute path; write the program's full path (/usr/lib/nagios/plugins/check_disk), \
             never a name looked up in PATH"
        ));
    }
    if path.contains(char::is_whitespace) {
        return Err(format!("{path:?} holds a space: command is one program's path; put its arguments in args"));
    }
    if path.chars().any(char::is_control) {
        return Err("the path holds a control character".to_string());
    }
    if path.split('/').any(|part| part == "..") {
        return Err(format!("{path:?} holds `..`; write the program's own path, as the exec grant names it"));
    }
    if path.ends_with('/') {
        return Err(format!("{path:?} is a directory; write the path of the program in it"));
    }
    Ok(())
}

/// `args`: what the host passes (at most [`MAX_ARGS`] of [`MAX_ARG`] bytes, no NUL), and
/// no Nagios macro that nothing would expand.
fn arguments(args: &[String]) -> Result<(), String> {
    if args.len() > MAX_ARGS {
        return Err(format!("{} arguments; a program gets at most {MAX_ARGS}", args.len()));
    }
    for (n, arg) in args.iter().enumerate() {
        if arg.len() > MAX_ARG {
            return Err(format!("argument {} is {} bytes long; at most {MAX_ARG}", n + 1, arg.len()));
        }
        if arg.contains('\0') {
            return Err(format!("argument {} holds a NUL byte", n + 1));
        }
        if let Some(problem) = nagios_macro(arg) {
            return Err(format!("argument {} ({arg:?}): {problem}", n + 1));
        }
    }
    Ok(())
}

fn positive(timeout: &Duration) -> Result<(), String> {
    if timeout.is_zero() { Err("must be longer than 0s".to_string()) } else { Ok(()) }
}

/// What to do about a Nagios macro copied from a command definition that Vitals does not
/// expand (`$HOSTADDRESS$`, `$ARG1$`, `$USER1$`), so that it does not reach the program
/// as it is written.
fn nagios_macro(arg: &str) -> Option<String> {
    let mut rest = arg;
    while let Some(start) = rest.find('$') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('$') else { break };
        let name = &after[..end];
        let advice = match name {
            "HOSTADDRESS" | "HOSTNAME" | "HOSTALIAS" => Some(format!("write {HOST_MACRO}, the host of the target")),
            _ if numbered(name, "ARG") => Some("write the value itself: Vitals has no command definitions".into()),
            _ if numbered(name, "USER") => {
                Some("write the value itself ($USER1$ is usually /usr/lib/nagios/plugins)".into())
            }
            _ => None,
        };
        if let Some(advice) = advice {
            return Some(format!("the Nagios macro ${name}$ is not expanded by Vitals; {advice}"));
        }
        rest = &after[end..];
    }
    None
}

/// Whether `name` is `prefix` followed by a number (`ARG1`, `USER12`).
fn numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The arguments with `$HOST$` and `$PORT$` replaced from a `host:port` (or `[v6]:port`)
/// target; an argument without them is passed as it is. Using them with another target
/// (`system:disk`) is an error saying so.
pub fn expand(args: &[String], target: &str) -> Result<Vec<String>, String> {
    if !args.iter().any(|a| a.contains(HOST_MACRO) || a.contains(PORT_MACRO)) {
        return Ok(args.to_vec());
    }
    let (host, port) = parse_target(target).map_err(|why| {
        format!(
            "args use {HOST_MACRO} or {PORT_MACRO}, which need a host:port target, and {target:?} is not one: {why}"
        )
    })?;
    let port = port.to_string();
    Ok(args.iter().map(|a| a.replace(HOST_MACRO, &host).replace(PORT_MACRO, &port)).collect())
}

/// Targets are parsed as every connecting plugin parses them.
pub use vitals_sdk::tcp::parse_target;

/// How long the program may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The time limit handed to the host.
    pub time: Duration,
    /// Whether the check's remaining time set it (rather than `timeout`).
    pub by_check: bool,
}

/// Least time kept back from the check's remaining time, to build the result after the
/// program was ended.
const MIN_MARGIN: Duration = Duration::from_millis(50);
/// Most time kept back.
const MAX_MARGIN: Duration = Duration::from_secs(1);

/// The program's limit: `timeout` when given and it fits, else what is left of the check
/// (`remaining`) less a tenth of it (at least 50 ms, at most 1 s), so that a program that
/// hangs is ended by this plugin's limit and reported as such, not by the check's deadline.
pub fn limit(timeout: Option<Duration>, remaining: Duration) -> Limit {
    let margin = (remaining / 10).clamp(MIN_MARGIN, MAX_MARGIN);
    let available = remaining.saturating_sub(margin);
    match timeout {
        Some(t) if t <= available => Limit { time: t, by_check: false },
        _ => Limit { time: available, by_check: true },
    }
}

#[cfg(test)]
mod tests {
    use vitals_sdk::PluginConfig;

    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    fn refusal(json: &str) -> String {
        match Config::parse(json) {
            Ok(_) => panic!("{json} was accepted"),
            Err(error) => vitals_sdk::CheckResult::from(error).summary,
        }
    }

    #[test]
    fn defaults_and_a_full_config() {
        assert_eq!(Config::check_defaults(), []);
        let config = match Config::parse(
            r#"{"command": "/usr/lib/nagios/plugins/check_tcp", "args": ["-H", "$HOST$"], "timeout": "2s"}"#,
        ) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(config.command, "/usr/lib/nagios/plugins/check_tcp");
        assert_eq!(config.args, ["-H", "$HOST$"]);
        assert_eq!(config.timeout, Some(Duration::from_secs(2)));
        let minimal = Config::parse(r#"{"command": "/bin/true"}"#).map_err(|e| e.to_string());
        assert!(minimal.is_ok_and(|c| c.args.is_empty() && c.timeout.is_none()));
    }

    #[test]
    fn a_command_is_one_absolute_path() {
        assert!(refusal("{}").starts_with("invalid config: command: "), "{}", refusal("{}"));
        for (command, says) in [
            ("check_disk", "not an absolute path"),
            ("./check_disk", "not an absolute path"),
            ("/usr/lib/nagios/plugins/check_disk -w 10%", "put its arguments in args"),
            ("/usr/lib/nagios/../../bin/sh", "holds `..`"),
            ("/usr/lib/nagios/plugins/", "is a directory"),
            ("/bin/x\u{7}", "control character"),
        ] {
            let summary = refusal(&vitals_sdk::serde_json::json!({ "command": command }).to_string());
            assert!(summary.starts_with("invalid config: command: ") && summary.contains(says), "{summary}");
        }
    }

    #[test]
    fn arguments_within_the_hosts_limits_and_without_nagios_macros() {
        let many = vec!["x".to_string(); MAX_ARGS + 1];
        assert!(arguments(&many).is_err_and(|e| e.contains("at most 64")));
        assert!(arguments(&["x".repeat(MAX_ARG + 1)]).is_err_and(|e| e.contains("at most 4096")));
        assert!(arguments(&strings(&["a\0b"])).is_err_and(|e| e.contains("NUL")));
        let e = arguments(&strings(&["-H", "$HOSTADDRESS$"])).unwrap_err();
        assert!(
            e.starts_with("argument 2 (\"$HOSTADDRESS$\"): the Nagios macro $HOSTADDRESS$") && e.contains("$HOST$"),
            "{e}"
        );
        assert!(arguments(&strings(&["-w", "$ARG1$"])).is_err_and(|e| e.contains("write the value itself")));
        assert!(arguments(&strings(&["$USER1$/x"])).is_err_and(|e| e.contains("/usr/lib/nagios/plugins")));
        // Dollars that are not Nagios macros pass: a regular expression, a price, $HOST$.
        assert_eq!(arguments(&strings(&["-r", "^ok$", "$5", "$HOST$:$PORT$", "$ARG$", "$ARGx$", "$"])), Ok(()));
        assert!(refusal(r#"{"command": "/bin/true", "args": ["$ARG2$"]}"#).starts_with("invalid config: args: "));
        assert!(refusal(r#"{"command": "/bin/true", "timeout": "0s"}"#).starts_with("invalid config: timeout: "));
    }

    #[test]
    fn host_and_port_macros_come_from_the_target() {
        let args = strings(&["-H", "$HOST$", "-p", "$PORT$", "--url=http://$HOST$:$PORT$/"]);
        assert_eq!(
            expand(&args, "db.example:5432"),
            Ok(strings(&["-H", "db.example", "-p", "5432", "--url=http://db.example:5432/"]))
        );
        assert_eq!(expand(&args, "[::1]:22").map(|a| a[1].clone()), Ok("::1".to_string()));
        let plain = strings(&["-w", "10%"]);
        assert_eq!(expand(&plain, "system:disk"), Ok(plain.clone()));
        let e = expand(&args, "system:disk").unwrap_err();
        assert!(e.contains("need a host:port target") && e.contains("\"system:disk\""), "{e}");
    }

    #[test]
    fn the_limit_leaves_a_margin_of_the_checks_time() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert_eq!(limit(None, s(5)), Limit { time: ms(4_500), by_check: true });
        assert_eq!(limit(None, s(60)), Limit { time: s(59), by_check: true });
        assert_eq!(limit(None, ms(200)), Limit { time: ms(150), by_check: true });
        assert_eq!(limit(None, ms(30)), Limit { time: Duration::ZERO, by_check: true });
        assert_eq!(limit(Some(ms(500)), s(5)), Limit { time: ms(500), by_check: false });
        assert_eq!(limit(Some(s(30)), s(5)), Limit { time: ms(4_500), by_check: true });
    }
}
