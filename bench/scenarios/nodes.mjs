// The nodes scenario: does a cluster of 200 nodes cost more per request than one of 2? Picking a
// node is meant to be constant time (a round robin over an array, skipping ejected nodes), and
// discovery's refresh runs off the request path; this measures both claims. Two cutovers run side
// by side on the proxy core (as in the cost scenario, so that the machine's drift hits both
// alike), each discovering its legacy cluster through a DNS server in this process: "2 nodes" a
// name with 2 A records, "200 nodes" one with 200 (127.0.3.1 ... 127.0.3.200), each served by one
// backend process listening on all of its addresses. Each gets its own autocannon load of the same
// shape, at the same fixed rate: at full speed the two would serve different rates (the load core
// sets the pace, and the 200-address backend is slower), and CPU per request falls as a process
// gets busier (more events per loop turn), which would be measured instead of the node count.
// The figure is CPU per request of 200 nodes over 2 nodes, per round; the median over rounds.
import { servedCount, startBackend } from '../lib/backends.mjs';
import { median, ratio } from '../lib/compare.mjs';
import { startCutover } from '../lib/cutover.mjs';
import { startDns } from '../lib/dns.mjs';
import { get } from '../lib/http.mjs';
import { runLoad } from '../lib/load.mjs';
import { cpuSeconds, memoryOf } from '../lib/pin.mjs';

export const NODE_COUNTS = [2, 200];
/** The bound: 200 nodes within 1.05x the CPU per request of 2. */
export const MAX_CPU_RATIO = 1.05;
/** Requests per second to each cutover: well below what either serves on a shared core. */
export const RATE = 1500;

export function nodesBudgetSeconds(o) {
  return o.rounds * (o.warmupSeconds + o.durationSeconds + 40) + 30;
}

const addresses = (n, subnet) => Array.from({ length: n }, (_, i) => `127.0.${subnet}.${i + 1}`);
const target = (n) => `${n} nodes`;

export async function nodesScenario(ctx) {
  const { connections, durationSeconds, warmupSeconds, rounds } = ctx.opts;
  const result = { scenario: 'nodes', connections, rate: RATE, durationSeconds, warmupSeconds, rounds, nodeCounts: NODE_COUNTS, maxCpuRatio: MAX_CPU_RATIO, runs: [], failures: [] };
  const sets = Object.fromEntries(NODE_COUNTS.map((n, i) => [`n${n}.bench.test`, addresses(n, 2 + i)]));
  const dns = await startDns(sets);
  try {
    for (let round = 1; round <= rounds; round++) {
      if (ctx.signal.aborted) break;
      ctx.log(`nodes: round ${round} of ${rounds}: ${NODE_COUNTS.map(target).join(' and ')} side by side, ${connections} connections each`);
      const started = [];
      try {
        for (const n of NODE_COUNTS) started.push(await startOne(ctx, n, sets[`n${n}.bench.test`], dns.server, round));
        result.runs.push({ round, targets: await measureTogether(ctx, started) });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        result.failures.push(`round ${round}: ${err.message}`);
      } finally {
        for (const t of started) await Promise.all([ctx.procs.stop(t.proxy.proc), ctx.procs.stop(t.backend.proc)]);
      }
    }
  } finally {
    await dns.close();
  }
  const cpu = (t) => t?.cpuUsPerRequest;
  const [few, many] = NODE_COUNTS.map(target);
  result.ratios = { cpuPerRequest: result.runs.map((r) => ratio(cpu(r.targets[many]), cpu(r.targets[few]))) };
  result.medians = { cpuPerRequest: median(result.ratios.cpuPerRequest) };
  result.figures = Object.fromEntries(
    NODE_COUNTS.map((n) => [
      target(n),
      {
        cpuUsPerRequest: median(result.runs.map((r) => cpu(r.targets[target(n)]))),
        reqPerSec: median(result.runs.map((r) => r.targets[target(n)]?.reqPerSec)),
        peakRssMiB: median(result.runs.map((r) => r.targets[target(n)]?.peakRssMiB)),
        nodes: result.runs.at(-1)?.targets[target(n)]?.nodes ?? null,
      },
    ]),
  );
  result.withinBound = result.medians.cpuPerRequest === null ? null : result.medians.cpuPerRequest <= MAX_CPU_RATIO;
  return result;
}

async function startOne(ctx, n, hosts, dnsServer, round) {
  const backend = await startBackend(ctx, `nodes-${n}`, { host: hosts[0], alsoHosts: hosts.slice(1) });
  const port = new URL(backend.url).port;
  const upstream = `http://n${n}.bench.test:${port}`;
  try {
    const discovery = { type: 'dns', refreshSeconds: 5 };
    const proxy = await startCutover(ctx, {
      legacy: { url: upstream },
      candidate: { url: upstream },
      candidatePercent: 0,
      name: `cutover-nodes-${n}-${round}`,
      admin: true,
      extra: {
        dns: { servers: [dnsServer] },
        backends: {
          legacy: { upstreams: [upstream], discovery, timeouts: { connectMs: 2000, responseMs: 30000 } },
          candidate: { upstreams: [upstream], discovery, timeouts: { connectMs: 2000, responseMs: 30000 } },
        },
      },
    });
    return { n, proxy, backend };
  } catch (err) {
    await ctx.procs.stop(backend.proc);
    throw err;
  }
}

async function measureTogether(ctx, started) {
  const { connections, durationSeconds, warmupSeconds } = ctx.opts;
  const load = (seconds) => Promise.all(started.map((t) => runLoad({ url: t.proxy.url, connections, durationSeconds: seconds, signal: ctx.signal, rate: RATE })));
  if (warmupSeconds > 0) await load(warmupSeconds);
  const before = await Promise.all(started.map(async (t) => ({ cpu: cpuSeconds(t.proxy.pid), served: await servedCount(t.backend) })));
  const loads = await load(durationSeconds);
  const out = {};
  for (const [i, t] of started.entries()) {
    const requests = (await servedCount(t.backend)) - before[i].served;
    const cpu = cpuSeconds(t.proxy.pid) - before[i].cpu;
    const failed = loads[i].errors + loads[i].timeouts + loads[i].non2xx;
    if (failed > 0) throw new Error(`${target(t.n)}: ${failed} requests failed (${JSON.stringify(loads[i].statusCodes)})`);
    const status = JSON.parse((await get(`${t.proxy.adminUrl}/api/v1/status`)).body);
    const nodes = status.nodes.legacy.filter((x) => x.source === 'dns' && x.lastRefresh !== null).length;
    if (nodes !== t.n) throw new Error(`${target(t.n)}: cutover served ${nodes} discovered nodes, not ${t.n}`);
    out[target(t.n)] = {
      requests,
      reqPerSec: loads[i].reqPerSec,
      nodes,
      cpuUsPerRequest: requests > 0 ? Math.round((cpu * 1e6 * 10) / requests) / 10 : null,
      peakRssMiB: Math.round((memoryOf(t.proxy.pid).peak / 1048576) * 10) / 10,
    };
  }
  return out;
}
