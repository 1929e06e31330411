// GET /dashboard: the live migration page, static files served from the package (dashboard/) and
// uPlot's own dist files resolved in node_modules (never copied by hand). The page holds no
// secret, so it loads without the token; it then asks for the token and sends it as a bearer
// header on every call (never in a URL or a cookie). Every URL in the page is relative, so it
// works behind kubectl port-forward or a path prefix.
import { errorBody, statusOf } from '../errors.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { registerEvents, type LiveView } from './events.js';
import type { AdminDeps } from './deps.js';

const ASSETS = fileURLToPath(new URL('../../dashboard/', import.meta.url));
const require = createRequire(import.meta.url);
/** uPlot's own dist file, found where npm installed it (a missing package shows as a missing file). */
function uplot(file: string): string {
  try {
    return require.resolve(`uplot/dist/${file}`);
  } catch {
    return `node_modules/uplot/dist/${file}`;
  }
}

/** Path → [file, content type]. */
const FILES: Record<string, [string, string]> = {
  '/dashboard': [`${ASSETS}index.html`, 'text/html; charset=utf-8'],
  '/dashboard/app.js': [`${ASSETS}app.js`, 'text/javascript; charset=utf-8'],
  '/dashboard/app.css': [`${ASSETS}app.css`, 'text/css; charset=utf-8'],
  '/dashboard/uplot.js': [uplot('uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  '/dashboard/uplot.css': [uplot('uPlot.min.css'), 'text/css; charset=utf-8'],
};

/**
 * No inline script or style at all, nothing from another origin, no framing (clickjacking an
 * action button), no form posting elsewhere. uPlot sizes its elements through the CSSOM, which
 * style-src does not govern.
 */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

/** The page and its assets: served without the token (they hold no secret). */
export function isDashboardAsset(path: string): boolean {
  return Object.hasOwn(FILES, path) || path === '/dashboard/';
}

export function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin');
}

export function registerDashboard(app: FastifyInstance, deps: AdminDeps, opts: { tokenConfigured: boolean; live?: () => LiveView }): void {
  // Read once at start (a few hundred kilobytes). A missing file (a package built without the
  // dashboard/ folder) costs the page, never the proxy: it is logged and the page says so.
  for (const [path, [file, type]] of Object.entries(FILES)) {
    let body: Buffer | undefined;
    try {
      body = readFileSync(file);
    } catch (err) {
      app.log.error({ file, err: (err as Error).message }, 'admin: a dashboard file is missing; GET /dashboard answers 500');
    }
    app.get(path, async (_req, reply) => {
      securityHeaders(reply).header('cache-control', path === '/dashboard' ? 'no-store' : 'no-cache');
      if (!body) return reply.code(statusOf('dashboard_missing')).send(errorBody('dashboard_missing', `${file} is missing from this installation: reinstall the package (its "dashboard" folder and the uplot dependency)`));
      return reply.header('content-type', type).send(body);
    });
  }
  // "/dashboard/" would break the page's relative URLs: send it to "/dashboard".
  app.get('/dashboard/', async (_req, reply) => reply.redirect('../dashboard'));
  registerEvents(app, deps, opts);
}
