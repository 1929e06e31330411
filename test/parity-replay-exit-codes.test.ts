// `cutover parity` replays a cases file against real legacy and candidate servers: exit 0 when
// everything matches, 1 on a mismatch (naming the differing field) or a backend that cannot be
// reached, 2 on bad input naming the line and field; JUnit XML for CI.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { runCli, writeConfig } from './helpers/process.js';
import { deadPort, startBackend, track } from './helpers/servers.js';

let clock = 1_700_000_000_000;

/** An orders API; the candidate computes /orders/1's total differently and stamps its own ts. */
function orders(candidate: boolean) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const url = req.url ?? '/';
      if (url === '/orders/1') return res.end(JSON.stringify({ id: 1, items: [{ sku: 'a', qty: 2 }], total: candidate ? 41.5 : 42, ts: clock++ }));
      if (url === '/orders/2') return res.end(JSON.stringify({ id: 2, total: 10, ts: clock++ }));
      if (url === '/echo') return res.end(JSON.stringify({ method: req.method, body, ts: clock++ }));
      res.statusCode = 404;
      res.end(JSON.stringify({ error: 'not_found', ts: clock++ }));
    });
  };
}

function files(cases: string, candidate: string, legacy: string, extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-parity-'));
  const config = writeConfig(
    {
      backends: { legacy: { upstreams: [legacy] }, candidate: { upstreams: [candidate], ...extra } },
      routes: [
        { name: 'orders', match: { pathPrefix: '/orders/' }, candidatePercent: 0, shadow: { compare: { ignore: ['/ts'] } } },
        { name: 'rest', match: { pathPrefix: '/' }, candidatePercent: 0 },
      ],
    },
    dir,
  );
  const casesFile = join(dir, 'cases.jsonl');
  writeFileSync(casesFile, cases);
  return { dir, config, casesFile };
}

const MATCHING = ['{"name":"order 2","path":"/orders/2"}', '', '{"method":"POST","path":"/orders/2","headers":{"content-type":"application/json"},"body":"{}"}'].join('\n') + '\n';
const WITH_WRONG_TOTAL = MATCHING + '{"name":"order 1","path":"/orders/1"}\n';

async function servers() {
  const legacy = await track(startBackend(orders(false)));
  const candidate = await track(startBackend(orders(true)));
  return { legacy: legacy.url, candidate: candidate.url };
}

