// The bare undici baseline: the least a Node.js proxy built like cutover can do. A node:http
// server forwards each request with undici's Pool.dispatch (the same core call cutover makes) and
// streams the answer back with backpressure; the hop-by-hop fields go (RFC 9110 section 7.6.1),
// nothing else is looked at. No routes, no split decision, no stats, no logging, no admin. The 90/10
// share between the backends is a plain counter, so that the backends see the same load as
// through cutover and nginx. What cutover costs above this is what its features cost; what this
// costs above nginx is what Node.js costs.
//
// With --with-libs it also loads the libraries cutover's single process carries (fastify with a
// prom-client /metrics on a second port, pino, hdr-histogram-js, yaml, TypeBox, jStat) and forwards
// exactly as before: what those libraries alone cost in memory, with none of cutover's own code.
//
// Run as its own process on the proxy core (`node bench/lib/bare-undici-proxy.mjs --upstream
// URL=WEIGHT ...`); startBareUndici() below does that for the bench. Prints one JSON line
// `{"msg":"proxy listening","address":...}` when ready; exits on SIGTERM/SIGINT or when stdin closes.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { addressFromLogLine } from './http.mjs';
import { pinned } from './pin.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const PROBE = fileURLToPath(new URL('./loop-delay-probe.mjs', import.meta.url));

/**
 * Start the bare proxy in front of `upstreams` ([{ url, weight }]); resolves { name, url, pid, proc,
 * startupMs }. `probe: { dir }`: preload the loop-delay probe, as startCutover does.
 */
export async function startBareUndici(ctx, { upstreams, name = 'bare-undici', withLibs = false, probe }) {
  const args = [...upstreams.flatMap((u) => ['--upstream', `${u.url}=${u.weight}`]), ...(withLibs ? ['--with-libs'] : [])];
  const nodeArgs = probe ? ['--import', PROBE] : [];
  const [cmd, cmdArgs] = pinned(ctx.pins, 'proxy', process.execPath, [...nodeArgs, SCRIPT, ...args]);
  const spawned = performance.now();
  const env = probe ? { CUTOVER_PROBE_DIR: probe.dir } : undefined;
  const proc = await ctx.procs.start({ name, cmd, args: cmdArgs, env, ready: (line) => addressFromLogLine(line, 'proxy listening') });
  return { name, url: proc.readyValue, pid: proc.pid, proc, startupMs: Math.round(performance.now() - spawned) };
}

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The request's headers as undici's flat [name, value, ...] array, hop-by-hop fields left out. */
function forwardHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  return out;
}

/** One request's dispatch handler (undici 7's controller API): stream the response to `res`. */
class Forward {
  constructor(res) {
    this.res = res;
    this.controller = undefined;
    this.responded = false;
    this.resume = () => this.controller?.resume();
  }

  onRequestStart(controller) {
    this.controller = controller;
  }

  onResponseStart(_controller, statusCode, headers) {
    if (statusCode < 200) return;
    const out = {};
    for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
    this.res.writeHead(statusCode, out);
    this.responded = true;
  }

  onResponseData(controller, chunk) {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.resume);
    }
  }

  onResponseEnd() {
    this.res.end();
  }

  onResponseError(_controller, err) {
    if (this.responded || this.res.destroyed) return void this.res.destroy(err);
    this.res.writeHead(502, { 'content-type': 'text/plain' });
    this.res.end('bad gateway\n');
  }
}

/** Load what cutover loads besides undici, and serve /metrics the way cutover's admin does. */
async function loadLibs(host) {
  const [{ default: fastify }, prom, hdr, { pino }, yaml, typebox, jstat] = await Promise.all(
    ['fastify', 'prom-client', 'hdr-histogram-js', 'pino', 'yaml', '@sinclair/typebox/value', 'jstat'].map((m) => import(m)),
  );
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const histograms = [hdr.build({ bitBucketSize: 32, autoResize: true, numberOfSignificantValueDigits: 3 })];
  const log = pino({ level: 'info' });
  const admin = fastify();
  admin.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  await admin.listen({ host, port: 0 });
  return { keep: [registry, histograms, log, yaml, typebox, jstat], close: () => admin.close() };
}

async function main() {
  const { values } = parseArgs({
    options: { upstream: { type: 'string', multiple: true, default: [] }, host: { type: 'string', default: '127.0.0.1' }, 'with-libs': { type: 'boolean', default: false } },
  });
  const libs = values['with-libs'] ? await loadLibs(values.host) : undefined;
  // "URL=WEIGHT": a pool per upstream; `order` lists pool indexes by weight (9 legacy, 1 candidate).
  const upstreams = values.upstream.map((s) => {
    const at = s.lastIndexOf('=');
    return { url: s.slice(0, at), weight: Number(s.slice(at + 1)) };
  });
  if (upstreams.length === 0 || upstreams.some((u) => !(u.weight > 0))) throw new Error('usage: bare-undici-proxy.mjs --upstream URL=WEIGHT [...]');
  // The same pool settings as cutover's clusters (src/proxy/cluster.ts).
  const pools = upstreams.map((u) => new Pool(new URL(u.url).origin, { connect: { timeout: 2000 }, keepAliveTimeout: 4000, headersTimeout: 30_000, bodyTimeout: 30_000 }));
  const divisor = upstreams.map((u) => u.weight).reduce(gcd);
  const order = upstreams.flatMap((u, i) => Array(u.weight / divisor).fill(i));
  let next = 0;

  const server = createServer((req, res) => {
    const pool = pools[order[next++ % order.length]];
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const forward = new Forward(res);
    res.once('close', () => {
      if (!res.writableFinished && forward.controller && !forward.controller.aborted) forward.controller.abort(new Error('client gone'));
    });
    pool.dispatch({ path: req.url, method: req.method, headers: forwardHeaders(req.rawHeaders), body: hasBody ? req : null }, forward);
  });
  server.listen(0, values.host, () => {
    const { address, port } = server.address();
    process.stdout.write(`${JSON.stringify({ msg: 'proxy listening', address: `http://${address}:${port}` })}\n`);
  });

  const stop = () => {
    server.close();
    server.closeAllConnections();
    Promise.all([...pools.map((p) => p.destroy()), libs?.close()]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}

if (process.argv[1] === SCRIPT) {
  main().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
}
