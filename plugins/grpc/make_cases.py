#!/usr/bin/env python3
"""Writes cases.toml of the `grpc` plugin.

HTTP/2 is binary, so the byte scripts are base64: this file builds them from the frames
they stand for (each step carries a comment saying which), so that a case is read and
changed here, not in the base64. Run it from anywhere: `python3 make_cases.py`.

The client's bytes are built here independently of the plugin's code (HTTP/2 frames, HPACK
literals, the protobuf request), so the native cases check the plugin against a second
implementation. The server's answers are built here too (HPACK with static-table indexes
and a dynamic-table entry, no Huffman), except RECORDED_*: real answers of tonic-health
0.14.9 (the h2 crate: Huffman-coded strings, dynamic-table entries), recorded with
`python3 make_cases.py --record 127.0.0.1:PORT [SERVICE]` against a tonic-health server.
"""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from casegen import E, R, S, TLS, tcp, write as write_cases  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = "0.1.0"

# --- HTTP/2 frames and HPACK ------------------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS, PADDED = 0x1, 0x1, 0x4, 0x8


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_int(value, prefix, flags=0):
    top = (1 << prefix) - 1
    if value < top:
        return bytes([flags | value])
    out = [flags | top]
    value -= top
    while value >= 128:
        out.append(value % 128 | 0x80)
        value //= 128
    return bytes(out + [value])


def hpack_str(text):
    data = text.encode() if isinstance(text, str) else text
    return hpack_int(len(data), 7) + data


def literal(name, value):
    """A literal field without indexing, new name (what the client sends)."""
    return b"\x00" + hpack_str(name) + hpack_str(value)


def indexed(index):
    """A field from the static table (e.g. 8 is `:status: 200`)."""
    return hpack_int(index, 7, 0x80)


def literal_indexed_name(index, value, remember=False):
    """A literal value for a static-table name (31 is content-type), added to the dynamic
    table when `remember`."""
    return hpack_int(index, 6, 0x40) + hpack_str(value) if remember else hpack_int(index, 4) + hpack_str(value)


def literal_remembered(name, value):
    """A literal with incremental indexing and a new name: the server's dynamic table."""
    return b"\x40" + hpack_str(name) + hpack_str(value)


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


# --- what the client sends ---------------------------------------------------------------


def grpc_message(proto):
    return b"\x00" + struct.pack(">I", len(proto)) + proto


def health_request(service=""):
    data = service.encode()
    proto = b"\x0a" + bytes([len(data)]) + data if data else b""
    assert len(data) < 128
    return grpc_message(proto)


def request(service="", authority="grpc.test:50051", tls=False, metadata=()):
    """The preface, SETTINGS (ENABLE_PUSH 0, INITIAL_WINDOW_SIZE 65535), HEADERS on stream 1
    and the DATA that ends it."""
    fields = [
        (":method", "POST"),
        (":scheme", "https" if tls else "http"),
        (":path", "/grpc.health.v1.Health/Check"),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    if not any(name == "user-agent" for name, _ in metadata):
        fields.append(("user-agent", f"vitals-grpc/{VERSION}"))
    fields.extend(metadata)
    block = b"".join(literal(n, v) for n, v in fields)
    return (
        PREFACE
        + settings((2, 0), (4, 65535))
        + frame(HEADERS, END_HEADERS, 1, block)
        + frame(DATA, END_STREAM, 1, health_request(service))
    )


SETTINGS_ACK = frame(SETTINGS, ACK, 0)

# --- what the server sends ----------------------------------------------------------------

# The server's preface as tonic's h2 sends it: SETTINGS (INITIAL_WINDOW_SIZE 1 MiB,
# MAX_FRAME_SIZE 16384, MAX_HEADER_LIST_SIZE 16384), then its connection window.
SERVER_SETTINGS = settings((4, 1 << 20), (5, 16384), (6, 16384))
SERVER_START = SERVER_SETTINGS + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 983041))
SERVER_ACK = frame(SETTINGS, ACK, 0)


def response_headers(status=8, content_type="application/grpc", end=False, extra=b""):
    """HEADERS on stream 1: `:status` from the static table, content-type (remembered in
    the dynamic table, as servers do)."""
    block = indexed(status) + literal_indexed_name(31, content_type, remember=True) + extra
    return frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), 1, block)