it('exits 0 when every case matches, the differing ts ignored by the route rule', async () => {
  const { legacy, candidate } = await servers();
  const f = files(MATCHING, candidate, legacy);
  const r = await runCli(['parity', '--cases', f.casesFile, '--config', f.config]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('parity: 2 cases, 2 matched, 0 mismatched, 0 errors');
}, 30_000);

it('exits 1 on a wrong total and names /total with both values; without the ignore rule ts differs too', async () => {
  const { legacy, candidate } = await servers();
  const f = files(WITH_WRONG_TOTAL, candidate, legacy);
  const r = await runCli(['parity', '--cases', f.casesFile, '--config', f.config]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/MISMATCH order 1 \(GET \/orders\/1\)/);
  expect(r.stdout).toMatch(/\/total: legacy 42, candidate 41\.5/);
  expect(r.stdout).not.toContain('/ts');
  expect(r.stdout).toContain('parity: 3 cases, 2 matched, 1 mismatched, 0 errors');

  // --route rest has no compare rules: the timestamp is a difference as well.
  const plain = await runCli(['parity', '--cases', f.casesFile, '--config', f.config, '--route', 'rest', '--json']);
  expect(plain.code).toBe(1);
  const json = JSON.parse(plain.stdout);
  expect(json).toMatchObject({ cases: 3, matched: 0, mismatched: 3, errors: 0 });
  const order1 = json.results.find((x: { name?: string }) => x.name === 'order 1');
  expect(order1.route).toBe('rest');
  expect(order1.differences.map((d: { path: string }) => d.path).sort()).toEqual(['/total', '/ts']);
}, 30_000);

it('exits 2 on bad input, naming the line and the field', async () => {
  const { legacy, candidate } = await servers();
  const bad = async (cases: string, args: string[] = []) => {
    const f = files(cases, candidate, legacy);
    const r = await runCli(['parity', '--cases', f.casesFile, '--config', f.config, ...args]);
    expect(r.code).toBe(2);
    return r.stderr;
  };
  // Each is its own process; they run side by side.
  const [path, header, json, method, base64, unknown, route, space] = await Promise.all([
    bad('{"path":"/orders/2"}\n\n{"path":"orders/2"}\n'),
    bad('{"path":"/a","headers":{"x-n":5}}\n'),
    bad('{"path":"/a"}\n{"path":\n'),
    bad('{"path":"/a","method":"get"}\n'),
    bad('{"path":"/a","bodyBase64":"%%%"}\n'),
    bad('{"path":"/a","verb":"GET"}\n'),
    bad('{"path":"/a"}\n', ['--route', 'nope']),
    bad('{"path":"/a b"}\n'),
  ]);
  expect(path).toMatch(/cases\.jsonl line 3: path: must be a string starting with \//);
  expect(header).toMatch(/cases\.jsonl line 1: headers\.x-n: must be a string/);
  expect(json).toMatch(/cases\.jsonl line 2: not valid JSON/);
  expect(method).toMatch(/line 1: method: /);
  expect(base64).toMatch(/line 1: bodyBase64: must be a base64 string/);
  expect(unknown).toMatch(/line 1: verb: unknown field/);
  expect(route).toMatch(/--route nope: no such route/);
  expect(space).toMatch(/line 1: path: must not contain spaces/);
  const [missing, noConfig] = await Promise.all([
    runCli(['parity', '--cases', join(tmpdir(), 'no-such-dir-cutover', 'cases.jsonl'), '--config', files(MATCHING, candidate, legacy).config]),
    runCli(['parity', '--cases', files(MATCHING, candidate, legacy).casesFile, '--config', join(tmpdir(), 'no-such-cutover.yaml')]),
  ]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/cannot read the file/);
  expect(noConfig.code).toBe(2);
  expect(noConfig.stderr).toMatch(/no-such-cutover\.yaml/);
}, 30_000);

it('sends a path as a path on the node of each cluster (never as another host), without hop-by-hop headers', async () => {
  const seen: string[] = [];
  const recorder = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${name} ${req.url} ${req.headers.connection ?? ''} ${req.headers['x-case'] ?? ''}`);
    res.setHeader('content-type', 'text/plain');
    res.end('same');
  };
  const legacy = await track(startBackend(recorder('legacy')));
  const candidate = await track(startBackend(recorder('candidate')));
  const f = files('{"path":"//127.0.0.1:1/x?q=1","headers":{"connection":"close","x-case":"7"}}\n', candidate.url, legacy.url);
  const r = await runCli(['parity', '--cases', f.casesFile, '--config', f.config]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(seen.sort()).toEqual(['candidate //127.0.0.1:1/x?q=1 keep-alive 7', 'legacy //127.0.0.1:1/x?q=1 keep-alive 7']);
}, 30_000);

it('writes JUnit XML: one testcase per case, a failure with the differences, everything escaped', async () => {
  const { legacy, candidate } = await servers();
  const f = files(WITH_WRONG_TOTAL.replace('"name":"order 1"', '"name":"order <1> & \\"co\\""'), candidate, legacy);
  const out = join(f.dir, 'parity.xml');
  const r = await runCli(['parity', '--cases', f.casesFile, '--config', f.config, '--junit', out]);
  expect(r.code).toBe(1);
  const xml = readFileSync(out, 'utf8');
  expect(xml).toMatch(/<testsuite name="cutover parity" tests="3" failures="1" errors="0"/);
  expect([...xml.matchAll(/<testcase\b/g)]).toHaveLength(3);
  const failures = [...xml.matchAll(/<failure message="([^"]*)"[^>]*>([^<]*)<\/failure>/g)];
  expect(failures).toHaveLength(1);
  expect(failures[0][1]).toContain('/total');
  expect(failures[0][2]).toContain('/total: legacy 42, candidate 41.5');
  expect(xml).toContain('name="order &lt;1&gt; &amp; &quot;co&quot;"');
  // Nothing unescaped: every & starts an entity, and no < sits inside an attribute or text.
  expect(xml.replace(/&(amp|lt|gt|quot|apos);/g, '')).not.toContain('&');
}, 30_000);

it('a refused candidate, and a candidate that never answers, are errors (exit 1) with the reason', async () => {
  const { legacy } = await servers();
  const refused = files(MATCHING, await deadPort(), legacy);
  const r = await runCli(['parity', '--cases', refused.casesFile, '--config', refused.config]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/ERROR order 2 \(GET \/orders\/2\): candidate: connection refused/);
  expect(r.stdout).toContain('parity: 2 cases, 0 matched, 0 mismatched, 2 errors');

  const hanging = await track(startBackend(() => {})); // reads the request, never answers
  const slow = files('{"path":"/orders/2"}\n', hanging.url, legacy, { timeouts: { responseMs: 200 } });
  const t = await runCli(['parity', '--cases', slow.casesFile, '--config', slow.config, '--json']);
  expect(t.code).toBe(1);
  const json = JSON.parse(t.stdout);
  expect(json).toMatchObject({ cases: 1, errors: 1 });
  expect(json.results[0].error).toMatch(/^candidate: timed out after 200 ms/);

  // A body past the 8 MiB cap is not cut and compared: the case is an error.
  const huge = await track(startBackend((req, res) => {
    req.resume();
    res.end(Buffer.alloc(9 * 1024 * 1024, 'a'));
  }));
  const big = files('{"path":"/orders/2"}\n', huge.url, legacy);
  const b = await runCli(['parity', '--cases', big.casesFile, '--config', big.config]);
  expect(b.code).toBe(1);
  expect(b.stdout).toMatch(/ERROR GET \/orders\/2: candidate: response body over 8388608 bytes/);
}, 30_000);
