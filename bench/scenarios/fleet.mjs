// The fleet scenario: two cutover replicas sharing one Redis (fleet mode), load through both, the
// candidate starts failing every request; measured: from the candidate's first failing response to
// the last request any replica sent it (both times taken by the candidate backend itself), i.e.
// how long the leader's merged judgment plus the revert's way through Redis to the other replica
// take. Fresh Redis, backends and replicas per run.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backendCounts, setFault, startBackend } from '../lib/backends.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { get } from '../lib/http.mjs';
import { startPacedLoad } from '../lib/paced-load.mjs';

const RATE_PER_REPLICA = 250;
const CANDIDATE_PERCENT = 10;
const HEALTHY_SECONDS = 8;
const REVERT_TIMEOUT_SECONDS = 20;
const RUNS = 3;

export const fleetBudgetSeconds = () => RUNS * (HEALTHY_SECONDS + REVERT_TIMEOUT_SECONDS + 20) + 30;

async function freePort() {
  const s = createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export async function fleetScenario(ctx) {
  const result = { scenario: 'fleet', replicas: 2, ratePerReplica: RATE_PER_REPLICA, candidatePercent: CANDIDATE_PERCENT, runs: [], failures: [] };
  for (let i = 1; i <= RUNS; i++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    try {
      result.runs.push(await oneRun(ctx, i));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.failures.push(`run ${i}: ${err.message}`);
    }
  }
  const times = result.runs.filter((r) => r.reverted).map((r) => r.failureToLastRequestMs);
  result.summary = { reverted: times.length, runs: RUNS, maxMs: times.length ? Math.max(...times) : null, meanMs: times.length ? times.reduce((a, b) => a + b, 0) / times.length : null };
  return result;
}

async function oneRun(ctx, i) {
  const port = await freePort();
  const redis = await ctx.procs.start({
    name: `redis ${i}`,
    cmd: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    ready: (line) => (line.includes('Ready to accept connections') ? true : undefined),
  });
  const legacy = await startBackend(ctx, 'legacy');
  const candidate = await startBackend(ctx, 'candidate');
  const replicas = [];
  const loads = [];
  try {
    for (const name of ['a', 'b']) {
      replicas.push(
        await startCutover(ctx, {
          legacy,
          candidate,
          candidatePercent: CANDIDATE_PERCENT,
          name: `fleet-${i}-${name}`,
          admin: true,
          stateFile: join(ctx.tmpDir, `fleet-${i}-${name}`, 'state.json'),
          redis: { url: `redis://127.0.0.1:${port}`, key: 'bench' },
        }),
      );
    }
    for (const r of replicas) loads.push(startPacedLoad({ url: r.url, rate: RATE_PER_REPLICA, connections: 10, maxSeconds: HEALTHY_SECONDS + REVERT_TIMEOUT_SECONDS + 5, signal: ctx.signal }));
    await sleep(HEALTHY_SECONDS * 1000, undefined, { signal: ctx.signal });
    const leaders = await Promise.all(replicas.map(async (r) => JSON.parse((await get(`${r.adminUrl}/api/v1/status`)).body).fleet.leading));
    await setFault(candidate, 'errors');
    const faultAt = Date.now();
    let reverted = false;
    while (Date.now() - faultAt < REVERT_TIMEOUT_SECONDS * 1000) {
      await sleep(50, undefined, { signal: ctx.signal });
      const states = await Promise.all(replicas.map(async (r) => JSON.parse((await get(`${r.adminUrl}/api/v1/guard`)).body).routes.default.state));
      if (states.every((s) => s === 'reverted')) {
        reverted = true;
        break;
      }
    }
    await sleep(2000, undefined, { signal: ctx.signal });
    for (const l of loads.splice(0)) await l.stop();
    const c = await backendCounts(candidate);
    return {
      run: i,
      reverted,
      leader: leaders[0] ? 'a' : leaders[1] ? 'b' : 'none',
      candidateFailed: c.failed,
      failureToLastRequestMs: reverted && c.firstFailureAt !== null ? c.lastRequestAt - c.firstFailureAt : null,
    };
  } finally {
    for (const l of loads) await l.stop();
    await Promise.all([...replicas, legacy, candidate, { proc: redis }].map((p) => ctx.procs.stop(p.proc)));
  }
}
