#!/usr/bin/env python3
"""Writes cases.toml and scram-cases.toml of the `postgres` plugin.

The protocol is binary, so the byte scripts are base64: this file builds them from the
messages they stand for (each step carries a comment saying which), so that a case is read
and changed here, not in the base64. Run it from anywhere: `python3 make_cases.py`.

The SCRAM-SHA-256 answers are computed here with Python's own hashlib and hmac, not with
the plugin's code, so the native SCRAM cases check the plugin against an independent
implementation (with RFC 7677's example nonce, which the plugin's test build uses).
"""

import base64
import hashlib
import hmac
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from casegen import E, R, S, TLS, tcp, write as write_cases  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# --- frontend messages (what the plugin must send) -------------------------------------


def be32(n):
    return struct.pack(">i", n)


def msg(tag, body=b""):
    return tag + be32(len(body) + 4) + body


def cstr(text):
    return text.encode() + b"\0"


SSL_REQUEST = be32(8) + be32(80877103)
TERMINATE = msg(b"X")


def startup(user="postgres", database=None):
    body = be32(3 << 16)
    for name, value in [("user", user), ("database", database or user), ("application_name", "vitals")]:
        body += cstr(name) + cstr(value)
    body += b"\0"
    return be32(len(body) + 4) + body


def query(sql):
    return msg(b"Q", cstr(sql))


def password(text):
    return msg(b"p", cstr(text))


def md5_password(user, pw, salt):
    inner = hashlib.md5((pw + user).encode()).hexdigest()
    return "md5" + hashlib.md5(inner.encode() + salt).hexdigest()


SETUP = "SET default_transaction_read_only = on; SET statement_timeout = '9s'"
CONNECTIONS_SQL = (
    "SELECT count(*), current_setting('max_connections') "
    "FROM pg_stat_activity WHERE backend_type = 'client backend'"
)
REPLICATION_SQL = (
    "SELECT pg_is_in_recovery(), "
    "CASE WHEN pg_is_in_recovery() THEN EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) "
    "ELSE (SELECT COALESCE(EXTRACT(EPOCH FROM max(replay_lag)), 0) FROM pg_stat_replication) END, "
    "(SELECT count(*) FROM pg_stat_replication), "
    "(SELECT count(*) FROM pg_stat_replication WHERE state IS NULL)"
)

# --- backend messages (what the server sends) ------------------------------------------


def auth(code, extra=b""):
    return msg(b"R", be32(code) + extra)


AUTH_OK = auth(0)


def param(name, value):
    return msg(b"S", cstr(name) + cstr(value))


def ready(status=b"I"):
    return msg(b"Z", status)


def error(severity, code, message, detail=None):
    body = b"S" + cstr(severity) + b"V" + cstr(severity) + b"C" + cstr(code) + b"M" + cstr(message)
    if detail:
        body += b"D" + cstr(detail)
    return msg(b"E", body + b"\0")


def row_description(*names):
    body = struct.pack(">h", len(names))
    for name in names:
        # table oid, column number, type oid (25 = text), size, modifier, format
        body += cstr(name) + struct.pack(">ihihih", 0, 0, 25, -1, -1, 0)
    return msg(b"T", body)


def data_row(*values):
    body = struct.pack(">h", len(values))
    for value in values:
        if value is None:
            body += be32(-1)
        else:
            body += be32(len(value.encode())) + value.encode()
    return msg(b"D", body)


def complete(tag):
    return msg(b"C", cstr(tag))


# The login's end, as PostgreSQL 15 sends it after a successful authentication.
WELCOME = (
    param("application_name", "vitals")
    + param("server_encoding", "UTF8")
    + param("server_version", "15.20 (Debian 15.20-0+deb12u1)")
    + msg(b"K", be32(4242) + be32(123456789))
    + ready()
)
SET_DONE = complete("SET") + complete("SET") + ready()


def rows(column, *values):
    """A SELECT's answer: one column named `column` with a row per value."""
    out = row_description(column)
    for value in values:
        out += data_row(value)
    return out + complete(f"SELECT {len(values)}") + ready()


# --- steps ------------------------------------------------------------------------------






def login(user="postgres", database=None):
    """A trust login: the StartupMessage, then the server's welcome."""
    return [
        S(startup(user, database), f"StartupMessage user={user} database={database or user}"),
        R(AUTH_OK + WELCOME, "AuthenticationOk, ParameterStatus x3, BackendKeyData, ReadyForQuery"),
    ]


