// Starts cutover (the compiled dist/cli.js) as a child process on the proxy core, with a config
// generated for the bench: one catch-all route splitting between the two bench backends.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromLogLine } from './http.mjs';
import { pinned } from './pin.mjs';

/** The config cutover runs with in the bench. JSON is valid YAML, so it is written as JSON. */
export function cutoverConfig({ legacy, candidate, candidatePercent }) {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    backends: {
      legacy: { upstreams: [legacy.url], timeouts: { connectMs: 2000, responseMs: 30000 } },
      candidate: { upstreams: [candidate.url], timeouts: { connectMs: 2000, responseMs: 30000 } },
    },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent }],
    // info is needed for the "proxy listening" line; per-request access logs stay off (the default).
    log: { level: 'info', accessLog: false },
  };
}

/** Start cutover; resolves { name, url, pid, proc, configFile }. */
export async function startCutover(ctx, { legacy, candidate, candidatePercent, name = 'cutover' }) {
  const dir = join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'cutover.yaml');
  writeFileSync(configFile, JSON.stringify(cutoverConfig({ legacy, candidate, candidatePercent }), null, 2) + '\n');
  const [cmd, args] = pinned(ctx.pins, 'proxy', process.execPath, [join(ctx.root, 'dist/cli.js'), 'start', '--config', configFile]);
  const proc = await ctx.procs.start({ name, cmd, args, cwd: ctx.root, ready: (line) => addressFromLogLine(line, 'proxy listening') });
  return { name, url: proc.readyValue, pid: proc.pid, proc, configFile };
}
