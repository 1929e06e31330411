// A real 100 ms busy loop on this process's event loop shows in the loop-delay snapshot and in the
// metric. Only a lower bound is asserted (max >= 50 ms after a 100 ms block), which a slow or loaded
// machine can only make larger: being descheduled lengthens the gap between two samples, never
// shortens it. The one way to miss the block is to read before the sampler fired after it, so the
// test waits for a sample taken after the block (bounded) instead of sleeping a fixed time.
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Control } from '../src/control/control.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/metrics.js';
import { seriesFigures } from '../src/metrics/port.js';
import { rampRules } from '../src/ramp/machine.js';
import { LoopDelay, mergeLoopDelay } from '../src/stats/loop-delay.js';
import { Stats } from '../src/stats/store.js';
import { toolAvailable } from './helpers/tools.js';

const opened: Array<{ close(): void }> = [];
const track = <T extends { close(): void }>(x: T): T => (opened.push(x), x);
afterEach(() => {
  for (const x of opened.splice(0)) x.close();
});

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Wait until the sampler has fired `more` times since `from` samples (at most 2 s). */
async function samples(ld: LoopDelay, from: number, more: number): Promise<void> {
  const deadline = performance.now() + 2000;
  while (ld.snapshot().count < from + more && performance.now() < deadline) await sleep(5);
}

it('reports a 100 ms busy loop in its max, and a quiet loop as small delays', async () => {
  const ld = track(new LoopDelay(10).start());
  await samples(ld, 0, 3); // the first firing only arms the sampler: let it record a few
  const before = ld.snapshot();
  expect(before.count).toBeGreaterThan(0);
  busy(100);
  await samples(ld, before.count, 2);
  const after = ld.snapshot();
  expect(after.maxMs).toBeGreaterThanOrEqual(50);
  expect(after.p50Ms).toBeLessThan(after.maxMs);

  // take() starts a new interval: the block is not in the next one's max.
  ld.take();
  await samples(ld, 0, 3);
  expect(ld.snapshot().count).toBeGreaterThan(0);
  ld.reset();
  expect(ld.snapshot()).toEqual({ p50Ms: 0, p99Ms: 0, maxMs: 0, count: 0 });
});

it('merges processes by their worst figure, samples summed', () => {
  const m = mergeLoopDelay([
    { p50Ms: 0.1, p99Ms: 2, maxMs: 40, count: 100 },
    { p50Ms: 0.3, p99Ms: 1, maxMs: 90, count: 50 },
    { p50Ms: 9, p99Ms: 9, maxMs: 9, count: 0 },
  ]);
  expect(m).toEqual({ p50Ms: 0.3, p99Ms: 2, maxMs: 90, count: 150 });
});

it('exports the delay since the previous scrape as promtool-clean gauges', async (ctx) => {
  const config = parseConfig({ backends: { legacy: { upstreams: ['http://127.0.0.1:1'] }, candidate: { upstreams: ['http://127.0.0.1:2'] } }, routes: [{ name: 'r', match: { pathPrefix: '/' }, candidatePercent: 0 }] });
  const ld = track(new LoopDelay(10).start());
  const stats = new Stats(60);
  const control = new Control(config, undefined, createLogger('silent'), Date.now, rampRules);
  const metrics = track(createMetrics({ control, figures: () => ({ ...seriesFigures(stats), loopDelay: ld.take() }), version: 'test', windowSeconds: 60 }));
  await samples(ld, 0, 3);
  const before = ld.snapshot().count;
  busy(100);
  await samples(ld, before, 2);
  const text = await metrics.registry.metrics();
  const value = (figure: string) => Number(new RegExp(`^cutover_event_loop_delay_${figure}_seconds (\\S+)$`, 'm').exec(text)?.[1]);
  expect(value('max')).toBeGreaterThanOrEqual(0.05);
  expect(value('p50')).toBeLessThanOrEqual(value('max'));
  expect(Number(/^cutover_event_loop_delay_samples (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  if (!toolAvailable('promtool')) return ctx.skip();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
