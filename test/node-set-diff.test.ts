// The pure half of discovery, as tables: which origins a refresh adds, removes and keeps; what a
// failed or empty lookup leaves in place (the last known addresses, never nothing); the node list
// built from the answers. Then the cluster applying it: kept nodes keep their outlier state.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { Cluster } from '../src/proxy/cluster.js';
import { applyAnswers, diffNodeSets, nodeSpecs, originOf, type Answer } from '../src/proxy/node-set.js';

describe('diffNodeSets', () => {
  it.each<[string, string[], string[], { added: string[]; removed: string[]; kept: string[] }]>([
    ['same set', ['a', 'b'], ['a', 'b'], { added: [], removed: [], kept: ['a', 'b'] }],
    ['one added', ['a'], ['a', 'b'], { added: ['b'], removed: [], kept: ['a'] }],
    ['one removed', ['a', 'b'], ['b'], { added: [], removed: ['a'], kept: ['b'] }],
    ['replaced whole', ['a', 'b'], ['c', 'd'], { added: ['c', 'd'], removed: ['a', 'b'], kept: [] }],
    ['order changes nothing', ['a', 'b'], ['b', 'a'], { added: [], removed: [], kept: ['b', 'a'] }],
    ['duplicates counted once', ['a', 'a'], ['b', 'b', 'a'], { added: ['b'], removed: [], kept: ['a'] }],
    ['from nothing', [], ['a'], { added: ['a'], removed: [], kept: [] }],
  ])('%s', (_name, current, next, want) => {
    expect(diffNodeSets(current, next)).toEqual(want);
  });
});

describe('applyAnswers', () => {
  const U = 'http://pods:8080';
  const V = 'http://other:9090';
  const last = new Map([[U, ['10.0.0.1', '10.0.0.2']]]);
  it.each<[string, ReadonlyMap<string, readonly string[]>, Answer[], Record<string, string[]>, string[]]>([
    ['addresses replace the last ones, sorted', last, [{ upstream: U, addresses: ['10.0.0.3', '10.0.0.1'] }], { [U]: ['10.0.0.1', '10.0.0.3'] }, []],
    ['a failed lookup keeps the last set', last, [{ upstream: U, error: 'ECONNREFUSED pods' }], { [U]: ['10.0.0.1', '10.0.0.2'] }, [`${U}: ECONNREFUSED pods`]],
    ['an empty answer keeps the last set', last, [{ upstream: U, addresses: [] }], { [U]: ['10.0.0.1', '10.0.0.2'] }, [`${U}: no A or AAAA records`]],
    ['never resolved and failing: nothing known', new Map(), [{ upstream: U, error: 'ENOTFOUND pods' }], {}, [`${U}: ENOTFOUND pods`]],
    ['one name fails, the other resolves', last, [{ upstream: U, error: 'ETIMEOUT pods' }, { upstream: V, addresses: ['10.1.0.1', '10.1.0.1'] }], { [U]: ['10.0.0.1', '10.0.0.2'], [V]: ['10.1.0.1'] }, [`${U}: ETIMEOUT pods`]],
  ])('%s', (_name, before, answers, want, failed) => {
    const r = applyAnswers(before, answers);
    expect(Object.fromEntries(r.byUpstream)).toEqual(want);
    expect(r.failed.map((f) => `${f.upstream}: ${f.error}`)).toEqual(failed);
  });
});

describe('nodeSpecs', () => {
  it('one node per address on the upstream port, IPv6 in brackets; a name never resolved stands as itself', () => {
    const specs = nodeSpecs(
      ['http://pods:8080', 'http://new-name:8080', 'http://10.9.9.9:80', 'https://dual:8443'],
      new Map([
        ['http://pods:8080', ['10.0.0.1', '10.0.0.2']],
        ['https://dual:8443', ['10.0.0.1', 'fd00::1']],
      ]),
    );
    expect(specs.map((s) => [s.origin, s.source])).toEqual([
      ['http://10.0.0.1:8080', 'dns'],
      ['http://10.0.0.2:8080', 'dns'],
      ['http://new-name:8080', 'dns'],
      ['http://10.9.9.9', 'static'],
      ['https://10.0.0.1:8443', 'dns'],
      ['https://[fd00::1]:8443', 'dns'],
    ]);
  });

  it('the same address under two names is one node', () => {
    const specs = nodeSpecs(['http://a:80', 'http://b:80'], new Map([['http://a:80', ['10.0.0.1']], ['http://b:80', ['10.0.0.1', '10.0.0.2']]]));
    expect(specs.map((s) => s.origin)).toEqual(['http://10.0.0.1', 'http://10.0.0.2']);
    expect(originOf('http://x:8080', '::1')).toBe('http://[::1]:8080');
  });
});

describe('Cluster.update', () => {
  const backend = parseConfig({
    backends: {
      legacy: { upstreams: ['http://pods:8080'], discovery: { type: 'dns' }, outlierDetection: { consecutiveGatewayFailure: 2, baseEjectionMs: 60_000 } },
      candidate: { upstreams: ['http://127.0.0.1:1'] },
    },
    routes: [{ name: 'r', candidatePercent: 0 }],
  }).backends.legacy;
  const spec = (a: string) => ({ origin: `http://${a}:8080`, address: a, upstream: 'http://pods:8080', source: 'dns' as const });

  it('keeps the outlier state of an address across refreshes, and forgets a removed one', async () => {
    let now = 1000;
    const cluster = new Cluster('legacy', backend, () => now);
    try {
      cluster.update(['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(spec));
      const bad = cluster.nodes[1];
      cluster.failed(bad, 'reset');
      cluster.failed(bad, 'reset');
      expect(cluster.health().find((n) => n.address === '10.0.0.2')).toMatchObject({ state: 'ejected', ejections: 1 });

      // 10.0.0.1 leaves, 10.0.0.4 arrives: the ejected node is the same object, still ejected.
      const { added, removed } = cluster.update(['10.0.0.2', '10.0.0.3', '10.0.0.4'].map(spec));
      expect({ added, removed }).toEqual({ added: ['http://10.0.0.4:8080'], removed: ['http://10.0.0.1:8080'] });
      expect(cluster.nodes[0]).toBe(bad);
      expect(cluster.health().map((n) => [n.address, n.state])).toEqual([
        ['10.0.0.2', 'ejected'],
        ['10.0.0.3', 'serving'],
        ['10.0.0.4', 'serving'],
      ]);
      // Round robin skips it: nine picks go to the two serving nodes only.
      const picked = Array.from({ length: 9 }, () => cluster.next().address);
      expect(new Set(picked)).toEqual(new Set(['10.0.0.3', '10.0.0.4']));
      now += 120_000;
      expect(cluster.health()[0]).toMatchObject({ state: 'serving', detected: 1 });
    } finally {
      await cluster.destroy();
    }
  });

  it('never takes an empty set', async () => {
    const cluster = new Cluster('legacy', backend);
    try {
      expect(() => cluster.update([])).toThrow(/never empty/);
      expect(cluster.nodes.map((n) => n.origin)).toEqual(['http://pods:8080']);
    } finally {
      await cluster.destroy();
    }
  });
});
