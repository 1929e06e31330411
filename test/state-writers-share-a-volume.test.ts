// Two cutover processes that share a state volume are both PID 1 in their containers: their temp
// files must still not collide. Two stores in this one process (one pid) stand for them.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FileStateStore } from '../src/state/file-store.js';

it('lets two writers with the same pid save the same file at once, leaving one whole file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-shared-'));
  const file = join(dir, 'state.json');
  const a = new FileStateStore<{ writer: string; n: number; pad: string }>(file, () => undefined);
  const b = new FileStateStore<{ writer: string; n: number; pad: string }>(file, () => undefined);
  const pad = 'x'.repeat(64 * 1024); // big enough that interleaved writes would show
  const saves: Array<Promise<void>> = [];
  for (let n = 0; n < 20; n++) saves.push(a.save({ writer: 'a', n, pad }), b.save({ writer: 'b', n, pad }));
  const results = await Promise.allSettled(saves);
  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  const onDisk = JSON.parse(readFileSync(file, 'utf8'));
  expect(['a', 'b']).toContain(onDisk.writer);
  expect(onDisk.pad).toBe(pad);
  expect(readdirSync(dir)).toEqual(['state.json']); // no temp file left behind
});
