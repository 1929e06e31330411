// Starts cutover (the compiled dist/cli.js) as a child process on the proxy core, with a config
// generated for the bench: one catch-all route splitting between the two bench backends.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromLogLine } from './http.mjs';
import { pinned } from './pin.mjs';

/**
 * The config cutover runs with in the bench. JSON is valid YAML, so it is written as JSON.
 * `admin`: serve the admin API on an ephemeral loopback port (otherwise cutover's default applies);
 * `stateFile`: where cutover keeps its control state; `guard`: guard settings (defaults when absent);
 * `redis`: state.redis (fleet mode).
 */
export function cutoverConfig({ legacy, candidate, candidatePercent, admin = false, stateFile, guard, redis, workers, extra = {} }) {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    backends: {
      legacy: { upstreams: [legacy.url], timeouts: { connectMs: 2000, responseMs: 30000 } },
      candidate: { upstreams: [candidate.url], timeouts: { connectMs: 2000, responseMs: 30000 } },
    },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent }],
    ...(admin ? { admin: { host: '127.0.0.1', port: 0 } } : {}),
    ...(stateFile || redis ? { state: { ...(stateFile ? { file: stateFile } : {}), ...(redis ? { redis } : {}) } } : {}),
    ...(guard ? { guard } : {}),
    ...(workers !== undefined ? { workers } : {}),
    // info is needed for the "proxy listening" line; per-request access logs stay off (the default).
    log: { level: 'info', accessLog: false },
    // Stopped between measurements: no drain period (the drain scenario sets its own in `extra`).
    shutdownDrainSeconds: 0,
    ...extra,
  };
}

/**
 * Start cutover; resolves { name, url, adminUrl, pid, proc, configFile, config }. With `admin`, it is
 * ready once both "proxy listening" and "admin listening" were logged (in that order, src/app.ts).
 */
export async function startCutover(ctx, { legacy, candidate, candidatePercent, name = 'cutover', admin = false, stateFile, guard, redis, workers, extra }) {
  const dir = join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'cutover.yaml');
  const config = cutoverConfig({ legacy, candidate, candidatePercent, admin, stateFile, guard, redis, workers, extra });
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  const [cmd, args] = pinned(ctx.pins, 'proxy', process.execPath, [join(ctx.root, 'dist/cli.js'), 'start', '--config', configFile]);
  let url;
  const ready = (line) => {
    url ??= addressFromLogLine(line, 'proxy listening');
    if (!admin) return url;
    const adminUrl = addressFromLogLine(line, 'admin listening');
    return url && adminUrl ? { url, adminUrl } : undefined;
  };
  const proc = await ctx.procs.start({ name, cmd, args, cwd: ctx.root, ready });
  const addresses = admin ? proc.readyValue : { url: proc.readyValue, adminUrl: undefined };
  return { name, ...addresses, pid: proc.pid, proc, configFile, config };
}
