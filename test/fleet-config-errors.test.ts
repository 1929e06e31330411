// Bad input in fleet mode: an unreachable state.redis.url refuses to start (exit 2, naming the
// field) unless state.redis.optional; a state written by a newer cutover is refused, never
// overwritten.
import { expect, it } from 'vitest';
import { redisAvailable, startRedis, freePort } from './helpers/redis.js';
import { runCli, startProxyProcess, writeConfig } from './helpers/process.js';

const config = (url: string, extra: Record<string, unknown> = {}) =>
  writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: ['http://127.0.0.1:9'] }, candidate: { upstreams: ['http://127.0.0.1:9'] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    state: { redis: { url, ...extra } },
  });

it('an unreachable Redis at start exits 2 and names state.redis.url', async () => {
  const port = await freePort();
  const r = await runCli(['start', '--config', config(`redis://127.0.0.1:${port}`)]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/state\.redis\.url: cannot reach redis:\/\/127\.0\.0\.1:\d+/);
});

it('with state.redis.optional it starts on its local copy, degraded', async () => {
  const port = await freePort();
  const p = await startProxyProcess(config(`redis://127.0.0.1:${port}`, { optional: true }));
  try {
    const admin = await p.adminUrl();
    const status = (await (await fetch(`${admin}/api/v1/status`)).json()) as { fleet: { degraded: boolean } };
    expect(status.fleet.degraded).toBe(true);
  } finally {
    await p.stop();
  }
});

it('a wrong URL scheme is a config error naming the field', async () => {
  const r = await runCli(['validate', '--config', config('http://127.0.0.1:6379')]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/state\.redis\.url: must match/);
});

it.runIf(redisAvailable())('a state from a newer cutover is refused and left as it is', async () => {
  const redis = await startRedis();
  try {
    const { Redis } = await import('ioredis');
    const c = new Redis(redis.url);
    await c.hset('cutover:state', 'meta', JSON.stringify({ version: 99 }), 'route:default', JSON.stringify({ candidatePercent: 42 }));
    await c.set('cutover:generation', '7');
    const r = await runCli(['start', '--config', config(redis.url)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/written by a newer cutover \(state version 99; this one understands 1\)/);
    expect(await c.hget('cutover:state', 'route:default')).toBe(JSON.stringify({ candidatePercent: 42 }));
    expect(await c.get('cutover:generation')).toBe('7');
    c.disconnect();
  } finally {
    await redis.stop();
  }
});
