"""Helpers shared by the plugins' case generators (plugins/*/make_cases.py): the
host-answer steps of a replayed TCP conversation, and cases.toml written from them in the
format of vitals-cases (cases/src/model.rs). Binary steps become base64, printable ones
stay readable, and every step carries a comment saying what it is."""

import base64
import os


def S(data, note):
    """A step the plugin sends."""
    return ("send", data, note)


def R(data, note):
    """A step the peer sends."""
    return ("receive", data, note)


def TLS(took):
    """A TLS upgrade that takes `took` ("2ms")."""
    return ("tls", took, "TLS handshake")


def E(kind, message):
    """A host call that fails with a net-error of `kind`."""
    return ("error", (kind, message), f"{kind} error")


def toml_str(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_step(step):
    kind, data, note = step
    if kind == "send":
        body = f"send_base64 = {toml_str(base64.b64encode(data).decode())}"
    elif kind == "receive":
        printable = all(32 <= b < 127 or b in (9, 10, 13) for b in data)
        body = f"receive = {toml_str(data.decode())}" if printable and data else (
            f"receive_base64 = {toml_str(base64.b64encode(data).decode())}"
        )
        body = body.replace("\r", "\\r").replace("\n", "\\n")
    elif kind == "tls":
        body = f"tls = {toml_str(data)}"
    else:
        error_kind, message = data
        body = f"error = {{ kind = {toml_str(error_kind)}, message = {toml_str(message)} }}"
    return f"  {{ {body} }},  # {note}"


def render_case(case, target):
    lines = ["[[case]]", f"name = {toml_str(case['name'])}", f"target = {toml_str(case.get('target', target))}"]
    if "timeout" in case:
        lines.append(f"timeout = {toml_str(case['timeout'])}")
    if "config" in case:
        lines.append(f"config = {case['config']}")
    expect = case["expect"]
    lines.append(f"expect.status = {toml_str(expect[0])}")
    if expect[1]:
        lines.append(f"expect.reason = {toml_str(expect[1])}")
    if len(expect) > 2 and expect[2]:
        pattern = expect[2]
        lines.append(f"expect.summary = {toml_str(pattern)}" if "'" in pattern else f"expect.summary = '{pattern}'")
    if len(expect) > 3:
        lines.append(f"expect.metrics = {expect[3]}")
    for answer in case.get("tcp", []):
        lines.append("[[case.tcp]]")
        if "host" in answer:
            lines.append(f"host = {toml_str(answer['host'])}")
            lines.append(f"port = {answer['port']}")
        if "timings" in answer:
            lines.append(f"timings = {answer['timings']}")
        if "error" in answer:
            kind, message = answer["error"]
            lines.append(f"error = {{ kind = {toml_str(kind)}, message = {toml_str(message)} }}")
        if answer.get("script"):
            lines.append("script = [")
            lines.extend(render_step(step) for step in answer["script"])
            lines.append("]")
    return "\n".join(lines)


def tcp(script, timings='{ connect = "1ms" }', **extra):
    return [dict(timings=timings, script=script, **extra)]


def write(directory, path, header, cases, target):
    """Writes `cases` (dicts, or literal text) under `header` to directory/path, a case
    without a target of its own getting `target`."""
    parts = [header]
    for case in cases:
        parts.append(case if isinstance(case, str) else render_case(case, target))
    with open(os.path.join(directory, path), "w") as out:
        out.write("\n\n".join(parts) + "\n")