def health_response(status):
    """DATA with `HealthCheckResponse { status }` (proto3: no field for UNKNOWN 0)."""
    proto = b"\x08" + bytes([status]) if status else b""
    return frame(DATA, 0, 1, grpc_message(proto))


def trailers(grpc_status="0", message=None):
    block = literal_remembered("grpc-status", grpc_status)
    if message is not None:
        block += literal("grpc-message", message)
    return frame(HEADERS, END_HEADERS | END_STREAM, 1, block)


def trailers_only(grpc_status, message=None):
    """A response without a message: :status, content-type and the status in one block."""
    extra = literal("grpc-status", grpc_status) + (literal("grpc-message", message) if message is not None else b"")
    return response_headers(end=True, extra=extra)


def goaway(code, debug=b"", last=0):
    return frame(GOAWAY, 0, 0, struct.pack(">II", last, code) + debug)


def unhex(text):
    return bytes.fromhex("".join(text.split()))


# tonic-health 0.14.9, `Check { service: "" }`: SETTINGS, SETTINGS ACK, WINDOW_UPDATE,
# HEADERS (:status 200, content-type application/grpc and date, Huffman-coded), DATA
# (SERVING), trailers (grpc-status 0, remembered in the dynamic table).
RECORDED_SERVING = unhex("""
000012040000000000000400100000000500004000000600004000000000040100000000000004080000000000000f0001
000026010400000001885f8b1d75d0620d263d4c4d65646196e4593e940094be52282009c502e5c03d700fa98b46ff
0000070000000000010000000002080100000c01050000000140889acac8b21234da8f8107
""")

# The same for `Check { service: "test.Down" }`, set NOT_SERVING.
RECORDED_NOT_SERVING = unhex("""
000012040000000000000400100000000500004000000600004000000000040100000000000004080000000000000f0001
000026010400000001885f8b1d75d0620d263d4c4d65646196e4593e940094be52282009c502e5c03d702053168dff
0000070000000000010000000002080200000c01050000000140889acac8b21234da8f8107
""")

# The same for `Check { service: "no.Such" }`, which tonic-health does not know: a
# trailers-only response with grpc-status 5 (NOT_FOUND), "service not registered".
RECORDED_NOT_FOUND = unhex("""
000012040000000000000400100000000500004000000600004000000000040100000000000004080000000000000f0001
000050010500000001885f8b1d75d0620d263d4c4d656440889acac8b21234da8f816f40899acac8b5254207317f92416c
ee62155102a3a55102c2cc6424b6164f6196e4593e940094be52282009c502e5c03d702053168dff
""")

# --- steps --------------------------------------------------------------------------------






def call(answer, note, req=None, start=SERVER_START + SERVER_ACK):
    """The request, the server's preface, the client's SETTINGS ACK, then `answer`."""
    return [
        S(req or request(), "preface, SETTINGS, HEADERS, DATA: Check"),
        R(start, "the server's SETTINGS, its ACK of the client's, WINDOW_UPDATE"),
        S(SETTINGS_ACK, "SETTINGS ACK"),
        R(answer, note),
    ]


def recorded(answer, note, req=None):
    """A recorded exchange: it all arrives at once, the ACK is sent after it was read."""
    return [S(req or request(), "preface, SETTINGS, HEADERS, DATA: Check"), R(answer, note), S(SETTINGS_ACK, "SETTINGS ACK")]


def serving(status=1):
    return response_headers() + health_response(status) + trailers()






TARGET = "grpc.test:50051"
HEAD = r'^gRPC health of "" at grpc\.test:50051'

# --- cases.toml: every exchange a real sandbox can replay ---------------------------------

