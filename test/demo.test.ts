// `cutover demo` end to end, shortened: the ramp starts, the candidate goes bad, the guard reverts
// and the ramp ends failed; the output is the table, the `>>>` events and the closing scorecard.
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
}, 30_000);
