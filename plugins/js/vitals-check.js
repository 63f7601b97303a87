// The Vitals helper layer for JavaScript check plugins (componentize-js, WIT vitals:plugin@0.1.3).
//
// A check is a `run(target, config)` function and a `plugin({...})` declaration; this module
// turns them into the `checker` and `validator` exports of world `validating-check`. The
// check module re-exports them:
//
//   import { plugin, key, ok, critical, metric, http } from './vitals-check.js';
//   export { checker, validator } from './vitals-check.js';
//
//   plugin({
//     name: 'demo', version: '0.1.0', summary: 'GETs the target.',
//     config: [key('warn_time', 'duration', { doc: 'Warn when the request is slower.' })],
//     run(target, config) {
//       const response = http.get(target);
//       const time = metric('time_total', response.timeMs, 'ms', { min: 0 });
//       if (response.status >= 200 && response.status < 300) return ok(`HTTP ${response.status}`, [time]);
//       return critical(`HTTP ${response.status}`, 'http-status', [time]);
//     },
//   });
//
// What the layer does for you (the same as plugins/python/vitals_check.py):
// - `config` is the host's JSON parsed, with the declared defaults filled in (a key with no
//   default and no value is `null`); `describe` lists the same keys.
// - `validate` checks every value against its declared type (durations and ranges by their
//   grammar too), then calls the plugin's own `validate(config)` hook; `run` does the same
//   first, so a bad config is an `unknown` / `plugin-error` result on any host.
// - A host call that fails throws `NetError`; left uncaught it becomes the result the Rust
//   SDK's `net_failure` gives (connect → critical/connect, denied → unknown/denied, ...).
//   Any other error becomes `unknown` / `plugin-error` with its message (stack in details).
// - `http` and `tcp` calls default their timeout to what is left of the check's deadline,
//   less a 5% reserve (at most 100 ms), so that the plugin reports a slow peer itself.
//
// WIT in JS: enums are strings, options `undefined`, fields camelCase, u64 values BigInt.

import { send } from 'vitals:plugin/http@0.1.3';
import { connect as tcpConnect } from 'vitals:plugin/tcp@0.1.3';
import { write } from 'vitals:plugin/log@0.1.3';

// ---------------------------------------------------------------------------------------
// Results

const STATUSES = ['ok', 'warning', 'critical', 'unknown'];
const REASONS = ['dns', 'connect', 'tls', 'timeout', 'http-status', 'assertion', 'protocol', 'denied',
  'plugin-error'];

const opt = (v) => (v === null || v === undefined ? undefined : v);

/** One measured value; `warn`/`crit` are ranges (`'500'`, `'@10:20'`) or `Range`s. */
export function metric(name, value, unit = '', { warn, crit, min, max } = {}) {
  return {
    name, value: Number(value), unit,
    warn: opt(warn) === undefined ? undefined : String(warn),
    crit: opt(crit) === undefined ? undefined : String(crit),
    min: opt(min) === undefined ? undefined : Number(min),
    max: opt(max) === undefined ? undefined : Number(max),
  };
}

/** A result; `status` is ok, warning, critical or unknown. */
export function result(status, summary, reason, metrics = [], details) {
  if (!STATUSES.includes(status)) throw new Error(`status '${status}' is not one of ${STATUSES.join(', ')}`);
  if (opt(reason) !== undefined && !REASONS.includes(reason)) {
    throw new Error(`reason '${reason}' is not one of ${REASONS.join(', ')}`);
  }
  return {
    status, summary: oneLine(String(summary), 1000), metrics: [...(metrics ?? [])],
    details: opt(details), reason: status === 'ok' ? undefined : opt(reason),
  };
}

export const ok = (summary, metrics, details) => result('ok', summary, undefined, metrics, details);
export const warning = (summary, reason = 'assertion', metrics, details) =>
  result('warning', summary, reason, metrics, details);
export const critical = (summary, reason = 'assertion', metrics, details) =>
  result('critical', summary, reason, metrics, details);
export const unknown = (summary, reason = 'plugin-error', metrics, details) =>
  result('unknown', summary, reason, metrics, details);

