// The outlier detector as tables with a fake clock: thresholds, growing ejection time and its
// decay, the cap on the share of ejected nodes, dry run, and return to service.
import { describe, expect, it } from 'vitest';
import type { OutlierConfig } from '../src/config/schema.js';
import { decayed, ejectionMs, maxEjected, OutlierDetector, type NodeFailure } from '../src/proxy/outlier.js';

const POLICY: OutlierConfig = {
  consecutiveGatewayFailure: 3,
  consecutive5xx: 5,
  baseEjectionMs: 1000,
  maxEjectionMs: 30000,
  maxEjectionPercent: 50,
  enforcing: true,
};

/** A detector over `size` nodes and a clock the test moves. */
function setup(size = 2, policy: Partial<OutlierConfig> = {}) {
  let now = 10_000;
  const d = new OutlierDetector(size, { ...POLICY, ...policy }, () => now);
  return {
    d,
    advance: (ms: number) => (now += ms),
    /** Feed outcomes (a status or a failure kind) to one node; returns what the last one decided. */
    feed(node: number, outcomes: Array<number | NodeFailure>) {
      let last;
      for (const o of outcomes) last = typeof o === 'number' ? d.response(node, o) : d.failure(node, o);
      return last;
    },
  };
}

const times = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

describe('outlier detection thresholds', () => {
  it.each<[string, Array<number | NodeFailure>, string | undefined]>([
    ['three 503s in a row', [503, 503, 503], 'consecutive-gateway-failure'],
    ['three refusals', ['refused', 'refused', 'refused'], 'consecutive-gateway-failure'],
    ['three resets', ['reset', 'reset', 'reset'], 'consecutive-gateway-failure'],
    ['three connect timeouts', ['connect-timeout', 'connect-timeout', 'connect-timeout'], 'consecutive-gateway-failure'],
    ['mixed gateway failures', [502, 'reset', 504], 'consecutive-gateway-failure'],
    ['two 503s only', [503, 503], undefined],
    ['a 200 breaks the run', [503, 503, 200, 503, 503], undefined],
    ['a 404 breaks the run (a client error is a healthy node)', [503, 503, 404, 503], undefined],
    ['five 500s', times(5, 500), 'consecutive-5xx'],
    ['four 500s', times(4, 500), undefined],
    ['a 500 breaks a gateway run but counts as a 5xx', [503, 503, 500, 503, 503], 'consecutive-5xx'],
  ])('%s', (_name, outcomes, reason) => {
    const { feed } = setup();
    expect(feed(0, outcomes)?.reason).toBe(reason);
  });

  it('turns a rule off with null', () => {
    const { feed } = setup(2, { consecutiveGatewayFailure: null, consecutive5xx: null });
    expect(feed(0, times(20, 503))).toBeUndefined();
  });

  it('ejects the node for the base time and skips it until then', () => {
    const { d, feed, advance } = setup();
    const e = feed(0, times(3, 'reset'))!;
    expect(e).toMatchObject({ node: 0, enforced: true, ejections: 1, durationMs: 1000, last: 'reset' });
    expect(d.ejected(0)).toBe(true);
    expect(d.ejected(1)).toBe(false);
    advance(999);
    expect(d.ejected(0)).toBe(true);
    advance(1);
    expect(d.ejected(0)).toBe(false);
  });

  it('decides nothing about attempts that finish while the node is out', () => {
    const { d, feed } = setup();
    feed(0, times(3, 503));
    expect(feed(0, times(6, 503))).toBeUndefined();
    expect(d.view(0).detected).toBe(1);
  });
});

describe('ejection time', () => {
  it('grows with the ejection count, up to maxEjectionMs', () => {
    expect([1, 2, 3, 10, 30, 31, 100].map((n) => ejectionMs(POLICY, n))).toEqual([1000, 2000, 3000, 10000, 30000, 30000, 30000]);
    expect(ejectionMs({ baseEjectionMs: 5000, maxEjectionMs: 1000 }, 3)).toBe(5000); // max below base: base
  });

  it('is longer each time a node fails again right after it returns', () => {
    const { feed, advance } = setup();
    const durations: number[] = [];
    for (let i = 0; i < 4; i++) {
      const e = feed(0, times(3, 503))!;
      durations.push(e.durationMs);
      advance(e.durationMs);
    }
    expect(durations).toEqual([1000, 2000, 3000, 4000]);
  });

  it('decays by one ejection per maxEjectionMs the node stays in', () => {
    expect(decayed(4, 29_999, 30_000)).toBe(4);
    expect(decayed(4, 30_000, 30_000)).toBe(3);
    expect(decayed(4, 95_000, 30_000)).toBe(1);
    expect(decayed(2, 1e9, 30_000)).toBe(0);
    const { d, feed, advance } = setup();
    for (let i = 0; i < 3; i++) advance(feed(0, times(3, 503))!.durationMs); // ejections: 1, 2, 3
    advance(60_000); // behaves for two maxEjectionMs
    expect(d.view(0).ejections).toBe(1);
    expect(feed(0, times(3, 503))).toMatchObject({ ejections: 2, durationMs: 2000 });
  });
});

