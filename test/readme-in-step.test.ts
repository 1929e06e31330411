// The README's configuration reference and metrics list stay in step with the code.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigSchema } from '../src/config/schema.js';
import { admin, named, startProxy, testConfig, type TestBackend, type TestProxy } from './helpers/servers.js';

const readme = readFileSync('README.md', 'utf8');
const section = (title: string) => {
  const start = readme.indexOf(`## ${title}`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
};

/** Every field name in the schema, e.g. "listen", "host", "candidatePercent". */
function fieldNames(schema: any, out = new Set<string>()): Set<string> {
  if (!schema || typeof schema !== 'object') return out;
  for (const [k, v] of Object.entries<any>(schema.properties ?? {})) {
    out.add(k);
    fieldNames(v, out);
  }
  fieldNames(schema.items, out);
  for (const s of schema.anyOf ?? []) fieldNames(s, out);
  return out;
}

it('documents every config field in the configuration reference', () => {
  const reference = section('Configuration reference');
  const missing = [...fieldNames(ConfigSchema)].filter((f) => !new RegExp(`\\b${f}\\b`).test(reference));
  expect(missing).toEqual([]);
});

let backend: TestBackend;
let proxy: TestProxy;
beforeAll(async () => {
  backend = await named('b');
  proxy = await startProxy(testConfig([backend.url], [backend.url], { guard: { enabled: true } }));
});
afterAll(async () => {
  await proxy.close();
  await backend.close();
});

it('lists every cutover_* metric that /metrics exposes', async () => {
  const text = (await admin(proxy.admin, 'GET', '/metrics')).body as string;
  const names = new Set([...text.matchAll(/^# TYPE (cutover_\w+)/gm)].map((m) => m[1]));
  expect(names.size).toBeGreaterThan(10);
  const list = section('Metrics');
  expect([...names].filter((n) => !list.includes(`\`${n}\``))).toEqual([]);
});
