//! `vitals report --format html` end to end: stored results of real runs against servers
//! on 127.0.0.1 become one self-contained page, which Debian's headless Chromium then
//! renders to a screenshot without a single console message.
//!
//! Needs `/usr/bin/chromium` (`apt-get install -y chromium`; `.ci/run` installs it). The
//! test fails, rather than skips, without it: a silent skip would let the page break
//! unnoticed.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use support::{Sandbox, servers, toml_str};

const CHROMIUM: &str = "/usr/bin/chromium";
/// A check name full of markup: it must reach the page as text, never as elements.
const HOSTILE: &str = "<img src=x onerror=alert(1)> & \"api\" </title><script>alert(2)</script>";
/// The window size of the screenshot, as a person on a laptop would see the page.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 2000;

#[test]
fn html_report_is_self_contained_escaped_and_renders_in_chromium_without_console_errors() {
    let html = html_report_of_real_runs();
    assert_self_contained(&html);
    assert!(html.contains("web-ok") && html.contains("web-down") && html.contains("flaky"), "check names");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;api&quot; &lt;/title&gt;"), "escaped name");
    assert!(!html.contains("<img") && !html.contains("<script"), "markup in a check name became elements");
    // Per check: daily bars, a latency chart and an incident timeline.
    assert_eq!(html.matches("<svg").count(), 4 * 3, "three charts for each of four checks");
    assert_eq!(html.matches("class=\"chart bars\"").count(), 4);
    assert_eq!(html.matches("class=\"chart latency\"").count(), 4);
    assert_eq!(html.matches("class=\"chart incidents\"").count(), 4);
    assert!(html.contains("class=\"st-bad\""), "the failing check has a red day or incident");
    assert!(html.contains("ongoing"), "web-down is still down");

    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).expect("write the page");
    let png = dir.path().join("report.png");
    let console = screenshot(&page, &png);
    assert!(console.is_empty(), "the page logged to the console:\n{}", console.join("\n"));
    assert_png(&png);
    keep_for_people(&png);
}

/// Runs four checks a few times (always up, always down, down then up again, and one
/// with a hostile name) and returns `report --format html` of the last hour.
fn html_report_of_real_runs() -> String {
    let web = servers::http();
    let (flaky, up) = servers::switchable();
    let check = |name: &str, url: String| {
        format!("[[check]]\nname = {}\nplugin = \"http\"\ntarget = \"{url}\"\nretries = 0\n", toml_str(name))
    };
    let config = [
        check("web-ok", format!("http://{web}/ok")),
        check("web-down", format!("http://{web}/fail")) + "slo = \"99.9%\"\n",
        check("flaky", format!("http://{flaky}/")),
        check(HOSTILE, format!("http://{web}/ok")),
    ]
    .join("\n");
    let sandbox = Sandbox::new(&config);
    for state in [true, false, false, true] {
        up.store(state, Ordering::SeqCst);
        sandbox.run_json(&[]);
    }
    let out_file = sandbox.dir.path().join("report.html");
    let out_path = out_file.to_str().expect("a UTF-8 temp path");
    let out = sandbox.vitals(&["report", "--since", "1h", "--format", "html", "--output", out_path]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(&out_file).expect("the report file")
}

/// Nothing on the page comes from elsewhere: no script at all, no remote reference.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(lower.starts_with("<!doctype html>"), "{}", &html[..html.len().min(200)]);
    // Tags and CSS that load things; the escaped hostile name is text (`&lt;img src=x`).
    for banned in
        ["<script", "<img", "<link", "<iframe", "<object", "<embed", "@import", "url(", "href=\"http", "href=\"//"]
    {
        assert!(!lower.contains(banned), "the page contains `{banned}`");
    }
    assert!(!lower.contains("http://") && !lower.contains("https://"), "the page names a remote address");
    assert!(lower.contains("content-security-policy"), "the page forbids every load itself");
}

/// Screenshots `page` into `png` with headless Chromium and returns the console messages
/// the page produced.
///
/// How console errors are detected: with `--enable-logging=stderr --v=0` Chromium writes
/// every message a page sends to its console (console.error, uncaught exceptions, a
/// resource that failed to load, a load the Content-Security-Policy blocked) to stderr as
/// `[pid:tid:time:INFO:CONSOLE:line] "message", source: URL (line)`. The report has no
/// script and forbids every load, so any such line is a defect. Chromium's own noise on
/// stderr (D-Bus, GPU) has no `:CONSOLE` tag and is ignored. To prove the detector is not
/// blind (the log format could change between Chromium versions), a canary page that
/// calls console.error is rendered first and must be caught.
fn screenshot(page: &Path, png: &Path) -> Vec<String> {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: this test renders the HTML report in headless Chromium. Install it with \
         `apt-get install -y chromium` (.ci/run does that)"
    );
    let dir = page.parent().expect("the page is in a directory");
    let canary = dir.join("canary.html");
    std::fs::write(&canary, "<!DOCTYPE html><title>canary</title><script>console.error('vitals-canary')</script>")
        .expect("write the canary page");
    let canary_log = console_lines(&chromium(&canary, &dir.join("canary.png")));
    assert!(
        canary_log.iter().any(|l| l.contains("vitals-canary")),
        "the console detector missed the canary's console.error; Chromium's log format changed? {canary_log:?}"
    );
    console_lines(&chromium(page, png))
}

/// The lines of Chromium's stderr that carry a page's console messages.
fn console_lines(stderr: &str) -> Vec<String> {
    stderr.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).map(str::to_string).collect()
}

/// Runs headless Chromium on `page` (with its own throwaway profile) and returns its stderr.
fn chromium(page: &Path, png: &Path) -> String {
    let profile = tempfile::tempdir().expect("a profile dir");
    let mut cmd = Command::new(CHROMIUM);
    cmd.arg("--headless")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .args(["--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--no-first-run", "--disable-gpu"])
        // The page is a local file; keep the profile from reaching out for anything else.
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"]);
    if running_as_root() {
        // Chromium refuses to start its sandbox as root; CI runs as root.
        cmd.arg("--no-sandbox");
    }
    cmd.arg(file_url(page)).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
    let output = wait_with_deadline(child, Duration::from_secs(90));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "chromium failed ({}):\n{stderr}", output.status);
    stderr
}

/// Waits for `child`, killing it after `limit` so a hung browser fails the test instead of
/// hanging it.
fn wait_with_deadline(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let stderr = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut { stderr }, &mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::process::Output { status, stdout: Vec::new(), stderr: reader.join().expect("stderr reader") }
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A real PNG of the window's size with more in it than a blank page compresses to.
fn assert_png(png: &Path) {
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    assert_eq!((be32(16), be32(20)), (WIDTH, HEIGHT), "IHDR width and height");
    // A blank 1280×2000 page compresses to a few KiB; text, tables and charts to far more.
    assert!(bytes.len() > 40_000, "the screenshot is almost empty: {} bytes", bytes.len());
}

/// Copies the screenshot to target/html-report.png for a person to look at.
fn keep_for_people(png: &Path) {
    let keep: PathBuf = support::target_dir().join("html-report.png");
    let _ = std::fs::copy(png, keep);
}
