// A ramp on a shadowed route holds until the shadow's comparisons over the hold are conclusive,
// and says how many more it needs; a mismatch rate over the threshold during a hold applies
// onBreach. Fake clock, the real ramp runner over real series, parity counts handed in as the
// ParitySource (what the shadow taps count in a process).
import { expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Control } from '../src/control/control.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics/metrics.js';
import type { ParityEvidence } from '../src/parity/source.js';
import { rampRules } from '../src/ramp/machine.js';
import { RampRunner } from '../src/ramp/runner.js';
import { renderRamp } from '../src/commands/migration.js';
import { Stats } from '../src/stats/store.js';

function setup(onBreach: 'revert' | 'pause', shadowPercent = 10) {
  const config = parseConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes: [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: shadowPercent }, ramp: { steps: [10, 50, 100], holdSeconds: 1, onBreach } }],
    // 95 %: 59 clean comparisons (or requests) make a 5 % limit conclusive.
    guard: { minRequests: 5, confidence: 0.95, rules: { maxErrorRate: 0.05, maxP99Ms: null, maxMismatchRate: 0.05 } },
  });
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const stats = new Stats(60, 60, () => clock.now);
  const logger = createLogger('silent');
  const control = new Control(config, undefined, logger, () => clock.now, rampRules);
  const metrics = createMetrics({ stats, control, inFlight: () => 0, version: 'test' });
  const parity: ParityEvidence = { compared: 0, matched: 0, mismatched: 0, differences: {}, noise: {} };
  const ramp = new RampRunner({ stats, control, logger, metrics, clock: () => clock.now, parity: (r) => (r === 'orders' ? parity : undefined) }, config);
  /** One second of clean traffic (100 candidate requests), then an evaluation. */
  const second = () => {
    const series = stats.route('orders');
    for (let i = 0; i < 100; i++) series.candidate.record(clock.now + i, 200, null, 5000, false);
    for (let i = 0; i < 100; i++) series.legacy.record(clock.now + i, 200, null, 5000, false);
    clock.now += 1000;
    ramp.tick();
  };
  const compare = (n: number, wrong = 0) => {
    parity.compared += n;
    parity.mismatched += wrong;
    parity.matched += n - wrong;
    if (wrong > 0) parity.differences['/total'] = (parity.differences['/total'] ?? 0) + wrong;
  };
  return { control, ramp, second, compare };
}

it('holds past the hold time until enough comparisons match, saying how many more it needs', async () => {
  const { control, ramp, second, compare } = setup('revert');
  try {
    ramp.command('start', { source: 'api' });
    second(); // the baseline of the step's evidence
    compare(20);
    second();
    second();
    // Hundreds of clean requests and the hold time over, but only 20 comparisons.
    const held = ramp.status().routes.orders;
    expect(held).toMatchObject({ state: 'running', step: 1, candidatePercent: 10, waitingFor: 'evidence' });
    expect(held.evidence?.comparisons).toBe(20);
    const rule = held.evidence?.rules.find((r) => r.rule === 'maxMismatchRate');
    expect(rule).toMatchObject({ outcome: 'inconclusive', n: 20, x: 0, needed: 39 });
    expect(held.message).toContain('maxMismatchRate: needs ~39 more comparisons without a mismatch (0 of 20 differ so far)');
    // What `cutover ramp status` prints.
    const text = renderRamp(ramp.status().routes);
    expect(text).toContain('200 candidate, 200 legacy requests, 20 shadow comparisons');
    expect(text).toContain('maxMismatchRate: inconclusive: maxMismatchRate: needs ~39 more comparisons');
    compare(38);
    second();
    expect(control.ramp('orders')?.step).toBe(0); // 58: still one short
    compare(1);
    second();
    expect(control.ramp('orders')).toMatchObject({ status: 'running', step: 1 });
    expect(control.percent('orders')).toBe(50);
  } finally {
    await ramp.close();
  }
});

it('reverts on a mismatch rate over the threshold during a hold, naming /total', async () => {
  const { control, ramp, second, compare } = setup('revert');
  try {
    ramp.command('start', { source: 'api' });
    second();
    compare(40, 16);
    second();
    const latch = control.latch('orders');
    expect(latch).toMatchObject({ state: 'reverted', rule: 'maxMismatchRate' });
    expect(latch?.reason).toContain('mismatch rate 40.0 % (16 of 40 comparisons, noise excluded, differing: /total (16))');
    expect(control.percent('orders')).toBe(0);
    expect(control.ramp('orders')?.status).toBe('failed');
  } finally {
    await ramp.close();
  }
});

it('pauses instead with onBreach: pause, and the split stays', async () => {
  const { control, ramp, second, compare } = setup('pause');
  try {
    ramp.command('start', { source: 'api' });
    second();
    compare(40, 16);
    second();
    expect(control.latch('orders')).toBeUndefined();
    expect(control.percent('orders')).toBe(10);
    expect(control.ramp('orders')).toMatchObject({ status: 'paused', reason: expect.stringContaining('differing: /total (16)') });
  } finally {
    await ramp.close();
  }
});

it('does not wait for parity on a route whose shadow copies nothing (percent 0: compare rules only)', async () => {
  const { control, ramp, second } = setup('revert', 0);
  try {
    ramp.command('start', { source: 'api' });
    second();
    second();
    second();
    expect(control.ramp('orders')?.step).toBeGreaterThan(0);
    expect(ramp.status().routes.orders.evidence?.comparisons).toBeNull();
  } finally {
    await ramp.close();
  }
});
