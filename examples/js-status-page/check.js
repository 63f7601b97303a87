// status-page: reads a Statuspage-style status API (`/api/v2/status.json` or
// `/api/v2/summary.json`) and says what it says: OK when the indicator is `none`, WARNING
// for `minor`, CRITICAL for `major` or `critical`, with the degraded components listed.
// With `components`, only the named components count. Built with ./build.sh; see README.md.

import { Thresholds, formatMs, http, key, oneLine, plugin, result, worst, parseDurationMs } from './vitals-check.js';

export { checker, validator } from './vitals-check.js';

// The page-wide indicator → status.
const INDICATORS = { none: 'ok', maintenance: 'ok', minor: 'warning', major: 'critical', critical: 'critical' };
// A component's status → status; anything else (a new word) counts as a warning.
const COMPONENT_STATUSES = {
  operational: 'ok', under_maintenance: 'ok', degraded_performance: 'warning',
  partial_outage: 'warning', major_outage: 'critical',
};

function componentStatus(component) {
  return COMPONENT_STATUSES[component.status] ?? 'warning';
}

function run(target, config) {
  const response = http.get(target, { headers: { accept: 'application/json' }, maxBody: config.max_body });
  const ms = (name) => (config[name] === null ? null : String(parseDurationMs(config[name])));
  const timing = new Thresholds(ms('warn_time'), ms('crit_time'));
  const metrics = [timing.metric('time_total', response.timeMs, 'ms', { min: 0 })];
  const took = `HTTP ${response.status} in ${formatMs(response.timeMs)}`;
  if (response.status < 200 || response.status > 299) {
    return result('critical', `HTTP ${response.status} from ${target}`, 'http-status', metrics);
  }
  let page;
  try {
    page = response.json();
  } catch (e) {
    return result('critical', `${e.message} (${took})`, 'protocol', metrics);
  }
  const indicator = page?.status?.indicator;
  const description = oneLine(page?.status?.description ?? '', 80);
  if (!config.components && !(indicator in INDICATORS)) {
    return result('unknown', `no known status.indicator in the answer (found ${JSON.stringify(indicator) ?? 'nothing'}; ${took})`,
      'protocol', metrics);
  }

  const ignored = new Set(config.ignore_components);
  const all = (Array.isArray(page.components) ? page.components : [])
    .filter((c) => c && typeof c.name === 'string' && !c.group && !ignored.has(c.name));
  let watched = all;
  const missing = [];
  if (config.components) {
    watched = config.components.map((name) => all.find((c) => c.name === name) ?? (missing.push(name), null))
      .filter(Boolean);
  }
  const degraded = watched.filter((c) => componentStatus(c) !== 'ok');
  if (all.length > 0 || config.components) {
    metrics.push({ name: 'components_degraded', value: degraded.length, unit: '', warn: undefined, crit: undefined, min: 0, max: watched.length });
  }

  // With `components`, only they count; otherwise the page's own indicator does.
  let status = config.components ? worst('ok', ...watched.map(componentStatus)) : INDICATORS[indicator];
  const parts = [];
  if (config.components) {
    parts.push(degraded.length === 0 ? `${watched.length} of ${config.components.length} components operational`
      : `${degraded.length} of ${watched.length} components degraded`);
  } else {
    parts.push(description || `indicator ${indicator}`);
  }
  if (degraded.length > 0) {
    const listed = degraded.slice(0, config.max_listed)
      .map((c) => `${oneLine(c.name, 40)} (${String(c.status).replaceAll('_', ' ')})`);
    const more = degraded.length - listed.length;
    parts[0] += `: ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  }
  if (missing.length > 0) {
    status = worst(status, 'unknown');
    parts.push(`not on the page: ${missing.join(', ')}`);
  }
  const timeStatus = timing.evaluate(response.timeMs);
  if (timeStatus !== 'ok') parts.push(`answer slower than ${timeStatus === 'critical' ? timing.crit : timing.warn} ms`);
  status = worst(status, timeStatus);
  const reason = status === 'ok' ? undefined : 'assertion';
  return result(status, `${parts.join('; ')} (${took})`, reason, metrics);
}

function validate(config) {
  const problems = [];
  for (const name of config.components ?? []) {
    if (name.trim() === '') problems.push(['components', '`components` has an empty name']);
    if (config.ignore_components.includes(name)) {
      problems.push(['ignore_components', `\`${name}\` is both watched (\`components\`) and ignored`]);
    }
  }
  if (config.components && config.components.length === 0) {
    problems.push(['components', '`components` is empty: name at least one, or leave the key out to use the page indicator']);
  }
  if (config.max_listed < 1) problems.push(['max_listed', '`max_listed` must be at least 1']);
  if (config.warn_time !== null && config.crit_time !== null &&
      parseDurationMs(config.warn_time) > parseDurationMs(config.crit_time)) {
    problems.push(['warn_time', `\`warn_time\` (${config.warn_time}) is longer than \`crit_time\` (${config.crit_time})`]);
  }
  return problems;
}

plugin({
  name: 'status-page',
  version: '0.1.0',
  summary: 'GETs a Statuspage-style status API (`/api/v2/status.json` or `/api/v2/summary.json`): ' +
    'OK when the indicator is `none`, WARNING for `minor`, CRITICAL for `major`/`critical`, naming ' +
    'the degraded components. With `components`, only the named components count.',
  run,
  validate,
  config: [
    key('components', 'string-list', { doc: 'Only these components (by name) count; the page indicator is then ignored.' }),
    key('ignore_components', 'string-list', { default: [], doc: 'Components (by name) to leave out.' }),
    key('max_listed', 'integer', { default: 5, doc: 'Most degraded components named in the summary.' }),
    key('warn_time', 'duration', { doc: 'Warn when the answer takes longer.' }),
    key('crit_time', 'duration', { doc: 'Critical when the answer takes longer.' }),
    key('max_body', 'integer', { default: 262144, doc: 'Largest body to read, in bytes.' }),
  ],
});
