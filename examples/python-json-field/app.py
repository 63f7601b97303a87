"""json-field: GET a JSON API and check one field of the answer.

The field is found by a dotted path (`data.status`, `items.0.state`). A string field is
compared with `equals`, `one_of` or the regex `matches`; a numeric one against the
`warn`/`crit` ranges. The response time is a metric, with `warn_time`/`crit_time`.
Built with ./build.sh (componentize-py); see README.md.
"""

import re

from vitals_check import (Checker, Validator, Thresholds, critical, format_ms, http, key,  # noqa: F401
                          metric, one_line, parse_duration_ms, plugin, result, worst)

MISSING = object()


def parse_path(path):
    """`data.items.0.state` -> ["data", "items", 0, "state"]; None when a part is empty."""
    parts = path.split(".")
    if not path or any(p == "" for p in parts):
        return None
    return [int(p) if p.isdigit() else p for p in parts]


def follow(document, parts):
    """The value at `parts`, or (MISSING, where it stopped)."""
    value = document
    for depth, part in enumerate(parts):
        if isinstance(part, int) and isinstance(value, list) and part < len(value):
            value = value[part]
        elif isinstance(value, dict) and str(part) in value:
            value = value[str(part)]
        else:
            return MISSING, ".".join(str(p) for p in parts[:depth]) or "the document"
    return value, None


def shown(value):
    """A JSON value as a summary shows it: strings quoted, the rest as JSON would write it."""
    if isinstance(value, str):
        return f'"{one_line(value, 60)}"'
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return one_line(str(value), 60)


def as_text(value):
    """What `equals`/`one_of`/`matches` compare: a string as is, anything else as JSON writes it."""
    return value if isinstance(value, str) else shown(value)


def run(target, config):
    path = config["path"]
    response = http.get(target, headers={"accept": "application/json", **config["headers"]},
                        max_body=config["max_body"])
    time_check = Thresholds(
        None if config["warn_time"] is None else f"{parse_duration_ms(config['warn_time']):g}",
        None if config["crit_time"] is None else f"{parse_duration_ms(config['crit_time']):g}")
    metrics = [time_check.metric("time_total", response.time_ms, "ms", min=0)]
    took = f"HTTP {response.status} in {format_ms(response.time_ms)}"
    if not 200 <= response.status < 300:
        return critical(f"HTTP {response.status} from {target}", "http-status", metrics)
    try:
        document = response.json()
    except ValueError as e:
        return critical(f"{e} ({took})", "protocol", metrics)

    value, stopped = follow(document, parse_path(path))
    if value is MISSING:
        return critical(f"{path} is missing: no such key in {stopped} ({took})", "assertion", metrics)

    problems, status = [], "ok"
    text = as_text(value)
    if config["equals"] is not None and text != config["equals"]:
        problems.append(f'expected "{config["equals"]}"')
    if config["one_of"] is not None and text not in config["one_of"]:
        problems.append("expected one of " + ", ".join(f'"{v}"' for v in config["one_of"]))
    if config["matches"] is not None and not re.search(config["matches"], text):
        problems.append(f"expected to match /{config['matches']}/")
    if problems:
        status = "critical"

    values = Thresholds(config["warn"], config["crit"])
    if config["warn"] is not None or config["crit"] is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append("expected a number for warn/crit")
            status = "critical"
        else:
            field_status = values.evaluate(value)
            metrics.append(values.metric("value", value))
            if field_status != "ok":
                limit = values.crit if field_status == "critical" else values.warn
                problems.append(f"{'inside' if limit.inside else 'outside'} the {field_status} range {limit}")
                status = worst(status, field_status)

    time_status = time_check.evaluate(response.time_ms)
    if time_status != "ok":
        limit = time_check.crit if time_status == "critical" else time_check.warn
        problems.append(f"response slower than {limit} ms")
    status = worst(status, time_status)

    summary = f"{path} is {shown(value)}"
    if problems:
        summary += ", " + "; ".join(problems)
    return result(status, f"{summary} ({took})", None if status == "ok" else "assertion", metrics)


def validate(config):
    """What the types alone cannot say: the path parses, the regex compiles, the
    string tests are not contradictory."""
    problems = []
    if parse_path(config["path"]) is None:
        problems.append(("path", f'`path` "{config["path"]}" has an empty part: write it as '
                                 "dot-separated keys, e.g. \"data.status\" or \"items.0.state\""))
    if config["matches"] is not None:
        try:
            re.compile(config["matches"])
        except re.error as e:
            problems.append(("matches", f"`matches` is not a valid regular expression: {e}"))
    if config["equals"] is not None and config["one_of"] is not None:
        problems.append((None, "give `equals` or `one_of`, not both"))
    if config["one_of"] == []:
        problems.append(("one_of", "`one_of` is empty: list at least one accepted value"))
    if config["max_body"] <= 0:
        problems.append(("max_body", "`max_body` must be at least 1"))
    return problems


plugin(
    name="json-field",
    version="0.1.0",
    summary="GETs the target URL, parses the body as JSON, follows a dotted `path` to one "
            "field and checks it: a string with `equals`, `one_of` or `matches`, a number "
            "against the `warn`/`crit` ranges. Reports the response time.",
    run=run,
    validate=validate,
    config=[
        key("path", "string", required=True, doc="Dotted path to the field, e.g. \"data.status\" or \"items.0.state\"."),
        key("equals", "string", doc="The field (as text) must equal this."),
        key("one_of", "string-list", doc="The field (as text) must be one of these."),
        key("matches", "string", doc="The field (as text) must match this regular expression."),
        key("warn", "range", doc="Warn when the numeric field is outside this range (e.g. \"~:100\")."),
        key("crit", "range", doc="Critical when the numeric field is outside this range."),
        key("warn_time", "duration", doc="Warn when the response takes longer."),
        key("crit_time", "duration", doc="Critical when the response takes longer."),
        key("headers", "string-map", default={}, doc="Extra request headers."),
        key("max_body", "integer", default=65536, doc="Largest body to read, in bytes."),
    ],
)
