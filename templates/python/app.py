"""{{name}}: a Vitals check plugin in Python.

GETs the target URL: OK on a 2xx status, CRITICAL otherwise, with the response time as a
metric (and a warning above `warn_time`). Build with ./build.sh; see README.md.
"""

from vitals_check import Checker, Validator, critical, format_ms, http, key, metric, ok, parse_duration_ms, plugin, warning  # noqa: F401


def run(target, config):
    response = http.get(target)
    warn_ms = None if config["warn_time"] is None else parse_duration_ms(config["warn_time"])
    time = metric("time_total", response.time_ms, "ms", warn=None if warn_ms is None else f"{warn_ms:g}", min=0)
    summary = f"HTTP {response.status} in {format_ms(response.time_ms)}"
    if not 200 <= response.status < 300:
        return critical(summary, "http-status", [time])
    if warn_ms is not None and response.time_ms > warn_ms:
        return warning(f"{summary}, slower than {config['warn_time']}", "assertion", [time])
    return ok(summary, [time])


plugin(
    name="{{name}}",
    version="0.1.0",
    summary="GETs the target URL: OK on a 2xx status, CRITICAL otherwise, with the response time.",
    run=run,
    config=[
        key("warn_time", "duration", doc="Warn when the response takes longer, e.g. \"500ms\"."),
    ],
)
