// /metrics parsed back after known traffic, and checked by promtool.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin, client, startBackend, startProxy, testConfig, type TestBackend, type TestProxy } from './helpers/servers.js';
import { toolAvailable } from './helpers/tools.js';

let legacy: TestBackend;
let candidate: TestBackend;
let proxy: TestProxy;
const http = client();

/** Parse the text exposition into name{labels} → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

beforeAll(async () => {
  legacy = await startBackend((req, res) => {
    res.statusCode = req.url === '/fail' ? 503 : 200;
    setTimeout(() => res.end('legacy'), 5);
  });
  candidate = await startBackend((_req, res) => res.end('candidate'));
  proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], { overrideHeader: 'x-cutover-backend', routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 20 }] }),
  );
  for (let i = 0; i < 100; i++) await http.get(`${proxy.url}/ok`);
  for (let i = 0; i < 3; i++) await http.get(`${proxy.url}/fail`, { 'x-cutover-backend': 'legacy' });
  await admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: 30, reason: 'ramp' });
});
afterAll(async () => {
  await http.close();
  await proxy.close();
  await legacy.close();
  await candidate.close();
});

it('counts requests, latency and control state as the traffic happened', async () => {
  const r = await admin(proxy.admin, 'GET', '/metrics');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const m = parse(r.body);
  const l = 'route="default",backend="legacy"';
  const c = 'route="default",backend="candidate"';
  expect(m.get(`cutover_requests_total{${l},code_class="2xx"}`)).toBe(80);
  // The three forced requests are counted apart: never in the split's figures.
  expect(m.get(`cutover_requests_total{${l},code_class="5xx"}`)).toBe(0);
  expect(m.get(`cutover_responses_total{${l},code_class="5xx",source="upstream",forced="true"}`)).toBe(3);
  expect(m.get(`cutover_responses_total{${l},code_class="2xx",source="upstream",forced="false"}`)).toBe(80);
  expect(m.get(`cutover_requests_total{${c},code_class="2xx"}`)).toBe(20);
  expect(m.get(`cutover_upstream_latency_seconds_count{${l}}`)).toBe(80);
  expect(m.get(`cutover_upstream_latency_seconds_bucket{${l},le="+Inf"}`)).toBe(80);
  // every legacy response took at least 5 ms
  expect(m.get(`cutover_upstream_latency_seconds_bucket{${l},le="0.0025"}`)).toBe(0);
  expect(m.get(`cutover_upstream_latency_seconds_bucket{${l},le="60"}`)).toBe(80);
  expect(m.get(`cutover_upstream_window_p50_seconds{${l}}`)).toBeGreaterThanOrEqual(0.005);
  expect(m.get(`cutover_upstream_window_p999_seconds{${l}}`)).toBeGreaterThanOrEqual(m.get(`cutover_upstream_window_p50_seconds{${l}}`)!);
  expect(m.get(`cutover_upstream_window_responses{${c}}`)).toBe(20);
  // The window moves, so what is read over it goes up and down: gauges, never a summary whose
  // _count and _sum Prometheus would take for counters.
  expect(r.body).toMatch(/^# TYPE cutover_upstream_window_p99_seconds gauge$/m);
  expect(r.body).toMatch(/^# TYPE cutover_upstream_window_responses gauge$/m);
  expect(r.body).not.toMatch(/^# TYPE cutover_\w+ summary$/m);
  expect(m.get(`cutover_upstream_errors_total{${l},kind="refused"}`)).toBe(0);
  expect(m.get(`cutover_client_aborts_total{${l}}`)).toBe(0);
  expect(m.get('cutover_candidate_percent{route="default"}')).toBe(30);
  expect(m.get('cutover_in_flight_requests')).toBe(0);
  expect(m.get('cutover_maintenance_enabled')).toBe(0);
  expect(m.get('cutover_control_changes_total{source="api",kind="split"}')).toBe(1);
});

// The whole scrape, prom-client's default process and Node.js metrics included: Prometheus's own
// linter is what a scrape pipeline (or a CI that lints exporters) holds us to. Checked inside the
// test, so that with CUTOVER_REQUIRE_TOOLS=1 a missing promtool fails this test, not the file.
it('passes `promtool check metrics` without a complaint, default metrics included', async (ctx) => {
  if (!toolAvailable('promtool')) ctx.skip();
  const text = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
  expect(text).toContain('cutover_requests_total');
  expect(text).toContain('process_cpu_seconds_total');
  expect(text).toContain('nodejs_active_handles');
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
