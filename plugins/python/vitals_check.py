"""The Vitals helper layer for Python check plugins (componentize-py, WIT vitals:plugin@0.1.3).

A check is a `run(target, config)` function and a `plugin(...)` declaration; this module
turns them into the `Checker` and `Validator` exports componentize-py needs. The app module
re-exports them:

    from vitals_check import Checker, Validator, plugin, key, ok, critical, metric, http

    def run(target, config):
        response = http.get(target)
        if 200 <= response.status < 300:
            return ok(f"HTTP {response.status} in {response.time_ms:.1f} ms",
                      metrics=[metric("time_total", response.time_ms, "ms", min=0)])
        return critical(f"HTTP {response.status}", "http-status")

    plugin(name="demo", version="0.1.0", summary="GETs the target.", run=run, config=[
        key("warn_time", "duration", doc="Warn when the request is slower."),
    ])

What the layer does for you:
- `config` is the host's JSON parsed into a dict, with the declared defaults filled in;
  `describe` lists the same keys (types, defaults as TOML, docs).
- `validate` checks every value against its declared type (durations and ranges by their
  grammar too), then calls the plugin's own `validate(config)` hook; `run` does the same
  checks first, so a bad config is an `unknown` / `plugin-error` result on any host.
- A host call that fails raises `NetError`; left uncaught, it becomes the result the Rust
  SDK's `net_failure` gives (connect → critical/connect, denied → unknown/denied, ...).
  Any other exception becomes `unknown` / `plugin-error` with its message, and the
  traceback in the details.
- `http` and `tcp` calls default their timeout to what is left of the check's deadline,
  less a 5% reserve (at most 100 ms) so that the plugin reports a slow peer itself.

Only the standard library and the generated bindings (`wit_world`) are used.
"""

import json
import math
import re
import time
import traceback

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.validator import ConfigProblem
from wit_world.imports import http as _http
from wit_world.imports import log as _log
from wit_world.imports import tcp as _tcp
from wit_world.imports import types as _types

__all__ = [
    "Checker", "Validator", "plugin", "key", "ok", "warning", "critical", "unknown", "result",
    "metric", "worst", "Range", "Thresholds", "parse_duration_ms", "format_ms", "one_line",
    "http", "tcp", "log", "NetError", "ConfigError", "deadline",
]

# ---------------------------------------------------------------------------------------
# Results

STATUSES = ("ok", "warning", "critical", "unknown")
_STATUS = {
    "ok": _types.Status.OK, "warning": _types.Status.WARNING,
    "critical": _types.Status.CRITICAL, "unknown": _types.Status.UNKNOWN,
}
_REASON = {
    "dns": _types.Reason.DNS, "connect": _types.Reason.CONNECT, "tls": _types.Reason.TLS,
    "timeout": _types.Reason.TIMEOUT, "http-status": _types.Reason.HTTP_STATUS,
    "assertion": _types.Reason.ASSERTION, "protocol": _types.Reason.PROTOCOL,
    "denied": _types.Reason.DENIED, "plugin-error": _types.Reason.PLUGIN_ERROR,
}


def metric(name, value, unit="", warn=None, crit=None, min=None, max=None):
    """One measured value. `warn`/`crit` are ranges (`"500"`, `"@10:20"`) or `Range`s."""
    return _types.Metric(
        name, float(value), unit,
        None if warn is None else str(warn), None if crit is None else str(crit),
        None if min is None else float(min), None if max is None else float(max),
    )


def result(status, summary, reason=None, metrics=None, details=None):
    """A result with `status` one of ok, warning, critical, unknown (strings, as in WIT)."""
    if status not in _STATUS:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if reason is not None and reason not in _REASON:
        raise ValueError(f"reason {reason!r} is not one of {', '.join(_REASON)}")
    if status == "ok":
        reason = None  # the host drops an ok result's reason anyway
    return _types.CheckResult(
        _STATUS[status], one_line(str(summary), 1000), list(metrics or []), details,
        None if reason is None else _REASON[reason],
    )


def ok(summary, metrics=None, details=None):
    """The service works as expected."""
    return result("ok", summary, None, metrics, details)


def warning(summary, reason="assertion", metrics=None, details=None):
    """It works, but a threshold was crossed or it is degraded."""
    return result("warning", summary, reason, metrics, details)


def critical(summary, reason="assertion", metrics=None, details=None):
    """It does not work, or a critical threshold was crossed."""
    return result("critical", summary, reason, metrics, details)


