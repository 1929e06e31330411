// Every config error kind exits 2 and names the field path and the rule.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { ConfigSchema } from '../src/config/schema.js';
import { runCli, writeConfig } from './helpers/process.js';

const base = () => ({
  listen: { host: '127.0.0.1', port: 0 },
  backends: { legacy: { upstreams: ['http://127.0.0.1:9001'] }, candidate: { upstreams: ['http://127.0.0.1:9101'] } },
  routes: [
    { name: 'users', match: { pathPrefix: '/api' }, candidatePercent: 10 },
    { name: 'default', match: { pathPrefix: '/' }, candidatePercent: 5 },
  ],
});

const cases: Array<[string, (c: any) => void, RegExp]> = [
  ['percent above 100', (c) => (c.routes[1].candidatePercent = 150), /routes\[1\]\.candidatePercent: must be <= 100, got 150/],
  ['percent below 0', (c) => (c.routes[0].candidatePercent = -1), /routes\[0\]\.candidatePercent: must be >= 0, got -1/],
  ['percent not a number', (c) => (c.routes[0].candidatePercent = 'abc'), /routes\[0\]\.candidatePercent: must be a number, got "abc"/],
  ['bad upstream URL', (c) => (c.backends.legacy.upstreams = ['not a url']), /backends\.legacy\.upstreams\[0\]: must be an absolute URL/],
  ['upstream with a path', (c) => (c.backends.candidate.upstreams = ['http://10.0.0.1:80/api']), /backends\.candidate\.upstreams\[0\]: must be an origin only/],
  ['unknown key', (c) => (c.routes[0].weight = 3), /routes\[0\]\.weight: unknown key/],
  ['unknown top-level key', (c) => (c.listn = {}), /listn: unknown key/],
  ['duplicate route name', (c) => (c.routes[1].name = 'users'), /routes\[1\]\.name: must be unique, "users" is already routes\[0\]\.name/],
  ['missing field', (c) => delete c.routes[0].candidatePercent, /routes\[0\]\.candidatePercent: is required/],
  ['missing backend', (c) => delete c.backends.candidate, /backends\.candidate: is required/],
  ['no upstreams', (c) => (c.backends.legacy.upstreams = []), /backends\.legacy\.upstreams: must have at least 1 item/],
  ['timeout of zero', (c) => (c.backends.legacy.timeouts = { responseMs: 0 }), /backends\.legacy\.timeouts\.responseMs: must be >= 1, got 0/],
  ['sticky with both', (c) => (c.routes[1].sticky = { header: 'x-user', cookie: 's' }), /routes\[1\]\.sticky: must set exactly one of header or cookie/],
  ['path prefix without slash', (c) => (c.routes[0].match.pathPrefix = 'api'), /routes\[0\]\.match\.pathPrefix: must match \^\//],
  ['override header neither name nor false', (c) => (c.overrideHeader = true), /overrideHeader: must be one of/],
  ['port out of range', (c) => (c.listen.port = 70000), /listen\.port: must be <= 65535, got 70000/],
];

describe('config validation', () => {
  it.each(cases)('%s: `cutover validate` exits 2 and names the field', async (_name, mutate, expected) => {
    const c = base();
    mutate(c);
    expect(() => parseConfig(c)).toThrow(expected);
    const r = await runCli(['validate', '--config', writeConfig(c)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
  });

  it('`cutover start` with an invalid config exits 2 before listening', async () => {
    const c = base();
    c.routes[1].candidatePercent = 150;
    const r = await runCli(['start', '--config', writeConfig(c)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/routes\[1\]\.candidatePercent: must be <= 100, got 150/);
  });

  it('reports bad YAML with its line, and a missing file', async () => {
    const bad = await runCli(['validate', '--config', writeConfig('listen: {\nroutes: [')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not valid YAML \(line \d+\)/);
    const missing = await runCli(['validate', '--config', '/nonexistent/cutover.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the file/);
  });

  it('lists every problem at once, and never writes into the caller object', () => {
    const c = base() as any;
    c.routes[0].candidatePercent = 101;
    c.routes[1].extra = 1;
    const snapshot = JSON.stringify(c);
    try {
      parseConfig(c);
      expect.unreachable();
    } catch (e) {
      expect((e as { issues: string[] }).issues).toHaveLength(2);
    }
    const ok = parseConfig(base());
    expect(ok.backends.legacy.timeouts).toEqual({ connectMs: 2000, responseMs: 30000 });
    expect(JSON.stringify(c)).toBe(snapshot);
  });

  it('accepts the shipped configs and keeps an explicit 0', async () => {
    for (const f of ['config/cutover.yaml', 'config/demo.yaml']) {
      const r = await runCli(['validate', '--config', f]);
      expect(r.code, r.stderr).toBe(0);
    }
    const c = base();
    c.routes[0].candidatePercent = 0;
    expect(parseConfig(c).routes[0].candidatePercent).toBe(0);
  });

  it('ships config/cutover.schema.json generated from the schema', () => {
    const shipped = JSON.parse(readFileSync('config/cutover.schema.json', 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(ConfigSchema)));
  });
});
