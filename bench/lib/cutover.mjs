// Starts cutover (the compiled dist/cli.js) as a child process on the proxy core, with a config
// generated for the bench: one catch-all route splitting between the two bench backends.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addressFromLogLine } from './http.mjs';
import { pinned } from './pin.mjs';

const PROBE = fileURLToPath(new URL('./loop-delay-probe.mjs', import.meta.url));

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
 * Start cutover; resolves { name, url, adminUrl, pid, proc, configFile, config, startupMs }. With
 * `admin`, it is ready once both "proxy listening" and "admin listening" were logged (in that
 * order, src/app.ts). `probe`: preload bench/lib/loop-delay-probe.mjs (its figures go to
 * `probe.dir`; `probe.tasks` also times cutover's periodic work). The build that runs is
 * `root`'s dist/, else ctx.cutoverRoot's (--cutover-root), else this repository's. `startupMs`: from spawn
 * to ready (every listener up), the process's start-up time as an operator sees it.
 */
export async function startCutover(ctx, { legacy, candidate, candidatePercent, name = 'cutover', admin = false, stateFile, guard, redis, workers, extra, probe, root: rootOverride }) {
  const dir = join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'cutover.yaml');
  const config = cutoverConfig({ legacy, candidate, candidatePercent, admin, stateFile, guard, redis, workers, extra });
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  const root = rootOverride ?? ctx.cutoverRoot ?? ctx.root;
  const nodeArgs = probe ? ['--import', PROBE] : [];
  const env = probe ? { CUTOVER_PROBE_DIR: probe.dir, CUTOVER_PROBE_DIST: root, ...(probe.tasks ? { CUTOVER_PROBE_TASKS: '1' } : {}) } : undefined;
  const [cmd, args] = pinned(ctx.pins, 'proxy', process.execPath, [...nodeArgs, join(root, 'dist/cli.js'), 'start', '--config', configFile]);
  let url;
  const ready = (line) => {
    url ??= addressFromLogLine(line, 'proxy listening');
    if (!admin) return url;
    const adminUrl = addressFromLogLine(line, 'admin listening');
    return url && adminUrl ? { url, adminUrl } : undefined;
  };
  const spawned = performance.now();
  const proc = await ctx.procs.start({ name, cmd, args, cwd: root, env, ready });
  const startupMs = Math.round(performance.now() - spawned);
  const addresses = admin ? proc.readyValue : { url: proc.readyValue, adminUrl: undefined };
  return { name, ...addresses, pid: proc.pid, proc, configFile, config, startupMs };
}
