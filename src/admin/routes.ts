// Admin endpoints, registered per area (traffic, operations, ramp). Each is thin: validate (JSON
// schema), call control/, answer with the result once the change is on disk (admin/reply.ts).
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from './deps.js';
import { registerOpsRoutes } from './ops-routes.js';
import { registerParityRoutes, registerShadowRoutes } from './parity-routes.js';
import { registerRampRoutes } from './ramp-routes.js';
import { registerTrafficRoutes } from './traffic-routes.js';

export { answer, sourceOf } from './reply.js';
export type { AdminDeps } from './deps.js';

export function registerApiRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ready = deps.ready();
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metricsContentType);
    return deps.metrics();
  });
  registerTrafficRoutes(app, deps.control);
  registerOpsRoutes(app, deps);
  registerRampRoutes(app, deps);
  registerParityRoutes(app, deps.parity);
  registerShadowRoutes(app, deps);
}
