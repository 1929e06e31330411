// Parity figures recorded in two "workers" merge into exactly what one process would have counted.
import { describe, expect, it } from 'vitest';
import type { CompareResult } from '../src/parity/compare.js';
import { mergeParity, ParityFigures, REDACTED, type Comparison } from '../src/parity/figures.js';

const miss: CompareResult = { match: false, differences: [{ path: '/total', primary: '10', shadow: '11' }, { path: '/user/card', primary: '"4111"', shadow: '"4112"' }], more: 0 };
const ok: CompareResult = { match: true };
const cmp = (path: string, result: CompareResult, legacyUs: number, candidateUs: number): Comparison => ({
  method: 'GET', path, headers: { authorization: 'Bearer x', accept: 'application/json' },
  primary: { backend: 'legacy', status: 200, latencyUs: legacyUs }, shadow: { backend: 'candidate', status: 200, latencyUs: candidateUs }, result,
});

describe('parity figures', () => {
  it('merge across two workers exactly, with redacted samples', () => {
    let now = 0;
    const opts = { redact: ['/user/card'] };
    const one = new ParityFigures(opts, () => now);
    const a = new ParityFigures(opts, () => now);
    const b = new ParityFigures(opts, () => now);
    const events: Array<[Comparison, ParityFigures]> = [
      [cmp('/orders/1', miss, 1000, 3000), a], [cmp('/orders/2', ok, 1000, 500), b], [cmp('/orders/3', ok, 2000, 2000), a], [cmp('/x', miss, 100, 900), b],
    ];
    for (const [c, w] of events) {
      now += 10;
      w.compared(c);
      one.compared(c);
    }
    a.dropped(a.endpoint('GET', '/orders/4')); one.dropped(one.endpoint('GET', '/orders/4'));
    b.error(b.endpoint('GET', '/x'), 'timeout'); one.error(one.endpoint('GET', '/x'), 'timeout');
    const merged = mergeParity([a.snapshot(), b.snapshot()]);
    expect(merged).toEqual(one.snapshot());
    expect(merged).toMatchObject({ compared: 4, matched: 2, mismatched: 2, dropped: 1, errors: { timeout: 1 }, differences: { '/total': 2, '/user/card': 2 } });
    expect(Object.keys(merged.endpoints).sort()).toEqual(['GET /orders/:id', 'GET /x']);
    expect(merged.samples[0].headers.authorization).toBe(REDACTED);
    expect(merged.samples[0].differences[1]).toEqual({ path: '/user/card', primary: REDACTED, shadow: REDACTED });
    expect(merged.latency).toMatchObject({ count: 4, candidateSlower: 2, candidateFaster: 1, same: 1, sumUs: 2000 + -500 + 0 + 800 });
  });
});
