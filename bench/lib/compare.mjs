// Pure: turns measured rows into ratios against the baselines measured in the same run
// (direct-to-backend, the bare undici proxy and nginx), and checks cutover against the targets of
// issue 2.

export const TARGETS = { minReqPerSecVsNginx: 0.75, maxP99VsNginx: 1.5 };

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);

/**
 * rows: [{ target, reqPerSec, latencyMs: { p99 }, proxyCpuUsPerRequest, proxyRssMiB: { peak } }].
 * Returns { ratios: { [target]: … }, cutoverVsTargets, cutoverVsBaselines }.
 */
export function compare(rows) {
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
  // The three figures issue 9 asks about, in one place (null where a baseline is missing).
  const cutoverVsBaselines = c
    ? { cpuPerRequestVsBareUndici: c.proxyCpuPerRequestVsBareUndici, peakRssVsBareUndici: c.peakRssVsBareUndici, p99VsNginx: c.p99VsNginx }
    : null;
  return { ratios, cutoverVsTargets, cutoverVsBaselines };
}
