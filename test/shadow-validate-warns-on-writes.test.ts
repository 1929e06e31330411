// `cutover validate` accepts a shadow that copies writes, and warns that they reach both systems.
import { expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/process.js';

const config = (methods?: string[]) => ({
  listen: { host: '127.0.0.1', port: 0 },
  backends: { legacy: { upstreams: ['http://127.0.0.1:1'] }, candidate: { upstreams: ['http://127.0.0.1:2'] } },
  routes: [{ name: 'orders', match: { pathPrefix: '/' }, candidatePercent: 0, shadow: { percent: 5, ...(methods ? { methods } : {}) } }],
});

it('warns, exit 0, when a shadow lists POST; stays quiet for the default methods', async () => {
  const writes = await runCli(['validate', '--config', writeConfig(config(['GET', 'POST']))]);
  expect(writes.code).toBe(0);
  expect(writes.stderr).toContain('warning: routes.orders.shadow.methods lists POST: those requests reach both systems');
  const reads = await runCli(['validate', '--config', writeConfig(config())]);
  expect(reads.code).toBe(0);
  expect(reads.stderr).toBe('');
});
