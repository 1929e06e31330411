// Shared pieces of the ramp tests: a route with a short ramp, the guard tuned so that a few
// hundred requests are conclusive, and steady traffic that runs until it is stopped.
import { Agent, request } from 'undici';

/** Guard settings for ramp tests: 95 % confidence, the error-rate rule only (≈ 59 clean candidate requests are conclusive). */
export const rampGuard = { enabled: true, intervalMs: 100, confidence: 0.95, minRequests: 5, scope: 'route', rules: { maxErrorRate: 0.05, maxP99Ms: null } };

/** Requests to `url` from `concurrency` loops until stop(); counts what each backend answered. */
export function traffic(url: string, concurrency = 8, headers: () => Record<string, string> = () => ({})) {
  const agent = new Agent({ connections: concurrency });
  let running = true;
  const served: Record<string, number> = {};
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const res = await request(url, { dispatcher: agent, headers: headers() });
        await res.body.text();
        const by = String(res.headers['x-cutover-backend'] ?? 'none');
        served[by] = (served[by] ?? 0) + 1;
      } catch {
        // the proxy is closing: the loop ends with `running`
      }
    }
  });
  return {
    served,
    async stop() {
      running = false;
      await Promise.all(loops);
      await agent.close();
    },
  };
}
