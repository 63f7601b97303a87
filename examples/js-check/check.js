// A Vitals check plugin in JavaScript: connect to host:port, optionally wait for a banner.
// Build it with ./build.sh (componentize-js); see README.md.

import { connect } from 'vitals:plugin/tcp@0.1.0';
import { write } from 'vitals:plugin/log@0.1.0';

// Host errors -> [status, reason], the same mapping as the Rust SDK's net_failure.
const NET_ERRORS = {
  denied: ['unknown', 'denied'],
  invalid: ['unknown', 'plugin-error'],
  dns: ['critical', 'dns'],
  connect: ['critical', 'connect'],
  tls: ['critical', 'tls'],
  timeout: ['critical', 'timeout'],
  protocol: ['critical', 'protocol'],
};

function result(status, summary, reason, metrics = []) {
  return { status, summary, metrics, details: undefined, reason };
}

// A host call that returns result<T, net-error> throws on error; the net-error is in
// `payload` ({ tag: 'connect', val: 'connection refused' }).
function netFailure(context, e) {
  const err = e.payload ?? { tag: 'invalid', val: String(e) };
  const [status, reason] = NET_ERRORS[err.tag];
  return result(status, `${context} failed: ${err.val}`, reason);
}

function metric(name, value, unit) {
  return { name, value, unit, warn: undefined, crit: undefined, min: 0, max: undefined };
}

export const checker = {
  describe() {
    return {
      name: 'js-banner',
      version: '0.1.0',
      summary: 'Connects to host:port and, if `expect` is set, waits for the server ' +
        'to send that text (a banner such as `SSH-` or `220`).',
      config: [
        { name: 'expect', kind: 'string', default: undefined, required: false,
          doc: 'Text the server must send first.' },
        { name: 'max_bytes', kind: 'integer', default: '1024', required: false,
          doc: 'Stop reading after this many bytes.' },
      ],
    };
  },

  run(request) {
    // The host validated keys and types against describe(); defaults are ours to apply.
    const config = JSON.parse(request.config || '{}');
    const expect = config.expect;
    const maxBytes = config.max_bytes ?? 1024;
    const colon = request.target.lastIndexOf(':');
    const host = request.target.slice(0, colon);
    const port = Number(request.target.slice(colon + 1));
    if (colon < 1 || !Number.isInteger(port)) {
      return result('unknown', `target ${request.target} is not host:port`, 'plugin-error');
    }
    let conn, timings;
    try {
      [conn, timings] = connect(host, port, request.deadlineMs);
    } catch (e) {
      return netFailure(`connect to ${request.target}`, e);
    }
    const connectMs = Number(timings.totalUs) / 1000; // u64 arrives as a BigInt
    const metrics = [metric('time_connect', connectMs, 'ms')];
    write('debug', `connected to ${conn.remoteAddr()} in ${connectMs.toFixed(1)} ms`);
    console.log(`hello from javascript, target=${request.target}`); // host's debug log
    if (!expect) {
      return result('ok', `connected to ${request.target} in ${connectMs.toFixed(1)} ms`,
        undefined, metrics);
    }
    let received = '';
    const decoder = new TextDecoder();
    while (!received.includes(expect) && received.length < maxBytes) {
      let chunk;
      try {
        chunk = conn.receive(maxBytes - received.length, request.deadlineMs);
      } catch (e) {
        return netFailure(`receive from ${request.target}`, e);
      }
      if (chunk.length === 0) break;
      received += decoder.decode(chunk, { stream: true });
    }
    const banner = (received.trim().split(/\r?\n/)[0] ?? '').slice(0, 80);
    metrics.push(metric('bytes_received', received.length, 'B'));
    if (received.includes(expect)) {
      return result('ok',
        `connected to ${request.target} in ${connectMs.toFixed(1)} ms, banner "${banner}"`,
        undefined, metrics);
    }
    return result('critical', `"${expect}" not received from ${request.target}, got "${banner}"`,
      'assertion', metrics);
  },
};
