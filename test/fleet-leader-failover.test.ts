// The guard's leader dies (kill -9): another replica takes the lease within its TTL. A stale
// leader (its lease passed to another while it stalled) cannot write as leader: fencing.
import { expect, it } from 'vitest';
import { Control } from '../src/control/control.js';
import { rampRules } from '../src/ramp/machine.js';
import { parseConfig } from '../src/config/load.js';
import { Lease } from '../src/fleet/lease.js';
import { createLogger } from '../src/log.js';
import { RedisStateStore } from '../src/state/redis-store.js';
import { redisAvailable, startRedis } from './helpers/redis.js';
import { startProxyProcess, writeConfig } from './helpers/process.js';
import { named, waitFor } from './helpers/servers.js';

const run = redisAvailable();

it.runIf(run)('another replica leads within the lease TTL after the leader is killed', async () => {
  const redis = await startRedis();
  const backend = await named('b');
  const config = (port: number) =>
    writeConfig({
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port },
      backends: { legacy: { upstreams: [backend.url] }, candidate: { upstreams: [backend.url] } },
      routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 10 }],
      state: { redis: { url: redis.url, key: 'failover', leaseTtlMs: 2000 } },
      guard: { intervalMs: 200 },
    });
  const a = await startProxyProcess(config(0), [], { CUTOVER_REPLICA_ID: 'a' });
  const b = await startProxyProcess(config(0), [], { CUTOVER_REPLICA_ID: 'b' });
  try {
    const leader = async (p: typeof a) => {
      const url = await p.adminUrl().catch(() => undefined);
      if (!url) return undefined;
      const s = (await (await fetch(`${url}/api/v1/status`)).json()) as { fleet: { leading: boolean } };
      return s.fleet.leading;
    };
    await waitFor(async () => (await leader(a)) === true || (await leader(b)) === true, 5000, 'a leader');
    const [dead, survivor] = (await leader(a)) ? [a, b] : [b, a];
    const t0 = Date.now();
    dead.child.kill('SIGKILL');
    await dead.exited;
    await waitFor(async () => (await leader(survivor)) === true, 2000 + 1500, 'the survivor leading');
    expect(Date.now() - t0).toBeLessThan(2000 + 1500);
  } finally {
    for (const p of [a, b]) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop();
    await backend.close();
    await redis.stop();
  }
}, 30_000);

it.runIf(run)("a stale leader's guard write is refused", async () => {
  const redis = await startRedis();
  const logger = createLogger('silent');
  const config = parseConfig({
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 10 }],
  });
  const replicas = ['a', 'b'].map((name) => {
    let control!: Control;
    let lease!: Lease;
    const frozen = { now: Date.now() };
    const store = new RedisStateStore({
      url: redis.url,
      key: 'fence',
      logger,
      local: () => control.toPersisted(),
      apply: (s) => control.applyRemote(s),
      fence: () => (lease.leads() ? lease.view.value : undefined),
    });
    // a's clock stands still: it believes it still leads, as a process that stalled would.
    lease = new Lease(store.cmd, store.keys, name, 1000, logger, name === 'a' ? () => frozen.now : Date.now);
    control = new Control(config, store, logger, Date.now, rampRules);
    control.replica = name;
    return { name, store, lease, control };
  });
  const [a, b] = replicas;
  try {
    for (const r of replicas) {
      await r.store.connect();
      await r.store.readState();
    }
    await a.lease.tick();
    expect(a.lease.leads()).toBe(true);
    // a stalls past its lease; b takes over.
    await new Promise((r) => setTimeout(r, 1200));
    await b.lease.tick();
    expect(b.lease.leads()).toBe(true);
    expect(a.lease.leads()).toBe(true); // a does not know yet
    const latch = { state: 'reverted' as const, since: new Date().toISOString(), rule: 'maxErrorRate', reason: 'stale', evidence: {} };
    const stale = a.control.revert(['default'], latch, 'from a stale leader');
    const saved = await stale.saved;
    expect(saved.persisted).toBe(false);
    expect((saved as { reason: string }).reason).toMatch(/STALE_LEADER/);
    // Nothing of it reached Redis: b (and every other replica) never sees the latch.
    expect(await b.store.cmd.hget(b.store.keys.state, 'latch:default')).toBeNull();
    // The real leader's write goes through.
    const real = b.control.revert(['default'], { ...latch, reason: 'leader' }, 'from the leader');
    expect((await real.saved).persisted).toBe(true);
    expect(await b.store.cmd.hget(b.store.keys.state, 'latch:default')).toContain('leader');
  } finally {
    for (const r of replicas) {
      await r.lease.close();
      await r.store.close();
    }
    await redis.stop();
  }
});
