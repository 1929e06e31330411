// kill -9 in the middle of a burst of admin changes never loses an acknowledged change: the state
// file is always whole JSON, and per route never older than the last percentage answered 200.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { startProxyProcess, writeConfig } from './helpers/process.js';

const ROUNDS = 10;
const ROUTES = ['api', 'default'];

/** Sets `route` to 1, 2, 3 … one request at a time until the process dies; returns the last answered 200. */
async function ramp(adminUrl: string, route: string): Promise<number> {
  let acknowledged = 0;
  for (let p = 1; p <= 100; p++) {
    try {
      const res = await fetch(`${adminUrl}/api/v1/split`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ route, candidatePercent: p }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`PUT answered ${res.status}`);
      acknowledged = p;
    } catch (err) {
      if ((err as Error).message.startsWith('PUT answered')) throw err;
      return acknowledged; // the connection died with the process
    }
  }
  return acknowledged;
}

it('never loses an acknowledged change to kill -9', async () => {
  let acknowledgedInAll = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const configFile = writeConfig({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
      routes: ROUTES.map((name) => ({ name, match: { pathPrefix: name === 'default' ? '/' : `/${name}` }, candidatePercent: 0 })),
      guard: { enabled: false },
      log: { level: 'info' },
    });
    const stateFile = join(dirname(configFile), 'cutover-state.json');
    const proxy = await startProxyProcess(configFile);
    try {
      const adminUrl = await proxy.adminUrl();
      const ramps = ROUTES.map((route) => ramp(adminUrl, route));
      // A random point in the burst: before the first answer, in the middle, or near its end.
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      proxy.child.kill('SIGKILL');
      const acknowledged = await Promise.all(ramps);
      await proxy.exited;

      const onDisk = JSON.parse(readFileSync(stateFile, 'utf8'));
      ROUTES.forEach((route, i) => {
        expect(onDisk.routes[route].candidatePercent, `round ${round}, ${route}`).toBeGreaterThanOrEqual(acknowledged[i]);
        acknowledgedInAll += acknowledged[i];
      });
    } finally {
      await proxy.stop('SIGKILL');
    }
  }
  // The kill landed after some answers in at least one round, or the test proved nothing.
  expect(acknowledgedInAll).toBeGreaterThan(0);
}, 180_000);
