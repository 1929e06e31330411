// A config file that is far too big (or too long a list, or a huge value) is refused quickly with
// exit 2 and a short message: it must not exhaust memory or echo megabytes to stderr.
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/process.js';

const head = `listen: { host: 127.0.0.1, port: 0 }
backends:
  legacy: { upstreams: ['http://127.0.0.1:9001'] }
  candidate: { upstreams: ['http://127.0.0.1:9101'] }
`;

it('refuses a 50 MB config file before parsing it', async () => {
  const file = writeConfig(head);
  const route = '  - { name: r, match: { pathPrefix: /x }, candidatePercent: 0 }\n';
  writeFileSync(file, head + 'routes:\n' + route.repeat(Math.ceil((50 * 1024 * 1024) / route.length)));
  const r = await runCli(['validate', '--config', file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/config file is 50\.\d MB; the limit is 4 MB/);
});

it('refuses more than 10000 routes', async () => {
  const routes = Array.from({ length: 10_001 }, (_, i) => `  - { name: r${i}, candidatePercent: 0 }\n`).join('');
  const r = await runCli(['validate', '--config', writeConfig(head + 'routes:\n' + routes)]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/routes: must have at most 10000 items, got 10001/);
});

it('quotes at most 80 characters of a wrong value', async () => {
  const huge = 'z'.repeat(3 * 1024 * 1024);
  const r = await runCli(['validate', '--config', writeConfig(`${head}routes:\n  - { name: r, candidatePercent: ${huge} }\n`)]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`routes[0].candidatePercent: must be a number, got "${'z'.repeat(80)}…"`);
  expect(r.stderr.length).toBeLessThan(2000);
});
