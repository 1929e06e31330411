// Per-request access logs are off by default and switchable.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { client, named, startProxy, testConfig, track, waitFor } from './helpers/servers.js';

async function run(accessLog: boolean) {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _e, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const b = await track(named('b'));
  const proxy = await track(startProxy(testConfig([b.url], [b.url], { log: { level: 'info', accessLog } }), { logger: createLogger('info', stream) }));
  const http = await track(client());
  await http.get(`${proxy.url}/orders?id=1`, { 'x-request-id': 'log-me' });
  return lines;
}

it('logs nothing per request by default', async () => {
  const lines = await run(false);
  expect(lines.filter((l) => l.msg === 'request')).toEqual([]);
});

it('logs one line per request when log.accessLog is on', async () => {
  const lines = await run(true);
  await waitFor(() => lines.some((l) => l.msg === 'request'));
  expect(lines.find((l) => l.msg === 'request')).toMatchObject({ requestId: 'log-me', method: 'GET', url: '/orders?id=1', route: 'default', backend: 'legacy', status: 200, outcome: 'ok' });
});
