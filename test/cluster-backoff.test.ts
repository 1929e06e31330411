import { describe, expect, it } from 'vitest';
import { backoffMs, pickNode } from '../src/proxy/cluster.js';

describe('node choice inside a cluster', () => {
  it('goes round robin over healthy nodes', () => {
    const nodes = [{ downUntil: 0 }, { downUntil: 0 }, { downUntil: 0 }];
    expect([0, 1, 2, 3].map((c) => pickNode(nodes, c, 100))).toEqual([0, 1, 2, 0]);
  });

  it('skips a node in back-off until it ends', () => {
    const nodes = [{ downUntil: 0 }, { downUntil: 2000 }];
    expect(pickNode(nodes, 1, 1000)).toBe(0);
    expect(pickNode(nodes, 1, 2000)).toBe(1);
  });

  it('probes the node whose back-off ends first when all are down', () => {
    const nodes = [{ downUntil: 5000 }, { downUntil: 3000 }, { downUntil: 4000 }];
    expect(pickNode(nodes, 0, 1000)).toBe(1);
  });

  it('doubles the back-off up to a cap', () => {
    expect([1, 2, 3, 4, 5, 10].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });
});