/** The worst of some statuses (ok < warning < unknown < critical, as Nagios ranks them). */
export function worst(...statuses) {
  const rank = { ok: 0, warning: 1, unknown: 2, critical: 3 };
  return statuses.reduce((a, b) => (rank[b] > rank[a] ? b : a), 'ok');
}

// ---------------------------------------------------------------------------------------
// Ranges and thresholds (https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT)

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

function bound(s, whole) {
  if (!NUMBER.test(s)) throw new Error(`invalid range "${whole}": "${s}" is not a number`);
  return Number(s);
}

/** `10` (alert outside 0..10), `10:` (below 10), `~:10` (above 10), `10:20`, `@10:20` (inside). */
export class Range {
  constructor(text) {
    text = String(text).trim();
    this.text = text;
    this.inside = text.startsWith('@');
    const body = this.inside ? text.slice(1) : text;
    if (!body) throw new Error(`empty range "${text}": write e.g. "10", "10:20" or "@~:5"`);
    const colon = body.indexOf(':');
    if (colon < 0) {
      this.start = 0;
      this.end = bound(body, text);
    } else {
      const start = body.slice(0, colon);
      const end = body.slice(colon + 1);
      this.start = start === '~' ? -Infinity : start === '' ? 0 : bound(start, text);
      this.end = end === '' ? Infinity : bound(end, text);
    }
    if (this.start > this.end) {
      throw new Error(`invalid range "${text}": start ${this.start} is greater than end ${this.end}`);
    }
  }

  /** Whether `value` crosses this threshold. */
  alerts(value) {
    return (value >= this.start && value <= this.end) === this.inside;
  }

  toString() {
    return this.text;
  }
}

/** A warning and a critical range (either may be null): `evaluate(value)` says
 * 'critical', 'warning' or 'ok'. */
export class Thresholds {
  constructor(warn, crit) {
    this.warn = opt(warn) === undefined ? null : warn instanceof Range ? warn : new Range(warn);
    this.crit = opt(crit) === undefined ? null : crit instanceof Range ? crit : new Range(crit);
  }

  evaluate(value) {
    if (this.crit && this.crit.alerts(value)) return 'critical';
    if (this.warn && this.warn.alerts(value)) return 'warning';
    return 'ok';
  }

  /** A metric carrying these thresholds, for the perfdata. */
  metric(name, value, unit = '', { min, max } = {}) {
    return metric(name, value, unit, { warn: this.warn ?? undefined, crit: this.crit ?? undefined, min, max });
  }
}

// ---------------------------------------------------------------------------------------
// Durations and text

const DURATION_UNITS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 6e4, min: 6e4, h: 3.6e6, d: 8.64e7 };
const DURATION_PART = /\s*(\d+\.?\d*|\.\d+)\s*(ns|us|µs|ms|min|s|m|h|d)\s*/y;

/** `'250ms'`, `'1.5s'`, `'1h30m'`, `'2m 30s'` → milliseconds. */
export function parseDurationMs(text) {
  const s = String(text).trim();
  if (!s) throw new Error('empty duration: write a number and a unit, e.g. "250ms" or "2s"');
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const at = DURATION_PART.lastIndex;
    const m = DURATION_PART.exec(s);
    if (!m || DURATION_PART.lastIndex === at) {
      throw new Error(`invalid duration "${s}": write a number and a unit (ns, us, ms, s, m, h or d), e.g. "250ms"`);
    }
    total += Number(m[1]) * DURATION_UNITS[m[2]];
  }
  return total;
}