CASES = [
    "# --- calls that pass ----------------------------------------------------------------------",
    dict(
        name="SERVING from tonic-health is ok, with the phase times and the serving status",
        expect=("ok", None, HEAD + r": SERVING in .+$",
                '{ time_connect = 0.3, time_dns = 1, time_rpc = "0:", serving_status = 1 }'),
        tcp=[dict(host="grpc.test", port=50051, timings='{ dns = "1ms", connect = "300us" }',
                  script=recorded(RECORDED_SERVING, "tonic-health: SERVING (recorded)"))],
    ),
    dict(
        name="a named service that is SERVING is ok",
        config='{ service = "test.Up" }',
        expect=("ok", None, r'^gRPC health of "test\.Up" at grpc\.test:50051: SERVING in ', "{ serving_status = 1 }"),
        tcp=tcp(call(serving(1), "HEADERS, DATA: SERVING, trailers: grpc-status 0", req=request("test.Up"))),
    ),
    dict(
        name="over TLS the request says https, and time_tls is reported",
        target="grpc.test:443",
        config="{ tls = true }",
        expect=("ok", None, r'^gRPC health of "" at grpc\.test:443 over TLS: SERVING in ', "{ time_tls = 4, serving_status = 1 }"),
        tcp=tcp([TLS("4ms")] + call(serving(1), "HEADERS, DATA: SERVING, trailers",
                                    req=request(authority="grpc.test:443", tls=True))),
    ),
    dict(
        name="metadata goes out as request headers, names in lower case",
        config='{ metadata = { Authorization = "Bearer s3cret", "x-tenant" = "blue" } }',
        expect=("ok", None, HEAD + ": SERVING in "),
        tcp=tcp(call(serving(1), "HEADERS, DATA: SERVING, trailers",
                     req=request(metadata=[("authorization", "Bearer s3cret"), ("x-tenant", "blue")]))),
    ),
    dict(
        name="a user-agent in the metadata replaces the check's own",
        config='{ metadata = { "user-agent" = "probe/2" } }',
        expect=("ok", None, HEAD + ": SERVING in "),
        tcp=tcp(call(serving(1), "HEADERS, DATA: SERVING, trailers", req=request(metadata=[("user-agent", "probe/2")]))),
    ),
    dict(
        name="a PING from the server is answered and the call goes on",
        expect=("ok", None, HEAD + ": SERVING in "),
        tcp=tcp(call(frame(PING, 0, 0, b"pingpong"), "PING")[:-1] + [
            R(frame(PING, 0, 0, b"pingpong"), "PING"),
            S(frame(PING, ACK, 0, b"pingpong"), "PING ACK"),
            R(serving(1), "HEADERS, DATA: SERVING, trailers"),
        ]),
    ),
    dict(
        name="headers split into CONTINUATION frames and padded DATA are put together",
        expect=("ok", None, HEAD + ": SERVING in "),
        tcp=tcp(call(
            frame(HEADERS, 0, 1, indexed(8)) + frame(CONTINUATION, END_HEADERS, 1, literal_indexed_name(31, "application/grpc"))
            + frame(DATA, PADDED, 1, b"\x03" + grpc_message(b"\x08\x01") + b"\x00\x00\x00") + trailers(),
            "HEADERS without END_HEADERS, CONTINUATION, DATA with 3 bytes of padding, trailers",
        )),
    ),
    dict(
        name="a graceful GOAWAY that still serves the call is not a failure",
        expect=("ok", None, HEAD + ": SERVING in "),
        tcp=tcp(call(goaway(0, b"shutting down", last=1) + serving(1), "GOAWAY NO_ERROR last stream 1, then the response")),
    ),
    "# --- answers that fail ----------------------------------------------------------------------",
    dict(
        name="NOT_SERVING from tonic-health is critical assertion",
        config='{ service = "test.Down" }',
        expect=("critical", "assertion", r'^gRPC health of "test\.Down" at grpc\.test:50051: NOT_SERVING, expected SERVING$',
                "{ serving_status = 2 }"),
        tcp=tcp(recorded(RECORDED_NOT_SERVING, "tonic-health: NOT_SERVING (recorded)", req=request("test.Down"))),
    ),
    dict(
        name="UNKNOWN (a response without the status field) is critical assertion",
        expect=("critical", "assertion", HEAD + r": UNKNOWN, expected SERVING$", "{ serving_status = 0 }"),
        tcp=tcp(call(serving(0), "HEADERS, DATA: empty HealthCheckResponse (UNKNOWN), trailers")),
    ),
    dict(
        name="SERVICE_UNKNOWN is critical assertion",
        config='{ service = "shop.Cart" }',
        expect=("critical", "assertion", r'^gRPC health of "shop\.Cart" at grpc\.test:50051: service "shop\.Cart" is unknown to the server \(SERVICE_UNKNOWN\)$',
                "{ serving_status = 3 }"),
        tcp=tcp(call(serving(3), "HEADERS, DATA: SERVICE_UNKNOWN, trailers", req=request("shop.Cart"))),
    ),
    dict(
        name="NOT_FOUND from tonic-health for a service it does not know is critical assertion",
        config='{ service = "no.Such" }',
        expect=("critical", "assertion", r'^gRPC health of "no\.Such" at grpc\.test:50051: service "no\.Such" is unknown to the server \(NOT_FOUND: "service not registered"\)$'),
        tcp=tcp(recorded(RECORDED_NOT_FOUND, "tonic-health: trailers-only, grpc-status 5 (recorded)", req=request("no.Such"))),
    ),
    dict(
        name="UNIMPLEMENTED (no health service) is critical protocol",
        expect=("critical", "protocol", HEAD + r': the server does not implement grpc\.health\.v1 \(UNIMPLEMENTED: "unknown service grpc\.health\.v1\.Health"\)$'),
        tcp=tcp(call(trailers_only("12", "unknown%20service%20grpc.health.v1.Health"),
                     "trailers-only: grpc-status 12, percent-encoded grpc-message")),
    ),
    dict(
        name="UNAUTHENTICATED is critical assertion: authentication failed",
        config='{ metadata = { authorization = "Bearer wrong" } }',
        expect=("critical", "assertion", HEAD + r': authentication failed: "invalid token" \(UNAUTHENTICATED\)$'),
        tcp=tcp(call(trailers_only("16", "invalid token"), "trailers-only: grpc-status 16",
                     req=request(metadata=[("authorization", "Bearer wrong")]))),
    ),
    dict(
        name="PERMISSION_DENIED is critical assertion",
        expect=("critical", "assertion", HEAD + r': permission denied: "not for you" \(PERMISSION_DENIED\)$'),
        tcp=tcp(call(trailers_only("7", "not for you"), "trailers-only: grpc-status 7")),
    ),
    dict(
        name="another gRPC error is critical assertion with its name and message",
        expect=("critical", "assertion", HEAD + r': the call failed with UNAVAILABLE \(14\): "upstream connect error"$'),
        tcp=tcp(call(trailers_only("14", "upstream connect error"), "trailers-only: grpc-status 14")),
    ),
    dict(
        name="an HTTP status other than 200 is critical http-status",
        expect=("critical", "http-status", HEAD + r": HTTP status 404, expected 200$"),
        tcp=tcp(call(response_headers(status=13, content_type="text/plain", end=True), "HEADERS :status 404, END_STREAM")),
    ),
    dict(
        name="a 200 that is not gRPC is critical protocol",
        expect=("critical", "protocol", HEAD + r': the answer is not gRPC \(content-type "text/html"\)$'),
        tcp=tcp(call(response_headers(content_type="text/html") + frame(DATA, END_STREAM, 1, b"<html></html>"),
                     "HEADERS :status 200 text/html, DATA")),
    ),
    dict(
        name="a response without grpc-status is critical protocol",
        expect=("critical", "protocol", HEAD + r": the call ended without a grpc-status$"),
        tcp=tcp(call(response_headers() + frame(DATA, END_STREAM, 1, grpc_message(b"\x08\x01")),
                     "HEADERS, DATA with END_STREAM, no trailers")),
    ),
    dict(
        name="a serving status grpc.health.v1 does not define is critical protocol",
        expect=("critical", "protocol", HEAD + r": serving status 9, which grpc\.health\.v1 does not define$"),
        tcp=tcp(call(serving(9), "HEADERS, DATA: status 9, trailers")),
    ),
    dict(
        name="a compressed response message is critical protocol",
        expect=("critical", "protocol", HEAD + r": the response message is compressed, which the check did not offer$"),
        tcp=tcp(call(response_headers() + frame(DATA, 0, 1, b"\x01\x00\x00\x00\x02\x08\x01") + trailers(),
                     "HEADERS, DATA with the compressed flag, trailers")),
    ),
    dict(
        name="slower than warn_time is a warning",
        config='{ warn_time = "1us", crit_time = "1h" }',
        expect=("warning", "assertion", HEAD + r": SERVING in .+: slower than warn_time 1 µs$"),
        tcp=tcp(call(serving(1), "HEADERS, DATA: SERVING, trailers")),
    ),
    dict(
        name="slower than crit_time is critical",
        config='{ crit_time = "1us" }',
        expect=("critical", "assertion", HEAD + r": SERVING in .+: slower than crit_time 1 µs$"),
        tcp=tcp(call(serving(1), "HEADERS, DATA: SERVING, trailers")),
    ),
    "# --- peers that hang, close, break HTTP/2 or speak something else ---------------------------",
    dict(
        name="a refused connection is critical connect",
        expect=("critical", "connect", r"^connect to grpc\.test:50051 failed: connection refused$"),
        tcp=[dict(error=("connect", "connection refused"))],
    ),
    dict(
        name="a name that does not resolve is critical dns",
        target="nowhere.test:50051",
        expect=("critical", "dns", r"^connect to nowhere\.test:50051 failed: no address for nowhere\.test$"),
        tcp=[dict(error=("dns", "no address for nowhere.test"))],
    ),
    dict(
        name="a server that accepts and never answers is critical timeout",
        expect=("critical", "timeout", HEAD + r": timed out after 4\.7 s: nothing received from 192\.0\.2\.1:50051 \(waiting for the server's HTTP/2 SETTINGS\)$",
                "{ time_connect = 1 }"),
        tcp=tcp([S(request(), "preface, SETTINGS, HEADERS, DATA: Check"),
                 E("timeout", "timed out after 4.7 s: nothing received from 192.0.2.1:50051")]),
    ),
    dict(
        name="a server silent after its SETTINGS is critical timeout",
        expect=("critical", "timeout", HEAD + r": timed out after 4\.7 s: nothing received from 192\.0\.2\.1:50051 \(waiting for the response headers\)$"),
        tcp=tcp(call(b"", "")[:-1] + [E("timeout", "timed out after 4.7 s: nothing received from 192.0.2.1:50051")]),
    ),
    dict(
        name="an HTTP/1.1 server is critical protocol, its answer quoted",
        expect=("critical", "protocol", HEAD + r': the server does not speak HTTP/2: it sent "HTTP/1\.1 400 Bad Request"$'),
        tcp=tcp([S(request(), "preface, SETTINGS, HEADERS, DATA: Check"),
                 R(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "an HTTP/1.1 answer")]),
    ),
    dict(
        name="a short reply and a close is critical protocol, quoted",
        expect=("critical", "protocol", HEAD + r': the server does not speak HTTP/2: it sent "hi"$'),
        tcp=tcp([S(request(), "preface, SETTINGS, HEADERS, DATA: Check"), R(b"hi\n", "three bytes, then the peer closes")]),
    ),
    dict(
        name="a TLS server reached without tls is critical protocol, with the hint",
        expect=("critical", "protocol", HEAD + r": the server answered with TLS, not cleartext HTTP/2 \(set tls = true\)$"),
        tcp=tcp([S(request(), "preface, SETTINGS, HEADERS, DATA: Check"), R(b"\x15\x03\x03\x00\x02\x02\x32", "a TLS alert")]),
    ),
    dict(
        name="a server that closes without a byte is critical protocol",
        expect=("critical", "protocol", HEAD + r": the server closed the connection without answering \(waiting for the server's HTTP/2 SETTINGS\)$"),
        tcp=tcp([S(request(), "preface, SETTINGS, HEADERS, DATA: Check")]),
    ),
    dict(
        name="a server that closes in the middle of the call is critical protocol",
        expect=("critical", "protocol", HEAD + r": the server closed the connection after 77 B \(waiting for the rest of the response\)$"),
        tcp=tcp(call(response_headers(), "HEADERS, then the peer closes")),
    ),
    dict(
        name="GOAWAY is critical protocol, its error code named and its debug data cleaned",
        expect=("critical", "protocol", HEAD + r': the server sent GOAWAY ENHANCE_YOUR_CALM: "too many pings \[31m"$'),
        tcp=tcp(call(goaway(11, b"too many pings\x1b[31m\x07"), "GOAWAY ENHANCE_YOUR_CALM with debug data")),
    ),
    dict(
        name="GOAWAY instead of the server's SETTINGS is critical protocol too",
        expect=("critical", "protocol", HEAD + r': the server sent GOAWAY PROTOCOL_ERROR: "invalid preface"$'),
        tcp=tcp([S(request(), "preface, SETTINGS, HEADERS, DATA: Check"),
                 R(goaway(1, b"invalid preface"), "GOAWAY PROTOCOL_ERROR as the first frame")]),
    ),
    dict(
        name="RST_STREAM on the call is critical protocol, its error code named",
        expect=("critical", "protocol", HEAD + r": the server reset the call with RST_STREAM REFUSED_STREAM$"),
        tcp=tcp(call(frame(RST_STREAM, 0, 1, struct.pack(">I", 7)), "RST_STREAM REFUSED_STREAM")),
    ),
    dict(
        name="a frame larger than the client allows is critical protocol",
        expect=("critical", "protocol", HEAD + r": the server sent a frame of 65536 bytes, more than the 16384 an HTTP/2 client allows by default$"),
        tcp=tcp(call(struct.pack(">I", 65536)[1:] + bytes([HEADERS, END_HEADERS]) + struct.pack(">I", 1) + b"\x88" * 64,
                     "a HEADERS frame header saying 64 KiB")),
    ),
    dict(
        name="headers that do not decode are critical protocol",
        expect=("critical", "protocol", HEAD + r": the server's headers do not decode: index 70 is in neither the static nor the dynamic table$"),
        tcp=tcp(call(frame(HEADERS, END_HEADERS, 1, indexed(70)), "HEADERS naming dynamic-table entry 70, which does not exist")),
    ),
    dict(
        name="a failed TLS handshake is critical tls, the host's message not repeated",
        target="grpc.test:443",
        config="{ tls = true }",
        expect=("critical", "tls", r"^TLS handshake with grpc\.test:443 failed: invalid peer certificate: UnknownIssuer$"),
        tcp=tcp([E("tls", "TLS handshake with grpc.test failed: invalid peer certificate: UnknownIssuer")]),
    ),
    "# --- bad config or target: no connection is opened -------------------------------------------",
    dict(
        name="a target without a port is unknown plugin-error",
        target="grpc.test",
        # The host refuses it when it loads the config (`vitals plugin test`); the plugin
        # refuses it too (the SDK's native kit, which has no host): both say the port is missing.
        expect=("unknown", "plugin-error", r'"grpc\.test".*(the port is missing|no port given)'),
    ),
    dict(
        name="metadata the check sets itself is unknown plugin-error",
        config='{ metadata = { te = "gzip" } }',
        expect=("unknown", "plugin-error", r'^invalid config: .*metadata.*: "te": this header is set by the check or reserved'),
    ),
    dict(
        name="a metadata value that is not printable ASCII is unknown plugin-error",
        config='{ metadata = { "x-token" = "a\\nb" } }',
        expect=("unknown", "plugin-error", r'^invalid config: .*metadata.*: "x-token": a metadata value is printable ASCII'),
    ),
]