def session(sql="SELECT 1", answer=None, user="postgres", database=None):
    """A trust login, the read-only setup and one query, ended by a Terminate."""
    return login(user, database) + [
        S(query(SETUP), "Query: SET default_transaction_read_only, statement_timeout"),
        R(SET_DONE, "CommandComplete SET x2, ReadyForQuery"),
        S(query(sql), f"Query: {sql}"),
        R(answer if answer is not None else rows("?column?", "1"), "the query's answer"),
    ]






def plain(sql="SELECT 1", answer=None, **kw):
    """tls = "disable": no SSLRequest, then the session and a Terminate."""
    return session(sql, answer, **kw) + [S(TERMINATE, "Terminate")]


DISABLE = 'tls = "disable"'

# --- cases.toml: every exchange a real sandbox can replay -------------------------------

CASES = [
    "# --- sessions that pass ---------------------------------------------------------------",
    dict(
        name="trust login and SELECT 1 without TLS is ok, with every phase time",
        config=f"{{ {DISABLE} }}",
        expect=(
            "ok",
            None,
            r'^PostgreSQL 15\.20 on db\.test:5432: SELECT 1 returned "1" in .+, .+ in all$',
            "{ time_connect = 0.3, time_dns = 1, time_auth = \"0:\", time_query = \"0:\" }",
        ),
        tcp=[dict(host="db.test", port=5432, timings='{ dns = "1ms", connect = "300us" }',
                  script=plain())],
    ),
    dict(
        name="tls = prefer upgrades when the server accepts the SSLRequest",
        expect=("ok", None, r'^PostgreSQL 15\.20 on db\.test:5432 over TLS: SELECT 1 returned "1"', "{ time_tls = 4 }"),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), R(b"S", "S: TLS accepted"), TLS("4ms")] + plain()),
    ),
    dict(
        name="tls = prefer goes on in plain TCP when the server declines",
        expect=("ok", None, r'^PostgreSQL 15\.20 on db\.test:5432: SELECT 1 returned "1"'),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), R(b"N", "N: no TLS")] + plain()),
    ),
    dict(
        name="tls = require with a verified certificate",
        config='{ tls = "require" }',
        expect=("ok", None, r" over TLS: SELECT 1 returned"),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), R(b"S", "S: TLS accepted"), TLS("3ms")] + plain()),
    ),
    dict(
        name="a cleartext password is sent when the server asks for one",
        config=f'{{ {DISABLE}, user = "app", password = "s3cret" }}',
        expect=("ok", None, r'SELECT 1 returned "1"'),
        tcp=tcp([
            S(startup("app"), "StartupMessage user=app database=app"),
            R(auth(3), "AuthenticationCleartextPassword"),
            S(password("s3cret"), "PasswordMessage s3cret"),
            R(AUTH_OK + WELCOME, "AuthenticationOk ... ReadyForQuery"),
            S(query(SETUP), "Query: SET ..."),
            R(SET_DONE, "CommandComplete SET x2, ReadyForQuery"),
            S(query("SELECT 1"), "Query: SELECT 1"),
            R(rows("?column?", "1"), "1"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="an MD5 password is hashed with the user and the server's salt",
        config=f'{{ {DISABLE}, user = "app", database = "shop", password = "s3cret" }}',
        expect=("ok", None, r'SELECT 1 returned "1"'),
        tcp=tcp([
            S(startup("app", "shop"), "StartupMessage user=app database=shop"),
            R(auth(5, b"\x01\x02\x03\x04"), "AuthenticationMD5Password salt 01020304"),
            S(password(md5_password("app", "s3cret", b"\x01\x02\x03\x04")), "PasswordMessage md5..."),
            R(AUTH_OK + WELCOME, "AuthenticationOk ... ReadyForQuery"),
            S(query(SETUP), "Query: SET ..."),
            R(SET_DONE, "CommandComplete SET x2, ReadyForQuery"),
            S(query("SELECT 1"), "Query: SELECT 1"),
            R(rows("?column?", "1"), "1"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="the expected value is found in the first column of the first row",
        config=f'{{ {DISABLE}, query = "SELECT status FROM health", expect = "up" }}',
        expect=("ok", None, r'^PostgreSQL 15\.20 on db\.test:5432: "SELECT status FROM health" returned "up" in '),
        tcp=tcp(plain("SELECT status FROM health", rows("status", "up", "down"))),
    ),
    dict(
        name="the connection count is reported with max_connections",
        config=f'{{ {DISABLE}, connections_warn = "80", connections_crit = "95" }}',
        expect=("ok", None, r", 7 of 100 connections$", "{ connections = 7 }"),
        tcp=tcp(session() + [
            S(query(CONNECTIONS_SQL), "Query: count of client backends"),
            R(row_description("count", "current_setting") + data_row("7", "100") + complete("SELECT 1") + ready(),
              "7, 100"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="a primary reports the largest replay_lag of its standbys",
        config=f'{{ {DISABLE}, replication_lag_warn = "10s" }}',
        expect=("ok", None, r", replication lag 1\.5 s \(primary, largest replay_lag of 2 standbys\)$",
                "{ replication_lag = 1.5 }"),
        tcp=tcp(session() + [
            S(query(REPLICATION_SQL), "Query: recovery state, lag, standbys"),
            R(row_description("a", "b", "c", "d") + data_row("f", "1.500000", "2", "0") + complete("SELECT 1") + ready(),
              "f, 1.5, 2"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="a primary without standbys has a replication lag of 0",
        config=f'{{ {DISABLE}, replication_lag_crit = "1m" }}',
        expect=("ok", None, r", replication lag 0 µs \(primary without standbys\)$", "{ replication_lag = 0 }"),
        tcp=tcp(session() + [
            S(query(REPLICATION_SQL), "Query: recovery state, lag, standbys"),
            R(row_description("a", "b", "c", "d") + data_row("f", "0", "0", "0") + complete("SELECT 1") + ready(), "f, 0, 0"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    "# --- thresholds and expectations that fail ---------------------------------------------",
    dict(
        name="a value other than the expected one is critical assertion",
        config=f'{{ {DISABLE}, query = "SELECT 2", expect = "1" }}',
        expect=("critical", "assertion", r'"SELECT 2" returned "2" in .+ in all: expected "1"$'),
        tcp=tcp(plain("SELECT 2", rows("?column?", "2"))),
    ),
    dict(
        name="no rows where a value is expected is critical assertion",
        config=f'{{ {DISABLE}, query = "SELECT 1 WHERE false", expect = "1" }}',
        expect=("critical", "assertion", r'returned no rows in .+: expected "1"$'),
        tcp=tcp(plain("SELECT 1 WHERE false", rows("?column?"))),
    ),
    dict(
        name="NULL where a value is expected is critical assertion",
        config=f'{{ {DISABLE}, query = "SELECT NULL", expect = "1" }}',
        expect=("critical", "assertion", r'returned NULL in .+: expected "1"$'),
        tcp=tcp(plain("SELECT NULL", row_description("?column?") + data_row(None) + complete("SELECT 1") + ready())),
    ),
    dict(
        name="a query the server refuses is critical assertion with its message",
        config=f'{{ {DISABLE}, query = "SELECT * FROM nope" }}',
        expect=("critical", "assertion", r'^"SELECT \* FROM nope" failed: ERROR 42P01: relation "nope" does not exist$',
                '{ time_query = "0:" }'),
        tcp=tcp(plain("SELECT * FROM nope", error("ERROR", "42P01", 'relation "nope" does not exist') + ready())),
    ),
    dict(
        name="a write refused by the read-only session is critical assertion",
        config=f'{{ {DISABLE}, query = "DELETE FROM t" }}',
        expect=("critical", "assertion", r"failed: ERROR 25006: cannot execute DELETE in a read-only transaction$"),
        tcp=tcp(plain("DELETE FROM t",
                      error("ERROR", "25006", "cannot execute DELETE in a read-only transaction") + ready())),
    ),
    dict(
        name="a query cancelled by statement_timeout is critical timeout",
        config=f'{{ {DISABLE}, query = "SELECT pg_sleep(60)" }}',
        expect=("critical", "timeout", r"failed: ERROR 57014: canceling statement due to statement timeout$"),
        tcp=tcp(plain("SELECT pg_sleep(60)",
                      error("ERROR", "57014", "canceling statement due to statement timeout") + ready())),
    ),
    dict(
        name="more connections than connections_warn is a warning",
        config=f'{{ {DISABLE}, connections_warn = "5", connections_crit = "50" }}',
        expect=("warning", "assertion", r', 7 of 100 connections: 7 connections crossed connections_warn "5"$',
                "{ connections = 7 }"),
        tcp=tcp(session() + [
            S(query(CONNECTIONS_SQL), "Query: count of client backends"),
            R(row_description("count", "current_setting") + data_row("7", "100") + complete("SELECT 1") + ready(),
              "7, 100"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="more connections than connections_crit is critical",
        config=f'{{ {DISABLE}, connections_warn = "5", connections_crit = "~:90" }}',
        expect=("critical", "assertion", r'98 connections crossed connections_crit "~:90"$', "{ connections = 98 }"),
        tcp=tcp(session() + [
            S(query(CONNECTIONS_SQL), "Query: count of client backends"),
            R(row_description("count", "current_setting") + data_row("98", "100") + complete("SELECT 1") + ready(),
              "98, 100"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="a standby further behind than replication_lag_crit is critical",
        config=f'{{ {DISABLE}, replication_lag_warn = "10s", replication_lag_crit = "1m" }}',
        expect=("critical", "assertion",
                r", replication lag 2\.1 m \(standby\): replication lag over replication_lag_crit 1\.0 m$",
                "{ replication_lag = 125.25 }"),
        tcp=tcp(session() + [
            S(query(REPLICATION_SQL), "Query: recovery state, lag, standbys"),
            R(row_description("a", "b", "c", "d") + data_row("t", "125.250000", "0", "0") + complete("SELECT 1") + ready(),
              "t, 125.25, 0"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="standbys hidden from a user without pg_monitor are unknown plugin-error",
        config=f'{{ {DISABLE}, user = "app", database = "postgres", replication_lag_warn = "10s" }}',
        expect=("unknown", "plugin-error",
                r'^the replay_lag of 2 standbys on db\.test:5432 is hidden from user "app": grant it pg_monitor$'),
        tcp=tcp(session(user="app", database="postgres") + [
            S(query(REPLICATION_SQL), "Query: recovery state, lag, standbys, hidden standbys"),
            R(row_description("a", "b", "c", "d") + data_row("f", "0", "2", "2") + complete("SELECT 1") + ready(),
              "f, 0, 2, 2"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="a standby that has replayed nothing yet is a warning",
        config=f'{{ {DISABLE}, replication_lag_crit = "1m" }}',
        expect=("warning", "assertion", r"replication lag unknown \(standby\): the standby has replayed no transaction yet$"),
        tcp=tcp(session() + [
            S(query(REPLICATION_SQL), "Query: recovery state, lag, standbys"),
            R(row_description("a", "b", "c", "d") + data_row("t", None, "0", "0") + complete("SELECT 1") + ready(), "t, NULL, 0"),
            S(TERMINATE, "Terminate"),
        ]),
    ),
    dict(
        name="slower than warn_time is a warning",
        config=f'{{ {DISABLE}, warn_time = "1us", crit_time = "1h" }}',
        expect=("warning", "assertion", r" in all: slower than warn_time 1 µs$"),
        tcp=tcp(plain()),
    ),
    dict(
        name="slower than crit_time is critical",
        config=f'{{ {DISABLE}, crit_time = "1us" }}',
        expect=("critical", "assertion", r" in all: slower than crit_time 1 µs$"),
        tcp=tcp(plain()),
    ),
    "# --- logins the server refuses ----------------------------------------------------------",
    dict(
        name="a wrong password is critical assertion: authentication failed",
        config=f'{{ {DISABLE}, user = "app", password = "wrong" }}',
        expect=("critical", "assertion",
                r'^authentication failed for user "app": FATAL 28P01: password authentication failed for user "app"$'),
        tcp=tcp([
            S(startup("app"), "StartupMessage user=app database=app"),
            R(auth(5, b"salt"), "AuthenticationMD5Password salt 'salt'"),
            S(password(md5_password("app", "wrong", b"salt")), "PasswordMessage md5..."),
            R(error("FATAL", "28P01", 'password authentication failed for user "app"'), "ErrorResponse 28P01"),
        ]),
    ),
    dict(
        name="a role pg_hba.conf rejects is critical assertion: authentication failed",
        config=f'{{ {DISABLE}, user = "intruder" }}',
        expect=("critical", "assertion",
                r'^authentication failed for user "intruder": FATAL 28000: no pg_hba\.conf entry for host'),
        tcp=tcp([
            S(startup("intruder"), "StartupMessage user=intruder database=intruder"),
            R(error("FATAL", "28000",
                    'no pg_hba.conf entry for host "192.0.2.9", user "intruder", database "intruder", no encryption'),
              "ErrorResponse 28000"),
        ]),
    ),
    dict(
        name="a database that does not exist is critical with the server's message",
        config=f'{{ {DISABLE}, database = "nope" }}',
        expect=("critical", "assertion",
                r'^login to database "nope" as "postgres" failed: FATAL 3D000: database "nope" does not exist$',
                '{ time_connect = 1 }'),
        tcp=tcp([
            S(startup("postgres", "nope"), "StartupMessage user=postgres database=nope"),
            R(error("FATAL", "3D000", 'database "nope" does not exist'), "ErrorResponse 3D000"),
        ]),
    ),
    dict(
        name="a server asking for a password the check does not have is unknown plugin-error",
        config=f'{{ {DISABLE} }}',
        expect=("unknown", "plugin-error",
                r'^db\.test:5432 asks for an MD5 password for user "postgres" and the check has none: set password$'),
        tcp=tcp([S(startup(), "StartupMessage"), R(auth(5, b"salt"), "AuthenticationMD5Password")]),
    ),
    dict(
        name="an authentication method the check does not speak is unknown plugin-error",
        config=f'{{ {DISABLE} }}',
        expect=("unknown", "plugin-error", r"^db\.test:5432 asks for GSSAPI authentication, which this check does not support"),
        tcp=tcp([S(startup(), "StartupMessage"), R(auth(7), "AuthenticationGSS")]),
    ),
    dict(
        name="SASL without SCRAM-SHA-256 is unknown plugin-error",
        config=f'{{ {DISABLE}, password = "x" }}',
        expect=("unknown", "plugin-error", r"offers only SASL mechanisms this check does not speak: OAUTHBEARER$"),
        tcp=tcp([S(startup(), "StartupMessage"), R(auth(10, cstr("OAUTHBEARER") + b"\0"), "AuthenticationSASL OAUTHBEARER")]),
    ),
    dict(
        name="a server that is starting up is critical with its message",
        config=f'{{ {DISABLE} }}',
        expect=("critical", "assertion", r"failed: FATAL 57P03: the database system is starting up$"),
        tcp=tcp([S(startup(), "StartupMessage"),
                 R(error("FATAL", "57P03", "the database system is starting up"), "ErrorResponse 57P03")]),
    ),
    dict(
        name="tls = require and a server that declines is critical tls",
        config='{ tls = "require" }',
        expect=("critical", "tls", r'^db\.test:5432 does not accept TLS \(tls = "require"\)$'),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), R(b"N", "N: no TLS")]),
    ),
    "# --- peers that hang, close or speak something else ---------------------------------------",
    dict(
        name="a refused connection is critical connect",
        expect=("critical", "connect", r"^connect to db\.test:5432 failed: connection refused$"),
        tcp=[dict(error=("connect", "connection refused"))],
    ),
    dict(
        name="a name that does not resolve is critical dns",
        target="nowhere.test:5432",
        expect=("critical", "dns", r"^connect to nowhere\.test:5432 failed: no address for nowhere\.test$"),
        tcp=[dict(error=("dns", "no address for nowhere.test"))],
    ),
    dict(
        name="a server silent after the SSLRequest is critical timeout",
        expect=("critical", "timeout", r"^TLS negotiation with db\.test:5432 failed: no data within 10 s$"),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), E("timeout", "no data within 10 s")]),
    ),
    dict(
        name="a server silent after the StartupMessage is critical timeout",
        config=f'{{ {DISABLE} }}',
        expect=("critical", "timeout", r"^login to db\.test:5432 failed: no data within 10 s$", "{ time_connect = 1 }"),
        tcp=tcp([S(startup(), "StartupMessage"), E("timeout", "no data within 10 s")]),
    ),
    dict(
        name="a server silent during the query is critical timeout",
        config=f'{{ {DISABLE}, query = "SELECT pg_sleep(60)" }}',
        expect=("critical", "timeout", r"^query on db\.test:5432 failed: no data within 10 s$"),
        tcp=tcp(login() + [
            S(query(SETUP), "Query: SET ..."),
            R(SET_DONE, "CommandComplete SET x2, ReadyForQuery"),
            S(query("SELECT pg_sleep(60)"), "Query"),
            E("timeout", "no data within 10 s"),
        ]),
    ),
    dict(
        name="an SSH server is critical protocol, its banner quoted",
        expect=("critical", "protocol",
                r'^db\.test:5432 does not speak the PostgreSQL protocol: it sent "SSH-2\.0-OpenSSH_9\.6"$'),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), R(b"SSH-2.0-OpenSSH_9.6\r\n", "an SSH banner")]),
    ),
    dict(
        name="an HTTP server is critical protocol, its answer quoted",
        config=f'{{ {DISABLE} }}',
        expect=("critical", "protocol",
                r'^db\.test:5432 does not speak the PostgreSQL protocol: it sent "HTTP/1\.1 400 Bad Request"$'),
        tcp=tcp([S(startup(), "StartupMessage"),
                 R(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "an HTTP answer")]),
    ),
    dict(
        name="bytes after the answer to the SSLRequest are critical protocol",
        expect=("critical", "protocol", r'does not speak the PostgreSQL protocol: it sent "Sinjected"$'),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), R(b"Sinjected", "S and plaintext after it")]),
    ),
    dict(
        name="a short reply and a close is critical protocol, quoted",
        config=f'{{ {DISABLE} }}',
        expect=("critical", "protocol", r'does not speak the PostgreSQL protocol: it sent "hi"$'),
        tcp=tcp([S(startup(), "StartupMessage"), R(b"hi\n", "three bytes, then the peer closes")]),
    ),
    dict(
        name="a server that closes after the StartupMessage is critical protocol",
        config=f'{{ {DISABLE} }}',
        expect=("critical", "protocol", r"^login to db\.test:5432 failed: the server closed the connection after 0 B$"),
        tcp=tcp([S(startup(), "StartupMessage")]),
    ),
    dict(
        name="a huge message length after a valid start is critical protocol",
        config=f'{{ {DISABLE} }}',
        expect=("critical", "protocol", r"^db\.test:5432 sent a 2\.0 GiB message, a PostgreSQL server does not$"),
        tcp=tcp([S(startup(), "StartupMessage"), R(AUTH_OK + b"D\x7f\xff\xff\xff", "AuthenticationOk, then a 2 GiB DataRow")]),
    ),
    dict(
        name="a failed TLS handshake is critical tls, the host's message not repeated",
        config='{ tls = "require" }',
        expect=("critical", "tls", r"^TLS handshake with db\.test:5432 failed: invalid peer certificate: UnknownIssuer$"),
        tcp=tcp([S(SSL_REQUEST, "SSLRequest"), R(b"S", "S: TLS accepted"),
                 E("tls", "TLS handshake with db.test failed: invalid peer certificate: UnknownIssuer")]),
    ),
    "# --- bad config: no connection is opened ---------------------------------------------------",
    dict(
        name="an unknown tls mode is unknown plugin-error",
        config='{ tls = "verify-full" }',
        expect=("unknown", "plugin-error", r'^invalid config: .*tls.*"verify-full" is not one of'),
    ),
    dict(
        name="an empty query is unknown plugin-error",
        config='{ query = " " }',
        expect=("unknown", "plugin-error", r"^invalid config: .*query.*: must not be empty"),
    ),
]

# --- scram-cases.toml: SCRAM-SHA-256, native only ---------------------------------------

NONCE = "rOprNGfwEbeRWgbNEkqO"  # RFC 7677's client nonce: the plugin's test build uses it
SERVER_NONCE = NONCE + "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
ITERATIONS = 4096


def scram(pw):
    """The client's messages and the server's signature of an exchange for password `pw`."""
    first_bare = f"n=,r={NONCE}"
    server_first = f"r={SERVER_NONCE},s={base64.b64encode(SALT).decode()},i={ITERATIONS}"
    salted = hashlib.pbkdf2_hmac("sha256", pw.encode(), SALT, ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={SERVER_NONCE}"
    auth_message = f"{first_bare},{server_first},{without_proof}"
    signature = hmac.new(stored_key, auth_message.encode(), "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    server_signature = hmac.new(server_key, auth_message.encode(), "sha256").digest()
    client_final = f"{without_proof},p={base64.b64encode(proof).decode()}"
    return "n,," + first_bare, server_first, client_final, "v=" + base64.b64encode(server_signature).decode()


def sasl_initial(data):
    return msg(b"p", cstr("SCRAM-SHA-256") + be32(len(data)) + data.encode())


def scram_start(pw, user="app"):
    client_first, server_first, client_final, server_final = scram(pw)
    steps = [
        S(startup(user), f"StartupMessage user={user}"),
        R(auth(10, cstr("SCRAM-SHA-256-PLUS") + cstr("SCRAM-SHA-256") + b"\0"), "AuthenticationSASL"),
        S(sasl_initial(client_first), f"SASLInitialResponse {client_first}"),
        R(auth(11, server_first.encode()), f"AuthenticationSASLContinue {server_first}"),
        S(msg(b"p", client_final.encode()), f"SASLResponse {client_final}"),
    ]
    return steps, server_final


def scram_ok():
    steps, server_final = scram_start("pencil")
    return steps + [
        R(auth(12, server_final.encode()) + AUTH_OK + WELCOME, "AuthenticationSASLFinal, AuthenticationOk ... ReadyForQuery"),
        S(query(SETUP), "Query: SET ..."),
        R(SET_DONE, "CommandComplete SET x2, ReadyForQuery"),
        S(query("SELECT 1"), "Query: SELECT 1"),
        R(rows("?column?", "1"), "1"),
        S(TERMINATE, "Terminate"),
    ]


def scram_wrong_password():
    steps, _ = scram_start("wrong")
    return steps + [R(error("FATAL", "28P01", 'password authentication failed for user "app"'), "ErrorResponse 28P01")]


def scram_bad_signature():
    steps, _ = scram_start("pencil")
    forged = "v=" + base64.b64encode(b"\0" * 32).decode()
    return steps + [R(auth(12, forged.encode()), "AuthenticationSASLFinal with a wrong signature")]


def scram_skipped_final():
    steps, _ = scram_start("pencil")
    return steps + [R(AUTH_OK + WELCOME, "AuthenticationOk without AuthenticationSASLFinal")]


SCRAM_CASES = [
    dict(
        name="SCRAM-SHA-256 with the right password is ok",
        config=f'{{ {DISABLE}, user = "app", password = "pencil" }}',
        expect=("ok", None, r'^PostgreSQL 15\.20 on db\.test:5432: SELECT 1 returned "1"'),
        tcp=tcp(scram_ok()),
    ),
    dict(
        name="SCRAM-SHA-256 with a wrong password is critical assertion: authentication failed",
        config=f'{{ {DISABLE}, user = "app", password = "wrong" }}',
        expect=("critical", "assertion", r'^authentication failed for user "app": FATAL 28P01: '),
        tcp=tcp(scram_wrong_password()),
    ),
    dict(
        name="a server whose SCRAM signature is wrong is critical protocol",
        config=f'{{ {DISABLE}, user = "app", password = "pencil" }}',
        expect=("critical", "protocol", r"^SCRAM-SHA-256 with db\.test:5432 failed: the server's SCRAM signature is wrong"),
        tcp=tcp(scram_bad_signature()),
    ),
    dict(
        name="a server that skips the SCRAM signature is critical protocol",
        config=f'{{ {DISABLE}, user = "app", password = "pencil" }}',
        expect=("critical", "protocol", r"accepted the login without proving it knows the password"),
        tcp=tcp(scram_skipped_final()),
    ),
]

HEADER = """\
# Cases of the built-in `postgres` check, written by make_cases.py (edit that, then run it):
# each gives a target and config, the host's answers to the plugin's connection (how the
# connect went, then the bytes the server sends and the plugin must send, in base64 with a
# comment naming each message), and the result the plugin must return. `cargo test` runs
# them natively (src/tests.rs, through vitals_sdk::testing); `vitals plugin test` replays
# them in the real sandbox. The format is vitals-cases' (cases/src/model.rs).
#
# The session's setup sends `SET statement_timeout = '9s'`: the whole seconds left of the
# default 10 s timeout, so no case sets another timeout. `time_total` is the plugin's own
# clock, so no case pins it (warn_time = "1us" is always crossed).
"""

SCRAM_HEADER = """\
# SCRAM-SHA-256 cases of the built-in `postgres` check, written by make_cases.py. The
# client's first message carries a random nonce, so these replay only natively, where the
# plugin's test build uses RFC 7677's nonce (src/auth.rs); the server's answers and the
# expected proof were computed by make_cases.py with Python's hashlib and hmac.
"""



if __name__ == "__main__":
    write_cases(HERE, "cases.toml", HEADER, CASES, "db.test:5432")
    write_cases(HERE, "scram-cases.toml", SCRAM_HEADER, SCRAM_CASES, "db.test:5432")
