// {{name}}: a Vitals check plugin in JavaScript.
//
// GETs the target URL: OK on a 2xx status, CRITICAL otherwise, with the response time as a
// metric (and a warning above `warn_time`). Build with ./build.sh; see README.md.

import { critical, formatMs, http, key, metric, ok, parseDurationMs, plugin, warning } from './vitals-check.js';

// componentize-js takes the exports from this module.
export { checker, validator } from './vitals-check.js';

plugin({
  name: '{{name}}',
  version: '0.1.0',
  summary: 'GETs the target URL: OK on a 2xx status, CRITICAL otherwise, with the response time.',
  config: [
    key('warn_time', 'duration', { doc: 'Warn when the response takes longer, e.g. "500ms".' }),
  ],
  run(target, config) {
    const response = http.get(target);
    const warnMs = config.warn_time === null ? null : parseDurationMs(config.warn_time);
    const time = metric('time_total', response.timeMs, 'ms', { warn: warnMs ?? undefined, min: 0 });
    const summary = `HTTP ${response.status} in ${formatMs(response.timeMs)}`;
    if (response.status < 200 || response.status > 299) return critical(summary, 'http-status', [time]);
    if (warnMs !== null && response.timeMs > warnMs) {
      return warning(`${summary}, slower than ${config.warn_time}`, 'assertion', [time]);
    }
    return ok(summary, [time]);
  },
});
