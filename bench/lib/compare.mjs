// Pure: turns measured rows into ratios against the baselines measured in the same run
// (direct-to-backend, the bare undici proxy and nginx), and checks cutover against the targets of
// issue 2.

export const TARGETS = { minReqPerSecVsNginx: 0.75, maxP99VsNginx: 1.5 };

/** The median of the finite numbers in `xs`, or null when there are none. */
export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** a / b, or null when either is missing or b is not positive. */
export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);

/**
 * rows: [{ target, reqPerSec, latencyMs: { p99 }, proxyCpuUsPerRequest, proxyRssMiB: { peak } }].
 * Returns { ratios: { [target]: … }, cutoverVsTargets, cutoverVsBaselines }.
 */
export function compare(rows, runs = {}) {
  const direct = rows.find((r) => r.target === 'direct');
  const nginx = rows.find((r) => r.target === 'nginx');
  const bare = rows.find((r) => r.target === 'bare-undici');
  const ratios = {};
  for (const r of rows) {
    ratios[r.target] = {
      reqPerSecVsDirect: ratio(r.reqPerSec, direct?.reqPerSec),
      reqPerSecVsNginx: ratio(r.reqPerSec, nginx?.reqPerSec),
      p99VsNginx: ratio(r.latencyMs.p99, nginx?.latencyMs.p99),
      proxyCpuPerRequestVsNginx: ratio(r.proxyCpuUsPerRequest, nginx?.proxyCpuUsPerRequest),
      proxyCpuPerRequestVsBareUndici: ratio(r.proxyCpuUsPerRequest, bare?.proxyCpuUsPerRequest),
      peakRssVsBareUndici: ratio(r.proxyRssMiB?.peak, bare?.proxyRssMiB?.peak),
    };
  }
  const c = ratios.cutover;
  const cutoverVsTargets =
    c && c.reqPerSecVsNginx !== null
      ? {
          ...TARGETS,
          reqPerSecVsNginx: c.reqPerSecVsNginx,
          p99VsNginx: c.p99VsNginx,
          met: c.reqPerSecVsNginx >= TARGETS.minReqPerSecVsNginx && c.p99VsNginx <= TARGETS.maxP99VsNginx,
        }
      : null;
  // Per round, against the baseline measured in that same round: drift over the run cancels out.
  const perRound = (target, base, get) =>
    (runs[target] ?? []).map((r) => ratio(get(r), get((runs[base] ?? []).find((b) => b.round === r.round) ?? {}))).filter((x) => x !== null);
  const cpu = (r) => r.proxyCpuUsPerRequest;
  const rss = (r) => r.proxyRssMiB?.peak;
  const p99 = (r) => r.latencyMs?.p99;
  const rounds = {
    cpuPerRequestVsBareUndici: perRound('cutover', 'bare-undici', cpu),
    peakRssVsBareUndici: perRound('cutover', 'bare-undici', rss),
    p99VsNginx: perRound('cutover', 'nginx', p99),
    libsPeakRssVsBareUndici: perRound('bare-undici+libs', 'bare-undici', rss),
  };
  const pick = (paired, fallback) => (paired.length > 0 ? median(paired) : fallback);
  // The three figures issue 9 asks about, in one place (null where a baseline is missing): the
  // median of the per-round ratios when there were rounds.
  const cutoverVsBaselines = c
    ? {
        cpuPerRequestVsBareUndici: pick(rounds.cpuPerRequestVsBareUndici, c.proxyCpuPerRequestVsBareUndici),
        peakRssVsBareUndici: pick(rounds.peakRssVsBareUndici, c.peakRssVsBareUndici),
        p99VsNginx: pick(rounds.p99VsNginx, c.p99VsNginx),
        // What loading cutover's libraries alone costs the bare proxy in memory: the floor under cutover's figure.
        libsPeakRssVsBareUndici: pick(rounds.libsPeakRssVsBareUndici, ratios['bare-undici+libs']?.peakRssVsBareUndici ?? null),
        rounds,
      }
    : null;
  return { ratios, cutoverVsTargets, cutoverVsBaselines };
}
