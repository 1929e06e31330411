// JSON comparison as tables: ignore, unordered and numeric tolerance; byte compare otherwise;
// noise learned from two legacy answers; endpoint templates and their cap.
import { describe, expect, it } from 'vitest';
import { compareResponses, type CompareRules } from '../src/parity/compare.js';
import { EndpointKeys, endpointTemplate } from '../src/parity/endpoint.js';
import { NoiseTable } from '../src/parity/noise.js';

const json = (v: unknown, status = 200) => ({ status, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(v)) });
const paths = (a: unknown, b: unknown, rules: CompareRules = {}, noise: string[] = []) => {
  const r = compareResponses(json(a), json(b), rules, noise);
  return r.match ? [] : r.differences.map((d) => d.path);
};

describe('JSON comparison', () => {
  it.each([
    ['equal documents', { a: 1 }, { a: 1 }, {}, []],
    ['a wrong total', { total: 10 }, { total: 11 }, {}, ['/total']],
    ['an element field', { items: [{ p: 1 }, { p: 2 }] }, { items: [{ p: 1 }, { p: 3 }] }, {}, ['/items/1/p']],
    ['ignore a field', { meta: { requestId: 'a' }, x: 1 }, { meta: { requestId: 'b' }, x: 1 }, { ignore: ['/meta/requestId'] }, []],
    ['ignore with *', { items: [{ t: 1, v: 1 }, { t: 2, v: 2 }] }, { items: [{ t: 9, v: 1 }, { t: 8, v: 2 }] }, { ignore: ['/items/*/t'] }, []],
    ['order matters by default', { tags: ['a', 'b'] }, { tags: ['b', 'a'] }, {}, ['/tags/0', '/tags/1']],
    ['unordered by pointer', { tags: ['a', 'b'] }, { tags: ['b', 'a'] }, { unordered: ['/tags'] }, []],
    ['unordered: true', { x: [[1, 2], [3]] }, { x: [[3], [2, 1]] }, { unordered: true }, []],
    ['unordered multiset differs', { tags: ['a', 'a'] }, { tags: ['a', 'b'] }, { unordered: ['/tags'] }, ['/tags']],
    ['absolute tolerance', { p: 1.0 }, { p: 1.004 }, { numericTolerance: { absolute: 0.01 } }, []],
    ['relative tolerance', { p: 1000 }, { p: 1001 }, { numericTolerance: { relative: 0.01 } }, []],
    ['outside tolerance', { p: 1 }, { p: 2 }, { numericTolerance: { absolute: 0.5, relative: 0.1 } }, ['/p']],
    ['a missing key', { a: 1, b: 2 }, { a: 1 }, {}, ['/b']],
    ['escaped key', { 'a/b': 1 }, { 'a/b': 2 }, {}, ['/a~1b']],
    ['prototype keys are plain keys', { constructor: 1 }, {}, {}, ['/constructor']],
  ] as const)('%s', (_name, a, b, rules, want) => {
    expect(paths(a, b, rules as CompareRules)).toEqual(want);
  });

  it('caps the differences of a huge array and cuts values', () => {
    const r = compareResponses(json({ xs: Array.from({ length: 1000 }, (_, i) => i) }), json({ xs: Array.from({ length: 1000 }, (_, i) => -i - 1) }));
    expect(r.match).toBe(false);
    if (!r.match) {
      expect(r.differences).toHaveLength(20);
      expect(r.more).toBe(980);
    }
    const big = compareResponses(json({ s: 'x'.repeat(10_000) }), json({ s: 'y' }));
    expect(!big.match && Buffer.byteLength(big.differences[0].primary!)).toBeLessThanOrEqual(204);
  });

  it('compares deeply nested JSON as bytes instead of recursing', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const r = compareResponses({ status: 200, headers: {}, body: Buffer.from(deep(5000)) }, { status: 200, headers: {}, body: Buffer.from(deep(5001)) });
    expect(!r.match && r.differences.map((d) => d.path)).toEqual(['body']);
  });

  it('compares status, allow-listed headers and non-JSON bytes', () => {
    const text = (s: string, status = 200, ct = 'text/plain') => ({ status, headers: { 'content-type': ct }, body: Buffer.from(s) });
    expect(compareResponses(text('ok'), text('ok'))).toEqual({ match: true });
    const r = compareResponses(text('ok'), text('no', 500, 'text/html'));
    expect(!r.match && r.differences.map((d) => d.path)).toEqual(['status', 'header:content-type', 'body']);
  });
});

describe('noise learning', () => {
  it('marks a timestamp as noise and excludes it', () => {
    const table = new NoiseTable();
    table.learn('GET /orders/:id', json({ total: 5, ts: 1 }), json({ total: 5, ts: 2 }));
    table.learn('GET /orders/:id', json({ items: [{ ts: 1 }] }), json({ items: [{ ts: 2 }] }));
    expect(table.snapshot()).toEqual({ 'GET /orders/:id': { '/ts': 1, '/items/*/ts': 1 } });
    const noise = table.patterns('GET /orders/:id');
    expect(paths({ total: 5, ts: 3, items: [{ ts: 1 }, { ts: 2 }] }, { total: 6, ts: 4, items: [{ ts: 7 }, { ts: 8 }] }, {}, noise)).toEqual(['/total']);
  });
});

describe('endpoint keys', () => {
  it.each([
    ['GET', '/orders/17', 'GET /orders/:id'],
    ['get', '/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301/x?y=1', 'GET /u/:id/x'],
    ['GET', '/obj/5f1d7c0e9a3b2c4d5e6f7a8b', 'GET /obj/:id'],
    ['GET', '/orders', 'GET /orders'],
  ])('%s %s → %s', (m, p, want) => expect(endpointTemplate(m, p)).toBe(want));

  it('caps the number of endpoints', () => {
    const k = new EndpointKeys(2);
    expect([k.key('GET', '/a'), k.key('GET', '/b'), k.key('GET', '/c'), k.key('GET', '/a/1')]).toEqual(['GET /a', 'GET /b', 'other', 'other']);
  });
});
