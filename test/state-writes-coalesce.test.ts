// A burst of concurrent admin changes: every one is answered once it is on disk, but changes made
// while a write is in flight share the next write (the latest state wins), so there are fewer
// writes than changes and the file ends with what is in effect.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { admin, named, startProxy, testConfig } from './helpers/servers.js';

const CHANGES = 40;

it('answers every change of a burst persisted, with fewer writes than changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-coalesce-'));
  const file = join(dir, 'state.json');
  const backend = await named('b');
  try {
    const proxy = await startProxy(testConfig([backend.url], [backend.url], { state: { file } }));
    try {
      const before = proxy.app.control.persistence().writes;
      const answers = await Promise.all(
        Array.from({ length: CHANGES }, (_, i) => admin(proxy.admin, 'PUT', '/api/v1/split', { candidatePercent: i + 1, reason: `step ${i + 1}` })),
      );
      expect(answers.map((a) => [a.status, a.body.persisted])).toEqual(Array(CHANGES).fill([200, true]));
      const writes = proxy.app.control.persistence().writes - before;
      expect(writes).toBeGreaterThanOrEqual(1);
      expect(writes).toBeLessThan(CHANGES);
      const onDisk = JSON.parse(readFileSync(file, 'utf8'));
      expect(onDisk.routes.default.candidatePercent).toBe(proxy.app.control.percent('default'));
      expect(onDisk.history.filter((c: any) => c.kind === 'split')).toHaveLength(CHANGES);
      expect(readdirSync(dir)).toEqual(['state.json']);
    } finally {
      await proxy.close();
    }
  } finally {
    await backend.close();
  }
});