describe('the cap on ejected nodes', () => {
  it.each([
    [1, 50, 0],
    [1, 100, 0],
    [2, 50, 1],
    [2, 49, 0],
    [2, 100, 2],
    [3, 50, 1],
    [4, 50, 2],
    [10, 10, 1],
    [3, 0, 0],
  ])('%i nodes at %i %% may have %i out', (nodes, percent, allowed) => {
    expect(maxEjected(nodes, percent)).toBe(allowed);
  });

  it('detects but does not eject a second node of two at 50 %', () => {
    const { d, feed } = setup(2);
    expect(feed(0, times(3, 503))).toMatchObject({ enforced: true });
    expect(feed(1, times(3, 503))).toMatchObject({ enforced: false, notEnforced: 'max-ejection-percent', node: 1 });
    expect(d.ejectedCount()).toBe(1);
    expect(d.view(1)).toMatchObject({ detected: 1, enforced: 0, ejections: 1 });
  });

  it('reports a node the cap keeps in once per ejection time, then ejects it when there is room', () => {
    const { d, feed, advance } = setup(2);
    feed(0, times(3, 503)); // out for 1000 ms
    feed(1, times(3, 503)); // detected, not enforced: held for 1000 ms
    expect(feed(1, times(30, 503))).toBeUndefined();
    advance(1000);
    expect(feed(1, times(3, 503))).toMatchObject({ enforced: true, ejections: 2, durationMs: 2000 });
    expect(d.view(1)).toMatchObject({ detected: 2, enforced: 1 });
  });

  it('never ejects the only node of a cluster, and counts the detection', () => {
    const { d, feed } = setup(1, { maxEjectionPercent: 100 });
    expect(feed(0, times(3, 'refused'))).toMatchObject({ enforced: false, notEnforced: 'max-ejection-percent' });
    expect(d.ejected(0)).toBe(false);
    expect(d.view(0)).toMatchObject({ detected: 1, enforced: 0 });
  });

  it('ejects the second node once the first is back', () => {
    const { feed, advance } = setup(2);
    feed(0, times(3, 503));
    advance(1000);
    expect(feed(1, times(3, 503))).toMatchObject({ enforced: true, node: 1 });
  });
});

describe('dry run', () => {
  it('detects and counts as enforcement would, never ejects', () => {
    const { d, feed, advance } = setup(2, { enforcing: false });
    expect(feed(0, times(3, 503))).toMatchObject({ enforced: false, notEnforced: 'dry-run', durationMs: 1000 });
    expect(d.ejected(0)).toBe(false);
    // While it would have been out, its failures would not have happened: nothing new.
    expect(feed(0, times(9, 503))).toBeUndefined();
    advance(1000);
    expect(feed(0, times(3, 503))).toMatchObject({ enforced: false, notEnforced: 'dry-run', ejections: 2, durationMs: 2000 });
    expect(d.ejectedCount()).toBe(0);
    expect(d.view(0)).toMatchObject({ detected: 2, enforced: 0, lastReason: 'consecutive-gateway-failure' });
  });
});

describe('recovery', () => {
  it('a node back from ejection needs a full run of failures to be ejected again', () => {
    const { d, feed, advance } = setup();
    feed(0, times(3, 503));
    advance(1000);
    expect(d.ejected(0)).toBe(false);
    expect(feed(0, [503, 503])).toBeUndefined();
    expect(feed(0, [200, 503, 503])).toBeUndefined();
    expect(d.view(0)).toMatchObject({ consecutiveGatewayFailure: 2, consecutive5xx: 2, ejections: 1, enforced: 1 });
  });

  it('a reload changes the thresholds without forgetting the counts', () => {
    const { d, feed } = setup();
    feed(0, [503, 503]);
    d.configure({ ...POLICY, consecutiveGatewayFailure: 10 });
    expect(feed(0, [503])).toBeUndefined();
    expect(d.view(0).consecutiveGatewayFailure).toBe(3);
  });
});
