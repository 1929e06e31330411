// `cutover demo` end to end, shortened: traffic splits, the candidate goes bad, the guard reverts.
import { expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';
import { createLogger } from '../src/log.js';

it('runs the demo: a table every tick, then the revert with its reason', async () => {
  const lines: string[] = [];
  const { totals, app } = await runDemo({
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
  expect(text).toMatch(/backend\s+requests\s+share\s+p50 ms\s+p99 ms\s+errors/);
  expect(text).toContain('the candidate starts failing now (errors)');
  expect(text).toMatch(/>>> guard: candidate \d+ % → 0 % on (users|default) \(guard: /);
  expect(app.control.percent('users')).toBe(0);
  expect(app.control.latch('default')?.rule).toBe('maxErrorRate');
  expect(totals.legacy.requests + totals.candidate.requests).toBeGreaterThan(500);
}, 20_000);