def unknown(summary, reason="plugin-error", metrics=None, details=None):
    """The check could not tell: bad config, bad target, plugin failure."""
    return result("unknown", summary, reason, metrics, details)


def worst(*statuses):
    """The worst of some statuses (ok < warning < unknown < critical, as Nagios ranks them)."""
    order = {"ok": 0, "warning": 1, "unknown": 2, "critical": 3}
    return max(statuses, key=lambda s: order[s], default="ok")


# ---------------------------------------------------------------------------------------
# Ranges and thresholds (https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT)

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")


class Range:
    """A threshold range: `10` (alert outside 0..10), `10:` (below 10), `~:10` (above 10),
    `10:20` (outside 10..20), `@10:20` (inside 10..20)."""

    def __init__(self, text):
        text = str(text).strip()
        self.text = text
        self.inside = text.startswith("@")
        body = text[1:] if self.inside else text
        if not body:
            raise ValueError(f'empty range "{text}": write e.g. "10", "10:20" or "@~:5"')
        if ":" in body:
            start, end = body.split(":", 1)
            self.start = -math.inf if start == "~" else (0.0 if start == "" else _bound(start, text))
            self.end = math.inf if end == "" else _bound(end, text)
        else:
            self.start, self.end = 0.0, _bound(body, text)
        if self.start > self.end:
            raise ValueError(f'invalid range "{text}": start {self.start:g} is greater than end {self.end:g}')

    def alerts(self, value):
        """Whether `value` crosses this threshold."""
        return (self.start <= value <= self.end) == self.inside

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"Range({self.text!r})"


def _bound(s, whole):
    if not _NUMBER.match(s):
        raise ValueError(f'invalid range "{whole}": "{s}" is not a number')
    return float(s)


class Thresholds:
    """A warning and a critical range (either may be None): `evaluate(value)` says
    "critical", "warning" or "ok"."""

    def __init__(self, warn=None, crit=None):
        self.warn = warn if warn is None or isinstance(warn, Range) else Range(warn)
        self.crit = crit if crit is None or isinstance(crit, Range) else Range(crit)

    def evaluate(self, value):
        if self.crit is not None and self.crit.alerts(value):
            return "critical"
        if self.warn is not None and self.warn.alerts(value):
            return "warning"
        return "ok"

    def metric(self, name, value, unit="", min=None, max=None):
        """A metric carrying these thresholds, for the perfdata."""
        return metric(name, value, unit, self.warn, self.crit, min, max)


# ---------------------------------------------------------------------------------------
# Durations and text

_DURATION_UNITS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4,
                   "min": 6e4, "h": 3.6e6, "d": 8.64e7}
_DURATION_PART = re.compile(r"\s*(\d+\.?\d*|\.\d+)\s*(ns|us|µs|ms|min|s|m|h|d)\s*")


def parse_duration_ms(text):
    """`"250ms"`, `"1.5s"`, `"1h30m"`, `"2m 30s"` -> milliseconds (float)."""
    s, pos, total = str(text).strip(), 0, 0.0
    if not s:
        raise ValueError('empty duration: write a number and a unit, e.g. "250ms" or "2s"')
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m or m.end() == pos:
            raise ValueError(f'invalid duration "{s}": write a number and a unit (ns, us, ms, s, m, h or d), e.g. "250ms"')
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    return total


def format_ms(ms):
    """Milliseconds for a summary, as Vitals prints durations: `24 µs`, `3.2 ms`, `1.2 s`."""
    ms = ms if ms > 0 and math.isfinite(ms) else 0.0
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.1f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms / 60_000:.1f} m"


def one_line(text, max_chars=80):
    """`text` on one line (control characters become spaces, runs of spaces collapse),
    cut to `max_chars` with a trailing `…`: for peer-supplied text in a summary."""
    text = re.sub(r"\s+", " ", "".join(" " if not c.isprintable() else c for c in str(text))).strip()
    return text if len(text) <= max_chars else text[:max_chars].rstrip() + "…"


# ---------------------------------------------------------------------------------------
# The deadline of the run in progress

