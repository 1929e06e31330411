// A sticky user the ramp sent to the candidate stays there through every later step: raising the
// weight only adds users to the candidate, it never moves one back to legacy.
import { expect, it } from 'vitest';
import { admin, startTwoBackendProxy } from './helpers/servers.js';

it('keeps every candidate user on the candidate through 5 → 25 → 50 → 100', async () => {
  const t = await startTwoBackendProxy(
    [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0, sticky: { header: 'x-user-id' }, ramp: { steps: [5, 25, 50, 100], holdSeconds: 3600 } }],
  );
  const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);
  const onCandidate = new Set<string>();
  try {
    await admin(t.proxy.admin, 'POST', '/api/v1/ramp/start');
    for (const percent of [5, 25, 50, 100]) {
      expect(t.proxy.app.control.percent('default')).toBe(percent);
      const now = new Set<string>();
      for (const u of users) if ((await t.http.get(t.proxy.url, { 'x-user-id': u })).body === 'candidate') now.add(u);
      for (const u of onCandidate) expect(now.has(u), `${u} moved back to legacy at ${percent} %`).toBe(true);
      expect(now.size).toBeGreaterThan(onCandidate.size);
      onCandidate.clear();
      for (const u of now) onCandidate.add(u);
      // The next step now (the hold is an hour): promote is the operator's explicit go.
      if (percent < 100) expect((await admin(t.proxy.admin, 'POST', '/api/v1/ramp/promote')).status).toBe(200);
    }
    expect(onCandidate.size).toBe(users.length);
  } finally {
    await t.close();
  }
}, 60_000);
