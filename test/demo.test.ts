// `cutover demo` end to end, shortened: the ramp starts, the candidate goes bad, the guard reverts
// and the ramp ends failed; the output is the table, the `>>>` events and the closing scorecard.
// Parity runs all along: the shadowed orders show the candidate's wrong total at /total, the
// timestamp it adds (/servedAt) is ignored, and the scorecard's parity section names /total.
import { expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';
import { createLogger } from '../src/log.js';

it('runs the demo: the ramp starts, a table every tick, the revert with its reason, the scorecard', async () => {
  const lines: string[] = [];
  const { totals, app, report } = await runDemo({
    durationSeconds: 7,
    faultAfterSeconds: 2,
    fault: 'errors',
    rate: 200,
    port: 0,
    printEveryMs: 1000,
    out: (t) => lines.push(t),
    logger: createLogger('silent'),
  });
  const text = lines.join('\n');
  expect(text).toMatch(/>>> ramp: ramp \(ramp-started\) on default: none → running 1\/4 at 10 %/);
  expect(text).toMatch(/backend\s+requests\s+share\s+p50 ms\s+p99 ms\s+errors/);
  expect(text).toContain('the candidate starts failing now (errors)');
  expect(text).toMatch(/>>> guard: candidate \d+ % → 0 % on (users|default) \(guard: /);
  expect(text).toMatch(/>>> ramp: ramp \(ramp-ended\) on default: running \d\/4 at \d+ % → failed/);
  expect(app.control.percent('users')).toBe(0);
  expect(app.control.latch('default')?.rule).toBe('maxErrorRate');
  expect(app.control.ramp('default')?.status).toBe('failed');
  expect(totals.legacy.requests + totals.candidate.requests).toBeGreaterThan(500);
  // The closing summary is the scorecard, and no log line got in between.
  expect(text).toMatch(/migration scorecard: does the candidate meet our criteria\? CRITERIA (MISSED|NOT ENOUGH DATA)/);
  expect(report.routes.map((r) => r.name)).toEqual(['users', 'default']);
  expect(text).not.toMatch(/"level":/);
  // Parity: both answered 200, and the first mismatch shows both totals.
  expect(text).toMatch(/>>> parity: default: GET \/api\/v1\/orders answered 200 by both, but they differ: \/total: (legacy 34, candidate 39|candidate 39, legacy 34)/);
  expect(text).toMatch(/parity:\n  default: \d+ compared, \d+ mismatched \(\d+\.\d %\), differing: \/total \(\d+\).*; ignored \(compare\.ignore\): \/servedAt/);
  // While the evidence is short, the ramp says how many more comparisons it needs.
  expect(text).toMatch(/maxMismatchRate: needs ~\d+ more comparisons without a mismatch/);
  const parity = app.parity.route('default').figures.totals();
  expect(parity.mismatched).toBeGreaterThan(0);
  expect(Object.keys(parity.differences)).toContain('/total');
  expect(Object.keys(parity.differences)).not.toContain('/servedAt');
  const defaultReport = report.routes.find((r) => r.name === 'default')!;
  // (a comparison still in flight when the scorecard was built may land before the close)
  expect(defaultReport.parity?.compared).toBeGreaterThan(0);
  expect(defaultReport.parity!.mismatched).toBeLessThanOrEqual(parity.mismatched);
  expect(defaultReport.parity?.differences[0]).toMatchObject({ path: '/total' });
  expect(text).toMatch(/differing fields: \/total \(\d+\)/);
}, 30_000);