HEADER = """\
# Cases of the built-in `grpc` check, written by make_cases.py (edit that, then run it):
# each gives a target and config, the host's answers to the plugin's connection (how the
# connect went, then the HTTP/2 frames the server sends and the plugin must send, in base64
# with a comment naming each), and the result the plugin must return. `cargo test` runs
# them natively (src/tests.rs, through vitals_sdk::testing); `vitals plugin test` replays
# them in the real sandbox. The format is vitals-cases' (cases/src/model.rs).
#
# The plugin sends its whole request at once, acknowledges the server's SETTINGS when it
# has read them and answers PINGs. `time_rpc` and `time_total` are the plugin's own clock,
# so no case pins them (warn_time = "1us" is always crossed). The test kit's connections
# carry no TLS facts, so the ALPN answer is checked only against real servers
# (tests/catalogue/grpc.rs).
"""



def record(address, service=""):
    """Sends the plugin's request to a live server and prints what it answers, in hex."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(request(service))
        sock.settimeout(0.5)
        got, acked = b"", False
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += chunk
                if not acked and len(got) >= 9 and len(got) >= 9 + int.from_bytes(got[:3], "big"):
                    sock.sendall(SETTINGS_ACK)
                    acked = True
        except socket.timeout:
            pass
    print(got.hex())


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--record":
        record(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    else:
        write_cases(HERE, "cases.toml", HEADER, CASES, TARGET)
