//! The `exec` host import as plain Rust: one program the check names by its exact path in
//! `allow = ["exec:PATH"]`, run outside the sandbox, never through a shell, with an empty
//! environment (but a fixed `PATH` and `LC_ALL=C`), no input, in its own process group
//! (killed whole at the time limit), and its output capped.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use crate::plan::grants::Grants;
use crate::runtime::imports::net::{NetError, human_duration};

/// Most bytes of stdout kept.
pub const MAX_STDOUT: usize = 64 * 1024;
/// Most bytes of stderr kept.
pub const MAX_STDERR: usize = 16 * 1024;
/// Most arguments one run may pass.
pub const MAX_ARGS: usize = 64;
/// Longest argument, in bytes.
pub const MAX_ARG: usize = 4096;
/// The only environment the program gets.
const ENVIRONMENT: [(&str, &str); 2] = [("PATH", "/usr/bin:/bin"), ("LC_ALL", "C")];

/// How the program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// Exit code; none when a signal ended it.
    pub code: Option<i32>,
    /// Whether the host ended it at the time limit.
    pub timed_out: bool,
    /// Its stdout, capped.
    pub stdout: Vec<u8>,
    /// Its stderr, capped.
    pub stderr: Vec<u8>,
    /// Whether either was cut.
    pub truncated: bool,
    /// How long it ran.
    pub time: Duration,
}

/// Runs `program` with `args` for at most `limit` (and not past `deadline`).
pub async fn run(
    grants: &Grants,
    program: &str,
    args: &[String],
    limit: Duration,
    deadline: Instant,
) -> Result<Exit, NetError> {
    if !grants.allows_exec(program) {
        return Err(NetError::Denied(format!(
            "running {program:?} is not granted to this check; add \"exec:{program}\" (its exact absolute path) to \
             the check's allow list"
        )));
    }
    if args.len() > MAX_ARGS || args.iter().any(|a| a.len() > MAX_ARG || a.contains('\0')) {
        return Err(NetError::Invalid(format!(
            "at most {MAX_ARGS} arguments of at most {MAX_ARG} bytes each, without NUL bytes"
        )));
    }
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(ENVIRONMENT)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own process group, so that the time limit ends what it started too.
        .process_group(0);
    let start = Instant::now();
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => NetError::Invalid(format!("{program} does not exist")),
        std::io::ErrorKind::PermissionDenied => NetError::Invalid(format!("{program} is not executable by Vitals")),
        _ => NetError::Invalid(format!("cannot run {program}: {e}")),
    })?;
    let pid = child.id();
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(NetError::Invalid(format!("cannot read the output of {program}")));
    };
    let end = (start + limit).min(deadline);
    // Whatever happens from here (an exit, the time limit, the run being dropped at its
    // deadline), the program's process group ends with it: nothing it started in the
    // background outlives the call.
    let _group = Group(pid);
    let out = tokio::spawn(capped(stdout, MAX_STDOUT));
    let err = tokio::spawn(capped(stderr, MAX_STDERR));
    let status = match tokio::time::timeout_at(end, child.wait()).await {
        Ok(status) => status.map_err(|e| NetError::Invalid(format!("cannot wait for {program}: {e}")))?,
        Err(_) => {
            kill_group(pid);
            let _ = child.kill().await;
            out.abort();
            err.abort();
            tracing::debug!(program, "ended at its time limit of {}", human_duration(limit));
            return Ok(Exit {
                code: None,
                timed_out: true,
                stdout: Vec::new(),
                stderr: Vec::new(),
                truncated: false,
                time: start.elapsed(),
            });
        }
    };
    let time = start.elapsed();
    // The program has exited; a child it left holding the pipes is ended now, so that
    // the rest of its output is read to the end at once.
    kill_group(pid);
    let rest = (Instant::now() + OUTPUT_GRACE).min(end.max(Instant::now() + OUTPUT_GRACE));
    let read = |task: tokio::task::JoinHandle<(Vec<u8>, bool)>| async move {
        match tokio::time::timeout_at(rest, task).await {
            Ok(Ok(read)) => read,
            _ => (Vec::new(), true),
        }
    };
    let ((stdout, out_cut), (stderr, err_cut)) = tokio::join!(read(out), read(err));
    Ok(Exit { code: status.code(), timed_out: false, stdout, stderr, truncated: out_cut || err_cut, time })
}