/** Milliseconds for a summary, as Vitals prints durations: `24 µs`, `3.2 ms`, `1.2 s`. */
export function formatMs(ms) {
  ms = Number.isFinite(ms) && ms > 0 ? ms : 0;
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60000).toFixed(1)} m`;
}

/** `text` on one line, cut to `maxChars` with a trailing `…`: for peer text in a summary. */
export function oneLine(text, maxChars = 80) {
  // eslint-disable-next-line no-control-regex
  const line = String(text).replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  const chars = [...line];
  return chars.length <= maxChars ? line : `${chars.slice(0, maxChars).join('').trimEnd()}…`;
}

// ---------------------------------------------------------------------------------------
// The deadline of the run in progress

/** `deadline.remainingMs()`: what is left of the current run's time, less a reserve. */
export const deadline = {
  start: Date.now(),
  budgetMs: 10000,
  reset(deadlineMs) {
    this.start = Date.now();
    this.budgetMs = deadlineMs - Math.min(Math.floor(deadlineMs / 20), 100);
  },
  elapsedMs() {
    return Date.now() - this.start;
  },
  remainingMs() {
    return Math.max(1, Math.floor(this.budgetMs - this.elapsedMs()));
  },
};

// ---------------------------------------------------------------------------------------
// Host calls

const NET_MAPPING = { // kind -> [status, reason], as the Rust SDK's net_failure
  denied: ['unknown', 'denied'], invalid: ['unknown', 'plugin-error'], dns: ['critical', 'dns'],
  connect: ['critical', 'connect'], tls: ['critical', 'tls'], timeout: ['critical', 'timeout'],
  protocol: ['critical', 'protocol'],
};

/** A host call failed: `kind` is the net-error case, `detail` the host's text. */
export class NetError extends Error {
  constructor(kind, detail, context = '') {
    super(context ? `${context} failed: ${detail}` : detail);
    this.kind = kind;
    this.detail = detail;
    this.context = context;
  }

  /** The result this failure means. */
  result(metrics) {
    const [status, reason] = NET_MAPPING[this.kind] ?? ['unknown', 'plugin-error'];
    return result(status, this.message, reason, metrics);
  }
}

// A host call that returns result<T, net-error> throws; the net-error is in `payload`.
function hostCall(context, f) {
  try {
    return f();
  } catch (e) {
    const err = e?.payload;
    if (err && typeof err.tag === 'string') throw new NetError(err.tag, String(err.val), context);
    throw e;
  }
}

const usToMs = (us) => (us === undefined || us === null ? null : Number(us) / 1000);
const timingsMs = (t) => ({
  dns: usToMs(t.dnsUs), connect: usToMs(t.connectUs), tls: usToMs(t.tlsUs),
  firstByte: usToMs(t.firstByteUs), total: usToMs(t.totalUs),
});

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** An HTTP response: `status`, `headers` (object, lower-case names, repeats joined with
 * ', '), `body` (Uint8Array), `text()`, `json()`, `timeMs` and `timings` (ms). */
export class Response {
  constructor(raw) {
    this.status = raw.status;
    this.headers = {};
    for (const [name, value] of raw.headers) {
      this.headers[name] = name in this.headers ? `${this.headers[name]}, ${value}` : value;
    }
    this.body = raw.body;
    this.bodySize = Number(raw.bodySize);
    this.truncated = raw.truncated;
    this.finalUrl = raw.finalUrl;
    this.redirects = raw.redirects;
    this.remoteAddr = raw.remoteAddr;
    this.timings = timingsMs(raw.timings);
    this.timeMs = this.timings.total;
  }

  text() {
    return decoder.decode(this.body);
  }

  /** The body parsed as JSON; throws an Error with a short reason when it is not. */
  json() {
    if (this.truncated) {
      throw new Error(`body is larger than maxBody (${this.body.length} of ${this.bodySize} bytes kept)`);
    }
    try {
      return JSON.parse(this.text());
    } catch (e) {
      throw new Error(`body is not JSON: ${e.message}`);
    }
  }
}

/** `http.get(url, options)`, `http.request(method, url, options)`; options: headers
 * (object or pairs), body (string or Uint8Array), timeoutMs, maxBody (64 KiB),
 * maxRedirects (0), tlsVerify (true). */
export const http = {
  request(method, url, { headers = {}, body, timeoutMs, maxBody = 65536, maxRedirects = 0, tlsVerify = true } = {}) {
    method = method.toUpperCase();
    const req = {
      method, url,
      headers: Array.isArray(headers) ? headers : Object.entries(headers).map(([k, v]) => [k, String(v)]),
      body: body === undefined || body === null ? undefined : typeof body === 'string' ? encoder.encode(body) : body,
      timeoutMs: timeoutMs ?? deadline.remainingMs(),
      maxRedirects, tlsVerify, maxBodyBytes: maxBody,
    };
    return new Response(hostCall(`${method} ${url}`, () => send(req)));
  },
  get(url, options = {}) {
    return this.request('GET', url, options);
  },
};

/** An open TCP connection: `send`, `receive`, `receiveUntil`, `upgradeTls`; `connectMs`,
 * `remoteAddr`. */
export class Connection {
  constructor(raw, timings, where) {
    this.raw = raw;
    this.where = where;
    this.timings = timingsMs(timings);
    this.connectMs = this.timings.total;
    this.remoteAddr = raw.remoteAddr();
  }

  send(data, timeoutMs) {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    hostCall(`send to ${this.where}`, () => this.raw.send(bytes, timeoutMs ?? deadline.remainingMs()));
  }

  /** What arrived (at most maxBytes); empty when the peer closed the connection. */
  receive(maxBytes = 4096, timeoutMs) {
    return hostCall(`receive from ${this.where}`, () => this.raw.receive(maxBytes, timeoutMs ?? deadline.remainingMs()));
  }

  /** Reads until `marker` (a string) arrived, the peer closed, or maxBytes were read; returns text. */
  receiveUntil(marker, maxBytes = 4096, timeoutMs) {
    let got = '';
    let bytes = 0;
    while (!got.includes(marker) && bytes < maxBytes) {
      const chunk = this.receive(maxBytes - bytes, timeoutMs);
      if (chunk.length === 0) break;
      bytes += chunk.length;
      got += decoder.decode(chunk, { stream: true });
    }
    return got;
  }

  /** TLS on this connection; returns the handshake time in ms. */
  upgradeTls(serverName, verify = true, timeoutMs) {
    const us = hostCall(`TLS handshake with ${this.where}`,
      () => this.raw.upgradeTls(serverName, verify, timeoutMs ?? deadline.remainingMs()));
    return Number(us) / 1000;
  }
}

/** `tcp.connect(host, port, timeoutMs)` → `Connection`. */
export const tcp = {
  connect(host, port, timeoutMs) {
    const where = `${host}:${port}`;
    const [raw, timings] = hostCall(`connect to ${where}`,
      () => tcpConnect(host, port, timeoutMs ?? deadline.remainingMs()));
    return new Connection(raw, timings, where);
  },
};

/** `log.debug/info/warn/error(message)`: lines in the host's log under the check's name. */
export const log = {
  debug: (message) => write('debug', String(message)),
  info: (message) => write('info', String(message)),
  warn: (message) => write('warn', String(message)),
  error: (message) => write('error', String(message)),
};

// ---------------------------------------------------------------------------------------
// The config schema

const isStr = (v) => typeof v === 'string';
const isInt = (v) => Number.isInteger(v);
const grammar = (kind, parse) => (v) => {
  if (!isStr(v)) return `must be a ${kind} string`;
  try {
    parse(v);
    return null;
  } catch (e) {
    return e.message;
  }
};

// type -> check(value) → null or a message
const TYPES = {
  string: (v) => (isStr(v) ? null : 'must be a string'),
  integer: (v) => (isInt(v) ? null : 'must be an integer'),
  float: (v) => (typeof v === 'number' ? null : 'must be a number'),
  boolean: (v) => (typeof v === 'boolean' ? null : 'must be true or false'),
  duration: grammar('duration', parseDurationMs),
  range: grammar('range', (v) => new Range(v)),
  'string-list': (v) => (Array.isArray(v) && v.every(isStr) ? null : 'must be a list of strings'),
  'integer-list': (v) => (Array.isArray(v) && v.every(isInt) ? null : 'must be a list of integers'),
  'string-map': (v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(isStr)
    ? null : 'must be a table of strings'),
};

/** A default written as TOML, as `describe` reports defaults. */
function toml(value) {
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value); // a JSON string is a TOML basic string
  if (Array.isArray(value)) return `[${value.map(toml).join(', ')}]`;
  if (value && typeof value === 'object') {
    if (Object.keys(value).length === 0) return '{}';
    return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} = ${toml(v)}`).join(', ')} }`;
  }
  throw new Error(`cannot write ${value} as TOML`);
}

/** A config key: `type` is one of string, integer, float, boolean, duration, range,
 * string-list, integer-list, string-map. */
export function key(name, type, { default: dflt = null, required = false, doc = '' } = {}) {
  if (!(type in TYPES)) throw new Error(`key '${name}': type '${type}' is not one of ${Object.keys(TYPES).join(', ')}`);
  if (dflt !== null && TYPES[type](dflt)) throw new Error(`key '${name}': default ${TYPES[type](dflt)}`);
  return { name, type, default: dflt, required, doc };
}

/** Throw it from `run` for a bad config value: becomes unknown / plugin-error. */
export class ConfigError extends Error {
  constructor(key, message) {
    super(key ? `\`${key}\` ${message}` : message);
    this.key = key;
  }
}

