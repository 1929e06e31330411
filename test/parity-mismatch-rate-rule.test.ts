// maxMismatchRate verdicts as a table: breach, healthy, and inconclusive with the count still needed.
import { describe, expect, it } from 'vitest';
import { judgeMismatchRate } from '../src/guard/mismatch-rule.js';

const ctx = { minRequests: 5, confidence: 0.99 };

describe('maxMismatchRate', () => {
  it.each([
    ['breach', { compared: 100, mismatched: 30 }, 0.05, 'breach'],
    ['healthy', { compared: 1000, mismatched: 0 }, 0.05, 'healthy'],
    ['inconclusive', { compared: 20, mismatched: 0 }, 0.05, 'inconclusive'],
    ['too few', { compared: 2, mismatched: 0 }, 0.05, 'inconclusive'],
  ] as const)('%s', (_n, f, limit, want) => {
    const r = judgeMismatchRate(f, limit, ctx);
    expect(r.outcome).toBe(want);
    expect(r).toMatchObject({ rule: 'maxMismatchRate', n: f.compared, x: f.mismatched, threshold: limit });
    if (want !== 'inconclusive') expect(r.needed).toBe(0);
  });

  it('says how many more matching comparisons make it conclusive', () => {
    const r = judgeMismatchRate({ compared: 20, mismatched: 0 }, 0.05, ctx);
    // 0 of n: the upper bound 1 - 0.01^(1/n) falls below 5 % from n = 90 on.
    expect(r.needed).toBe(90 - 20);
    expect(judgeMismatchRate({ compared: 90, mismatched: 0 }, 0.05, ctx).outcome).toBe('healthy');
    // A threshold of 0 can never be shown healthy by a bound: no number of matches will do.
    expect(judgeMismatchRate({ compared: 10, mismatched: 0 }, 0, ctx).needed).toBeNull();
  });
});
