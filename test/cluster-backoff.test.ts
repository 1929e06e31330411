import { describe, expect, it } from 'vitest';
import { pickNode } from '../src/proxy/cluster.js';

describe('node choice inside a cluster', () => {
  it('goes round robin over healthy nodes', () => {
    const nodes = [{ downUntil: 0 }, { downUntil: 0 }, { downUntil: 0 }];
    expect([0, 1, 2, 3].map((c) => pickNode(nodes, c, 100))).toEqual([0, 1, 2, 0]);
  });

  it('skips an ejected node until its ejection ends', () => {
    const nodes = [{ downUntil: 0 }, { downUntil: 2000 }];
    expect(pickNode(nodes, 1, 1000)).toBe(0);
    expect(pickNode(nodes, 1, 2000)).toBe(1);
  });

  it('probes the node whose ejection ends first when all are out', () => {
    const nodes = [{ downUntil: 5000 }, { downUntil: 3000 }, { downUntil: 4000 }];
    expect(pickNode(nodes, 0, 1000)).toBe(1);
  });

  it('sends a retry to another node than the one that failed', () => {
    const nodes = [{ downUntil: 0 }, { downUntil: 0 }, { downUntil: 0 }];
    expect(pickNode(nodes, 1, 100, 1)).toBe(2);
    expect(pickNode([{ downUntil: 0 }, { downUntil: 0 }], 0, 100, 0)).toBe(1);
    // Every other node out: the one back soonest; no other node at all: the same one.
    expect(pickNode([{ downUntil: 0 }, { downUntil: 900 }, { downUntil: 800 }], 0, 100, 0)).toBe(2);
    expect(pickNode([{ downUntil: 0 }], 0, 100, 0)).toBe(0);
  });
});