/// How long the rest of a program's output may take to be read once it has exited.
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

/// The process group of a program run by [`run`], killed when this is dropped.
struct Group(Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// Reads `stream` to its end, keeping at most `cap` bytes (the rest is read and dropped,
/// so that the program never blocks on a full pipe); says whether it cut.
async fn capped(mut stream: impl AsyncRead + Unpin, cap: usize) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut cut = false;
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, cut),
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
}

/// Sends SIGKILL to the program's process group.
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(allow: &[&str]) -> Grants {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        Grants::for_check("system:exec", &allow).expect("grants")
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[tokio::test]
    async fn a_granted_program_runs_with_a_clean_environment_and_its_exit_code() {
        let g = grants(&["exec:/usr/bin/env"]);
        let exit = run(&g, "/usr/bin/env", &[], Duration::from_secs(5), soon()).await.expect("runs");
        assert_eq!(exit.code, Some(0));
        let env = String::from_utf8_lossy(&exit.stdout);
        let mut lines: Vec<&str> = env.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["LC_ALL=C", "PATH=/usr/bin:/bin"]);
        let g = grants(&["exec:/bin/sh"]);
        let args = ["-c".to_string(), "echo out; echo err >&2; exit 3".to_string()];
        let exit = run(&g, "/bin/sh", &args, Duration::from_secs(5), soon()).await.expect("runs");
        assert_eq!(
            (exit.code, exit.stdout.as_slice(), exit.stderr.as_slice()),
            (Some(3), &b"out\n"[..], &b"err\n"[..])
        );
    }

    #[tokio::test]
    async fn what_a_program_leaves_running_ends_with_it_and_its_output_is_kept() {
        let g = grants(&["exec:/bin/sh"]);
        // A background child that would outlive the program, holding its stdout; its
        // argument (seconds to sleep) marks it in /proc.
        let seconds = format!("77.{}", std::process::id());
        let marker = format!("sleep\0{seconds}");
        let args = ["-c".to_string(), format!("sleep {seconds} & echo started; exit 2")];
        let running = || {
            std::fs::read_dir("/proc")
                .expect("proc")
                .flatten()
                .filter(|e| {
                    std::fs::read(e.path().join("cmdline"))
                        .is_ok_and(|c| c.windows(marker.len()).any(|w| w == marker.as_bytes()))
                })
                .count()
        };
        let exit = run(&g, "/bin/sh", &args, Duration::from_secs(5), soon()).await.expect("runs");
        assert_eq!(
            (exit.code, exit.timed_out, exit.stdout.as_slice()),
            (Some(2), false, &b"started\n"[..]),
            "{exit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let left = running();
        assert_eq!(left, 0, "the background child outlived the program");
    }

    #[tokio::test]
    async fn only_the_exact_path_granted_runs() {
        let g = grants(&["exec:/usr/bin/env"]);
        for program in ["/bin/sh", "env", "/usr/bin/../bin/env"] {
            let err = run(&g, program, &[], Duration::from_secs(5), soon()).await.unwrap_err();
            assert!(matches!(err, NetError::Denied(ref m) if m.contains("not granted")), "{program}: {err:?}");
        }
    }

    #[tokio::test]
    async fn a_program_past_its_limit_is_ended_with_its_children_and_a_flood_is_capped() {
        let g = grants(&["exec:/bin/sh"]);
        let args = ["-c".to_string(), "sleep 30 & sleep 30".to_string()];
        let exit = run(&g, "/bin/sh", &args, Duration::from_millis(200), soon()).await.expect("runs");
        assert!(exit.timed_out && exit.code.is_none(), "{exit:?}");
        let args = ["-c".to_string(), "head -c 1000000 /dev/zero".to_string()];
        let exit = run(&g, "/bin/sh", &args, Duration::from_secs(5), soon()).await.expect("runs");
        assert_eq!((exit.code, exit.stdout.len(), exit.truncated), (Some(0), MAX_STDOUT, true));
    }
}
