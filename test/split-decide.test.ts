import { describe, expect, it } from 'vitest';
import { bucketOf, cookieValue, decide, interleaveNext, newInterleave, stickyBackend } from '../src/split/decide.js';

const share = (n: number, pick: (i: number) => string) => {
  let c = 0;
  for (let i = 0; i < n; i++) if (pick(i) === 'candidate') c++;
  return c / n;
};

describe('split decisions', () => {
  it('interleaves without keys: 10,000 requests at 10 % give 9.5..10.5 % candidate', () => {
    const state = newInterleave();
    const s = share(10_000, () => interleaveNext(state, 10));
    expect(s).toBeGreaterThanOrEqual(0.095);
    expect(s).toBeLessThanOrEqual(0.105);
  });

  it('is accurate at low traffic too: every run of 20 requests at 5 % holds exactly one candidate', () => {
    const state = newInterleave();
    for (let run = 0; run < 50; run++) {
      expect(share(20, () => interleaveNext(state, 5))).toBe(0.05);
    }
  });

  it.each([0, 0.5, 1, 33.33, 50, 99.5, 100])('interleave honours %s %%', (p) => {
    const state = newInterleave();
    expect(Math.abs(share(20_000, () => interleaveNext(state, p)) * 100 - p)).toBeLessThan(0.01);
  });

  it('sticky keys split close to the percentage', () => {
    const s = share(20_000, (i) => decide({ percent: 10, interleave: newInterleave() }, 'default', `user-${i}`));
    expect(s).toBeGreaterThan(0.09);
    expect(s).toBeLessThan(0.11);
  });

  it('a sticky key always gets the same answer at the same percentage', () => {
    const split = { percent: 30, interleave: newInterleave() };
    for (let i = 0; i < 500; i++) {
      const first = decide(split, 'r', `k${i}`);
      for (let j = 0; j < 3; j++) expect(decide(split, 'r', `k${i}`)).toBe(first);
    }
  });

  it('ramps monotonically: every key on the candidate at 10 % is still there at 25 %, 50 %, 100 %', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
    let previous = new Set<string>();
    for (const p of [0, 1, 10, 25, 50, 99, 100]) {
      const on = new Set(keys.filter((k) => stickyBackend(bucketOf('default', k), p) === 'candidate'));
      for (const k of previous) expect(on.has(k)).toBe(true);
      previous = on;
    }
    expect(previous.size).toBe(keys.length);
  });

  it('salts buckets with the route name', () => {
    const a = Array.from({ length: 200 }, (_, i) => bucketOf('orders', `u${i}`));
    const b = Array.from({ length: 200 }, (_, i) => bucketOf('users', `u${i}`));
    expect(a.filter((x, i) => x === b[i]).length).toBeLessThan(5);
    for (const x of a) expect(x >= 0 && x < 10_000).toBe(true);
  });

  it('parses cookies', () => {
    expect(cookieValue('a=1; session=abc; b=2', 'session')).toBe('abc');
    expect(cookieValue('session="q"', 'session')).toBe('q');
    expect(cookieValue('xsession=1', 'session')).toBeUndefined();
  });
});
