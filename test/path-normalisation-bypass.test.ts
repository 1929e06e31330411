// Route matching sees the normalised path (RFC 3986 6.2.2): encoded or dotted spellings of
// /secure/ cannot slip past a route that keeps /secure/ on legacy, and the backend receives the
// path that was routed.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, startProxy, testConfig, type TestBackend, type TestProxy } from './helpers/servers.js';
import { bodyOf, rawExchange, rawGet, statusOf } from './helpers/raw.js';

let legacy: TestBackend;
let candidate: TestBackend;
let proxy: TestProxy;
let port: number;
beforeAll(async () => {
  // Each backend answers with its name and the path it received.
  legacy = await startBackend((req, res) => res.end(`legacy ${req.url}`));
  candidate = await startBackend((req, res) => res.end(`candidate ${req.url}`));
  proxy = await startProxy(
    testConfig([legacy.url], [candidate.url], {
      routes: [
        { name: 'secure', match: { pathPrefix: '/secure/' }, candidatePercent: 0 },
        { name: 'rest', match: { pathPrefix: '/' }, candidatePercent: 100 },
      ],
    }),
  );
  port = (proxy.app.proxy.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await proxy.close();
  await legacy.close();
  await candidate.close();
});

describe('spellings of /secure/x reach legacy as /secure/x', () => {
  it.each([
    '/secure/x',
    '/%73ecure/x',
    '/%73%65%63%75%72%65/x',
    '/cand/../secure/x',
    '/x/%2e%2e/secure/x',
    '/x/%2E%2E/secure/x',
    '/x/.%2e/secure/x',
    '/./secure/x',
    '/%2e/secure/x',
    '//secure/x',
    '/secure//x',
    '/secure/y/../x',
  ])('%s', async (path) => {
    const raw = await rawExchange(port, rawGet(path));
    expect(statusOf(raw)).toBe(200);
    expect(bodyOf(raw)).toBe('legacy /secure/x');
  });
});

it('keeps the query as sent and upper-cases other escapes', async () => {
  const raw = await rawExchange(port, rawGet('/%73ecure/%c3%a9?a=%2e%2e/b&c=..'));
  expect(bodyOf(raw)).toBe('legacy /secure/%C3%A9?a=%2e%2e/b&c=..');
});

it('leaves an ordinary path alone', async () => {
  expect(bodyOf(await rawExchange(port, rawGet('/public/a.b/c?x=1')))).toBe('candidate /public/a.b/c?x=1');
});

describe('refuses with 400 what cannot be routed safely', () => {
  it.each(['/../secure/x', '/..', '/x/../../secure/x', '/%2e%2e/secure/x', '/secure%2Fx', '/x%2f..%2fsecure/x', '/secure%5Cx', '/secure\\x', '/bad%zz', '/bad%'])(
    '%s',
    async (path) => {
      const hitsBefore = legacy.hits + candidate.hits;
      const raw = await rawExchange(port, rawGet(path));
      expect(statusOf(raw)).toBe(400);
      expect(bodyOf(raw)).toContain('"code":"bad_path"');
      expect(legacy.hits + candidate.hits).toBe(hitsBefore);
    },
  );
});
