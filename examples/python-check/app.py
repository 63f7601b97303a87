"""A Vitals check plugin in Python: connect to host:port, optionally wait for a banner.

Build it with ./build.sh (componentize-py); see README.md.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, tcp
from wit_world.imports.types import (
    CheckRequest,
    CheckResult,
    ConfigKey,
    ConfigType,
    Description,
    Metric,
    NetError_Connect,
    NetError_Denied,
    NetError_Dns,
    NetError_Invalid,
    NetError_Protocol,
    NetError_Timeout,
    NetError_Tls,
    Reason,
    Status,
)

# Host errors -> (status, reason), the same mapping as the Rust SDK's net_failure.
NET_ERRORS = {
    NetError_Denied: (Status.UNKNOWN, Reason.DENIED),
    NetError_Invalid: (Status.UNKNOWN, Reason.PLUGIN_ERROR),
    NetError_Dns: (Status.CRITICAL, Reason.DNS),
    NetError_Connect: (Status.CRITICAL, Reason.CONNECT),
    NetError_Tls: (Status.CRITICAL, Reason.TLS),
    NetError_Timeout: (Status.CRITICAL, Reason.TIMEOUT),
    NetError_Protocol: (Status.CRITICAL, Reason.PROTOCOL),
}


def result(status, summary, reason=None, metrics=None, details=None):
    return CheckResult(status, summary, metrics or [], details, reason)


def net_failure(context, err):
    status, reason = NET_ERRORS[type(err)]
    return result(status, f"{context} failed: {err.value}", reason)


class Checker(exports.Checker):
    def describe(self) -> Description:
        return Description(
            name="py-banner",
            version="0.1.0",
            summary="Connects to host:port and, if `expect` is set, waits for the server "
            "to send that text (a banner such as `SSH-` or `220`).",
            config=[
                ConfigKey("expect", ConfigType.STRING, None, False,
                          "Text the server must send first."),
                ConfigKey("max_bytes", ConfigType.INTEGER, "1024", False,
                          "Stop reading after this many bytes."),
            ],
        )

    def run(self, request: CheckRequest) -> CheckResult:
        # The host validated keys and types against describe(); defaults are ours to apply.
        config = json.loads(request.config or "{}")
        expect = config.get("expect")
        max_bytes = int(config.get("max_bytes", 1024))
        host, _, port = request.target.rpartition(":")
        if not host or not port.isdigit():
            return result(Status.UNKNOWN, f"target {request.target!r} is not host:port",
                          Reason.PLUGIN_ERROR)
        try:
            conn, timings = tcp.connect(host, int(port), request.deadline_ms)
        except Err as e:
            return net_failure(f"connect to {request.target}", e.value)
        connect_ms = timings.total_us / 1000
        metrics = [Metric("time_connect", connect_ms, "ms", None, None, 0.0, None)]
        log.write(log.Level.DEBUG, f"connected to {conn.remote_addr()} in {connect_ms:.1f} ms")
        print(f"hello from python, target={request.target}")  # goes to the host's debug log
        if not expect:
            return result(Status.OK, f"connected to {request.target} in {connect_ms:.1f} ms",
                          metrics=metrics)
        received = b""
        with conn:
            while expect.encode() not in received and len(received) < max_bytes:
                try:
                    chunk = conn.receive(max_bytes - len(received), request.deadline_ms)
                except Err as e:
                    return net_failure(f"receive from {request.target}", e.value)
                if not chunk:
                    break
                received += chunk
        banner = received.decode("utf-8", "replace").strip().splitlines()
        banner = banner[0][:80] if banner else ""
        metrics.append(Metric("bytes_received", float(len(received)), "B", None, None, 0.0, None))
        if expect.encode() in received:
            return result(Status.OK, f"connected to {request.target} in {connect_ms:.1f} ms, "
                          f"banner \"{banner}\"", metrics=metrics)
        return result(Status.CRITICAL, f"\"{expect}\" not received from {request.target}, "
                      f"got \"{banner}\"", Reason.ASSERTION, metrics=metrics)