class _Deadline:
    def __init__(self):
        self.start, self.budget_ms = time.monotonic(), 10_000.0

    def reset(self, deadline_ms):
        reserve = min(deadline_ms // 20, 100)
        self.start, self.budget_ms = time.monotonic(), float(deadline_ms - reserve)

    def elapsed_ms(self):
        return (time.monotonic() - self.start) * 1000

    def remaining_ms(self):
        """Milliseconds left for host calls, the reserve kept back (at least 1)."""
        return max(1, int(self.budget_ms - self.elapsed_ms()))


deadline = _Deadline()
"""`deadline.remaining_ms()`: what is left of the current run's time, less a reserve."""


# ---------------------------------------------------------------------------------------
# Host calls

class NetError(Exception):
    """A host call failed. `kind` is the WIT net-error case (denied dns connect tls timeout
    protocol invalid), `message` the host's text, `context` what was being done."""

    _MAPPING = {  # kind -> (status, reason), as the Rust SDK's net_failure
        "denied": ("unknown", "denied"), "invalid": ("unknown", "plugin-error"),
        "dns": ("critical", "dns"), "connect": ("critical", "connect"), "tls": ("critical", "tls"),
        "timeout": ("critical", "timeout"), "protocol": ("critical", "protocol"),
    }

    def __init__(self, kind, message, context=""):
        super().__init__(f"{context} failed: {message}" if context else message)
        self.kind, self.message, self.context = kind, message, context

    def result(self, metrics=None):
        """The result this failure means."""
        status, reason = self._MAPPING.get(self.kind, ("unknown", "plugin-error"))
        return result(status, str(self), reason, metrics)


def _net_error(err, context):
    kind = type(err).__name__.removeprefix("NetError_").lower()
    return NetError(kind, getattr(err, "value", str(err)), context)


def _timings_ms(t):
    ms = lambda us: None if us is None else us / 1000.0  # noqa: E731
    return {"dns": ms(t.dns_us), "connect": ms(t.connect_us), "tls": ms(t.tls_us),
            "first_byte": ms(t.first_byte_us), "total": t.total_us / 1000.0}


class Response:
    """An HTTP response: `status`, `headers` (dict, lower-case names, repeated headers
    joined with ", "), `body` (bytes), `text()`, `json()`, `time_ms` and `timings`
    (dns, connect, tls, first_byte, total in ms; None for a phase that did not happen)."""

    def __init__(self, raw):
        self.status = raw.status
        self.headers = {}
        for name, value in raw.headers:
            self.headers[name] = f"{self.headers[name]}, {value}" if name in self.headers else value
        self.body = bytes(raw.body)
        self.body_size = raw.body_size
        self.truncated = raw.truncated
        self.final_url = raw.final_url
        self.redirects = raw.redirects
        self.remote_addr = raw.remote_addr
        self.timings = _timings_ms(raw.timings)
        self.time_ms = self.timings["total"]

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body parsed as JSON; raises `ValueError` with a short reason when it is not."""
        if self.truncated:
            raise ValueError(f"body is larger than max_body ({len(self.body)} of {self.body_size} bytes kept)")
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise ValueError(f"body is not JSON: {e}") from None

    def __repr__(self):
        return f"<Response {self.status} {self.final_url} {self.time_ms:.1f} ms>"


class _Http:
    """`http.get(url, ...)`, `http.request(method, url, ...)`: the host's HTTP/1.1 client."""

    def request(self, method, url, headers=None, body=None, timeout_ms=None, max_body=64 * 1024,
                max_redirects=0, tls_verify=True):
        if isinstance(body, str):
            body = body.encode()
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        req = _http.Request(method.upper(), url, pairs, body,
                            deadline.remaining_ms() if timeout_ms is None else int(timeout_ms),
                            int(max_redirects), bool(tls_verify), int(max_body))
        try:
            return Response(_http.send(req))
        except Err as e:
            raise _net_error(e.value, f"{method.upper()} {url}") from None

    def get(self, url, headers=None, timeout_ms=None, max_body=64 * 1024, max_redirects=0, tls_verify=True):
        return self.request("GET", url, headers, None, timeout_ms, max_body, max_redirects, tls_verify)


class Connection:
    """An open TCP connection: `send`, `receive`, `receive_until`, `upgrade_tls`; `connect_ms`
    and `remote_addr`. Use it in a `with` block, or call `close()`."""

    def __init__(self, raw, timings, where):
        self._raw, self.where = raw, where
        self.timings = _timings_ms(timings)
        self.connect_ms = self.timings["total"]
        self.remote_addr = raw.remote_addr()

    def _call(self, what, f, *args):
        try:
            return f(*args)
        except Err as e:
            raise _net_error(e.value, f"{what} {self.where}") from None

    def send(self, data, timeout_ms=None):
        data = data.encode() if isinstance(data, str) else bytes(data)
        self._call("send to", self._raw.send, data, timeout_ms or deadline.remaining_ms())

    def receive(self, max_bytes=4096, timeout_ms=None):
        """What arrived (at most `max_bytes`); b"" when the peer closed the connection."""
        return self._call("receive from", self._raw.receive, int(max_bytes), timeout_ms or deadline.remaining_ms())

    def receive_until(self, marker, max_bytes=4096, timeout_ms=None):
        """Reads until `marker` (bytes or str) arrived, the peer closed, or `max_bytes` were read."""
        marker = marker.encode() if isinstance(marker, str) else marker
        got = b""
        while marker not in got and len(got) < max_bytes:
            chunk = self.receive(max_bytes - len(got), timeout_ms)
            if not chunk:
                break
            got += chunk
        return got

    def upgrade_tls(self, server_name=None, verify=True, timeout_ms=None):
        """TLS on this connection; returns the handshake time in ms."""
        us = self._call("TLS handshake with", self._raw.upgrade_tls, server_name, verify,
                        timeout_ms or deadline.remaining_ms())
        return us / 1000.0

    def close(self):
        self._raw.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _Tcp:
    """`tcp.connect(host, port, timeout_ms=None)` -> `Connection`."""

    def connect(self, host, port, timeout_ms=None):
        where = f"{host}:{port}"
        try:
            raw, timings = _tcp.connect(host, int(port), timeout_ms or deadline.remaining_ms())
        except Err as e:
            raise _net_error(e.value, f"connect to {where}") from None
        return Connection(raw, timings, where)


class _Log:
    """`log.debug/info/warn/error(message)`: lines in the host's log under the check's name."""

    def debug(self, message):
        _log.write(_log.Level.DEBUG, str(message))

    def info(self, message):
        _log.write(_log.Level.INFO, str(message))

    def warn(self, message):
        _log.write(_log.Level.WARN, str(message))

    def error(self, message):
        _log.write(_log.Level.ERROR, str(message))


http, tcp, log = _Http(), _Tcp(), _Log()


# ---------------------------------------------------------------------------------------
# The config schema

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check_duration(v):
    if not isinstance(v, str):
        return "must be a duration string such as \"250ms\" or \"2s\""
    try:
        parse_duration_ms(v)
    except ValueError as e:
        return str(e)


def _check_range(v):
    if not isinstance(v, str):
        return "must be a range string such as \"10\", \"10:20\" or \"@~:5\""
    try:
        Range(v)
    except ValueError as e:
        return str(e)


# type -> (WIT config-type, check(value) -> None or a message)
_TYPES = {
    "string": (_types.ConfigType.STRING, lambda v: None if isinstance(v, str) else "must be a string"),
    "integer": (_types.ConfigType.INTEGER, lambda v: None if _is_int(v) else "must be an integer"),
    "float": (_types.ConfigType.FLOAT,
              lambda v: None if _is_int(v) or isinstance(v, float) else "must be a number"),
    "boolean": (_types.ConfigType.BOOLEAN, lambda v: None if isinstance(v, bool) else "must be true or false"),
    "duration": (_types.ConfigType.DURATION, _check_duration),
    "range": (_types.ConfigType.RANGE, _check_range),
    "string-list": (_types.ConfigType.STRING_LIST,
                    lambda v: None if isinstance(v, list) and all(isinstance(x, str) for x in v)
                    else "must be a list of strings"),
    "integer-list": (_types.ConfigType.INTEGER_LIST,
                     lambda v: None if isinstance(v, list) and all(_is_int(x) for x in v)
                     else "must be a list of integers"),
    "string-map": (_types.ConfigType.STRING_MAP,
                   lambda v: None if isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
                   else "must be a table of strings"),
}


def _toml(value):
    """A Python default written as TOML, as `describe` reports defaults."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


class Key:
    """One `[check.config]` key; see `key()`."""

    def __init__(self, name, type, default=None, required=False, doc=""):
        if type not in _TYPES:
            raise ValueError(f"key {name!r}: type {type!r} is not one of {', '.join(_TYPES)}")
        self.name, self.type, self.default, self.required, self.doc = name, type, default, required, doc
        if default is not None and _TYPES[type][1](default):
            raise ValueError(f"key {name!r}: default {default!r} {_TYPES[type][1](default)}")

    def describe(self):
        return _types.ConfigKey(self.name, _TYPES[self.type][0],
                                None if self.default is None else _toml(self.default),
                                bool(self.required), self.doc)


def key(name, type, default=None, required=False, doc=""):
    """A config key: `type` is one of string, integer, float, boolean, duration, range,
    string-list, integer-list, string-map; `default` a Python value of that type."""
    return Key(name, type, default, required, doc)


class ConfigError(Exception):
    """Raise it from `run` (or the `validate` hook's helpers) for a bad config value:
    `ConfigError("path", "must not be empty")` becomes unknown / plugin-error."""

    def __init__(self, key, message):
        super().__init__(f"`{key}` {message}" if key else message)
        self.key, self.message = key, message


# ---------------------------------------------------------------------------------------
# The plugin declaration and the exports

class _Plugin:
    name, version, summary, keys, run, validate = "unnamed", "0.0.0", "", [], None, None


_plugin = _Plugin()


def plugin(name, version, summary, run, config=(), validate=None):
    """Declares the plugin: its name and version, one paragraph of `summary`, the `run(target,
    config)` function, the `config` keys, and an optional `validate(config)` hook that returns
    a list of problems, each `(key, message)` (key None for the table as a whole) or a string."""
    _plugin.name, _plugin.version, _plugin.summary = name, version, summary
    _plugin.run, _plugin.validate = run, validate
    _plugin.keys = list(config)


def _problems(config):
    """(config with defaults, [(key or None, message)]) for a JSON text of `[check.config]`."""
    try:
        raw = json.loads(config or "{}")
    except ValueError as e:
        return {}, [(None, f"config is not JSON: {e}")]
    if not isinstance(raw, dict):
        return {}, [(None, "config is not a table")]
    problems, known = [], {k.name for k in _plugin.keys}
    for name in raw:
        if name not in known:
            problems.append((name, f"unknown key `{name}`; known keys: {', '.join(sorted(known)) or 'none'}"))
    values = dict(raw)
    for k in _plugin.keys:
        if k.name not in raw or raw[k.name] is None:
            if k.required:
                problems.append((None, f"`{k.name}` is required: {k.doc}" if k.doc else f"`{k.name}` is required"))
            elif k.default is not None:
                values[k.name] = k.default
            else:
                values[k.name] = None
            continue
        message = _TYPES[k.type][1](raw[k.name])
        if message:
            # "must be ..." reads on from the key's name; a grammar error is a sentence of its own.
            sep = " " if message.startswith("must") else ": "
            problems.append((k.name, f"`{k.name}`{sep}{message}"))
    if problems or _plugin.validate is None:
        return values, problems
    try:
        for p in _plugin.validate(values) or []:
            if isinstance(p, str):
                problems.append((None, p))
            else:
                problems.append((p[0], str(p[1])))
    except ConfigError as e:
        problems.append((e.key, str(e)))
    except Exception as e:  # noqa: BLE001 - a broken hook is reported, not raised
        problems.append((None, f"the plugin's validate hook failed: {type(e).__name__}: {e}"))
    return values, problems


class Checker(exports.Checker):
    """The `checker` export: `describe` from the `plugin(...)` declaration, `run` calls it."""

    def describe(self):
        return _types.Description(_plugin.name, _plugin.version, _plugin.summary,
                                  [k.describe() for k in _plugin.keys])

    def run(self, request):
        deadline.reset(request.deadline_ms)
        try:
            config, problems = _problems(request.config)
            if problems:
                return unknown("bad config: " + "; ".join(m for _, m in problems))
            outcome = _plugin.run(request.target, config)
            if not isinstance(outcome, _types.CheckResult):
                return unknown(f"run() returned {type(outcome).__name__}, not a result (use ok(), critical(), ...)")
            return outcome
        except NetError as e:
            return e.result()
        except ConfigError as e:
            return unknown(f"bad config: {e}")
        except Exception as e:  # noqa: BLE001 - every failure becomes a result
            return unknown(f"plugin error: {type(e).__name__}: {one_line(e, 300)}",
                           details=traceback.format_exc()[-8000:])


class Validator(exports.Validator):
    """The `validator` export: declared types, then the plugin's own `validate` hook."""

    def validate(self, config):
        _, problems = _problems(config)
        return [ConfigProblem(k, one_line(m, 500)) for k, m in problems]