// ---------------------------------------------------------------------------------------
// The plugin declaration and the exports

const declared = { name: 'unnamed', version: '0.0.0', summary: '', config: [], run: null, validate: null };

/** Declares the plugin: `{ name, version, summary, config: [key(...)], run(target, config),
 * validate(config) }`; `validate` is optional and returns problems, each `[key, message]`
 * (key null for the table as a whole) or a string. */
export function plugin({ name, version, summary, config = [], run, validate = null }) {
  Object.assign(declared, { name, version, summary, config, run, validate });
}

/** [config with defaults, [[key or null, message]]] for a JSON text of `[check.config]`. */
function problems(text) {
  let raw;
  try {
    raw = JSON.parse(text || '{}');
  } catch (e) {
    return [{}, [[null, `config is not JSON: ${e.message}`]]];
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [{}, [[null, 'config is not a table']]];
  const found = [];
  const known = new Set(declared.config.map((k) => k.name));
  for (const name of Object.keys(raw)) {
    if (!known.has(name)) found.push([name, `unknown key \`${name}\`; known keys: ${[...known].sort().join(', ') || 'none'}`]);
  }
  const values = { ...raw };
  for (const k of declared.config) {
    if (raw[k.name] === undefined || raw[k.name] === null) {
      if (k.required) found.push([null, k.doc ? `\`${k.name}\` is required: ${k.doc}` : `\`${k.name}\` is required`]);
      values[k.name] = k.default;
      continue;
    }
    const message = TYPES[k.type](raw[k.name]);
    // "must be ..." reads on from the key's name; a grammar error is a sentence of its own.
    if (message) found.push([k.name, `\`${k.name}\`${message.startsWith('must') ? ' ' : ': '}${message}`]);
  }
  if (found.length > 0 || !declared.validate) return [values, found];
  try {
    for (const p of declared.validate(values) ?? []) {
      found.push(typeof p === 'string' ? [null, p] : [p[0] ?? null, String(p[1])]);
    }
  } catch (e) {
    if (e instanceof ConfigError) found.push([e.key ?? null, e.message]);
    else found.push([null, `the plugin's validate hook failed: ${e?.name ?? 'Error'}: ${e?.message ?? e}`]);
  }
  return [values, found];
}

/** The `checker` export: `describe` from the `plugin({...})` declaration, `run` calls it. */
export const checker = {
  describe() {
    return {
      name: declared.name, version: declared.version, summary: declared.summary,
      config: declared.config.map((k) => ({
        name: k.name, kind: k.type, default: k.default === null ? undefined : toml(k.default),
        required: k.required, doc: k.doc,
      })),
    };
  },

  run(request) {
    deadline.reset(request.deadlineMs);
    try {
      const [config, found] = problems(request.config);
      if (found.length > 0) return unknown(`bad config: ${found.map(([, m]) => m).join('; ')}`);
      const outcome = declared.run(request.target, config);
      if (!outcome || !STATUSES.includes(outcome.status)) {
        return unknown('run() did not return a result (use ok(), critical(), ...)');
      }
      return outcome;
    } catch (e) {
      if (e instanceof NetError) return e.result();
      if (e instanceof ConfigError) return unknown(`bad config: ${e.message}`);
      const message = `plugin error: ${e?.name ?? 'Error'}: ${oneLine(e?.message ?? e, 300)}`;
      return unknown(message, 'plugin-error', [], e?.stack ? String(e.stack).slice(0, 8000) : undefined);
    }
  },
};

/** The `validator` export: declared types, then the plugin's own `validate` hook. */
export const validator = {
  validate(config) {
    const [, found] = problems(config);
    return found.map(([k, m]) => ({ key: k ?? undefined, message: oneLine(m, 500) }));
  },
};
