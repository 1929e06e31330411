// workers: 2: GET /api/v1/status lists both workers and merges their figures exactly, and
// /metrics aggregates the primary's metrics with every worker's: counters add up across the
// workers, the control plane's gauges (the split) are the primary's, never summed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { admin } from './helpers/servers.js';
import { onNewConnection, startWorkers, type WorkersSetup } from './helpers/workers.js';

let w: WorkersSetup;
beforeAll(async () => {
  w = await startWorkers();
}, 60_000);
afterAll(async () => w?.close());

/** The value of one sample in Prometheus text, summed over the lines that match. */
function sum(text: string, name: string, labels: RegExp = /.*/): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && labels.test(l))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

it('shows both workers in the status and adds their counts up in the metrics', async () => {
  expect((await admin(w.adminUrl, 'PUT', '/api/v1/split', { candidatePercent: 30 })).status).toBe(200);
  const N = 120;
  for (let i = 0; i < N; i++) expect((await onNewConnection(`${w.proxy.url}/n${i}`)).status).toBe(200);

  const status = await w.status();
  const workers = status.workers as Array<{ pid: number; state: string; served: { legacy: number; candidate: number } }>;
  expect(workers.map((x) => x.state)).toEqual(['serving', 'serving']);
  const perWorker = workers.map((x) => x.served.legacy + x.served.candidate);
  expect(perWorker.every((n) => n > 0)).toBe(true);
  expect(perWorker[0] + perWorker[1]).toBe(N);
  // The status figures are the workers' merged: every request counted once.
  const backends = status.routes[0].backends;
  expect(backends.legacy.cumulative.requests + backends.candidate.cumulative.requests).toBe(N);
  expect(backends.candidate.cumulative.requests).toBe(workers[0].served.candidate + workers[1].served.candidate);

  const res = await fetch(`${w.adminUrl}/metrics`);
  const text = await res.text();
  expect(sum(text, 'cutover_requests_total', /code_class="2xx"/)).toBe(N);
  expect(sum(text, 'cutover_requests_total', /backend="candidate",code_class="2xx"/)).toBe(backends.candidate.cumulative.requests);
  expect(sum(text, 'cutover_upstream_latency_seconds_count')).toBe(N);
  // The loop delay is the workers' (the primary serves nothing): samples from both, reported with each.
  expect(Number(/^cutover_event_loop_delay_samples (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  expect(workers.every((x) => (x as unknown as { loopDelay: { count: number } }).loopDelay.count > 0)).toBe(true);
  // One owner: the split is 30, not 30 per process.
  expect(sum(text, 'cutover_candidate_percent', /route="default"/)).toBe(30);
  expect(sum(text, 'cutover_workers', /state="serving"/)).toBe(2);
  // Window percentiles from the merged histograms: one sample per route and backend.
  expect(text.split('\n').filter((l) => l.startsWith('cutover_upstream_window_p99_seconds{route="default",backend="legacy"}'))).toHaveLength(1);
}, 60_000);
