// YAML's .nan and .inf are numbers JSON cannot spell: the error says what the file says.
import { expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/process.js';

const yaml = (percent: string) => `listen: { host: 127.0.0.1, port: 0 }
backends:
  legacy: { upstreams: ['http://127.0.0.1:9001'] }
  candidate: { upstreams: ['http://127.0.0.1:9101'] }
routes:
  - { name: default, match: { pathPrefix: / }, candidatePercent: ${percent} }
`;

it.each([
  ['.nan', /routes\[0\]\.candidatePercent: must .*got NaN/],
  ['.inf', /routes\[0\]\.candidatePercent: must .*got Infinity/],
  ['-.inf', /routes\[0\]\.candidatePercent: must .*got -Infinity/],
])('candidatePercent: %s exits 2 naming the field, the rule and the value', async (v, expected) => {
  const r = await runCli(['validate', '--config', writeConfig(yaml(v))]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(expected);
  expect(r.stderr).not.toMatch(/got null/);
});
