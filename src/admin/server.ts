// The admin listener: fastify on its own port. Auth, JSON errors that say what to send, and the
// route modules; the routes are thin and call control/ or read stats/.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isLoopback } from '../config/net.js';
import { ConfigError, CutoverError, errorBody, statusOf, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { AdminDeps } from './deps.js';
import { registerApiRoutes } from './routes.js';
import { markReadOnly, SAFE_METHODS } from './access.js';
import { isDashboardAsset, registerDashboard } from './dashboard.js';
import type { LiveView } from './events.js';

export interface AdminOptions extends AdminDeps {
  logger: Logger;
  /** Bearer token; undefined means no auth (only allowed on loopback). */
  token: string | undefined;
  protectMetrics: boolean;
  /** A second bearer token that may read everything and change nothing (its writes get 403). */
  readOnlyToken?: string;
  /** Serve GET /dashboard and GET /api/v1/events (admin.dashboard). */
  dashboard?: boolean;
  /** The dashboard's figures read from this process's own series (without: from dataPlane()). */
  live?: () => LiveView;
}

const PUBLIC = new Set(['/healthz', '/readyz']);

export function createAdminServer(opts: AdminOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'admin' }) as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Strict bodies: no silent type coercion, no silent removal of unknown keys.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // Runbooks call POST endpoints with an empty JSON body; treat it as {}.
    forceCloseConnections: true,
  });
  registerBodies(app);
  if (opts.token === undefined) registerLoopbackOnly(app);
  else registerTokens(app, opts.token, opts.readOnlyToken, opts.protectMetrics);
  registerErrors(app);
  registerApiRoutes(app, opts);
  if (opts.dashboard ?? true) registerDashboard(app, opts, { tokenConfigured: opts.token !== undefined, live: opts.live });
  return app;
}

/** JSON bodies, and an empty one judged as {}. */
function registerBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new CutoverError('invalid_json', 'the body is not valid JSON; send a JSON object'), undefined);
    }
  });

  // A POST or PUT without a body is judged as {} (runbooks and curl send none): required fields
  // are then reported by name rather than as "body must be an object".
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && (req.method === 'POST' || req.method === 'PUT')) req.body = {};
  });
}

/**
 * Without a token the admin listener is loopback-only, but a web page in the operator's browser
 * could still POST to it (no preflight for a simple request) or reach it through DNS rebinding.
 * Browsers always send Origin on such requests; rebinding shows in Host.
 */
function registerLoopbackOnly(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (PUBLIC.has(path) || path === '/metrics') return;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    // The dashboard's own page (same origin, loopback Host) may write: no other page can send that Origin.
    const sameOrigin = req.headers.origin === `http://${req.headers.host}`;
    if ((req.headers.origin !== undefined && !sameOrigin) || !isLoopback(host)) {
      return refuse(reply, 'forbidden_origin', 'without an admin token, only local non-browser clients (curl, the CLI) may use the admin API; set CUTOVER_ADMIN_TOKEN to allow others');
    }
  });
}

/** The admin token for everything but the public paths; the read-only token for safe methods only. */
function registerTokens(app: FastifyInstance, token: string, readOnlyToken: string | undefined, protectMetrics: boolean): void {
  const expected = digest(token);
  const readOnly = readOnlyToken === undefined ? undefined : digest(readOnlyToken);
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (PUBLIC.has(path) || isDashboardAsset(path) || (path === '/metrics' && !protectMetrics)) return;
    if (!authorized(req, expected)) {
      if (readOnly !== undefined && authorized(req, readOnly)) {
        markReadOnly(req);
        if (SAFE_METHODS.has(req.method)) return;
        return refuse(reply, 'read_only');
      }
      reply.header('www-authenticate', 'Bearer realm="cutover"');
      return refuse(reply, 'unauthorized');
    }
  });
}

/** Unknown endpoints and every error as JSON from the one table, saying what to send. */
function registerErrors(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    refuse(reply, 'not_found', `no admin endpoint ${req.method} ${req.url.split('?')[0]}; see GET /api/v1/status and the README's admin API`);
  });

  app.setErrorHandler((err: FastifyError | CutoverError, req, reply) => {
    if (err instanceof ConfigError) {
      return refuse(reply, 'config_invalid', `the config file is invalid; nothing changed: ${err.issues.join('; ')}`, { issues: err.issues });
    }
    if (err instanceof CutoverError) return reply.code(err.status).send(errorBody(err.code, err.message));
    const fe = err as FastifyError;
    if (fe.validation) return reply.code(400).send({ error: validationMessage(fe, req) });
    const status = fe.statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, 'admin: request failed');
    return reply.code(status).send({ error: { code: (fe.code ?? 'internal_error').toLowerCase(), message: fe.message } });
  });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison (on digests, so the lengths match too). */
function authorized(req: FastifyRequest, expected: Buffer): boolean {
  const h = req.headers.authorization;
  // The auth scheme is case-insensitive (RFC 9110 section 11.1): "bearer x" is "Bearer x".
  const m = typeof h === 'string' ? /^bearer +(.*)$/i.exec(h) : null;
  if (!m) return false;
  return timingSafeEqual(digest(m[1].trim()), expected);
}

/** A 400 that names the field and says what to send, from the schema's descriptions. */
function validationMessage(err: FastifyError, req: FastifyRequest): { code: string; message: string; field?: string } {
  const v = err.validation![0];
  const where = err.validationContext ?? 'body';
  const schema = (req.routeOptions.schema as Record<string, { description?: string; properties?: Record<string, { description?: string }> }> | undefined)?.[where];
  const what = schema?.description ? `send ${schema.description}` : 'see the README';
  const params = v.params as { missingProperty?: string; additionalProperty?: string };
  if (params.missingProperty) {
    const field = params.missingProperty;
    return { code: 'bad_request', field, message: `${field} is required: ${field} must be ${schema?.properties?.[field]?.description ?? 'given'}; ${what}` };
  }
  if (params.additionalProperty) {
    const field = params.additionalProperty;
    return { code: 'bad_request', field, message: `unknown field "${field}"; ${what}` };
  }
  const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (field === '') return { code: 'bad_request', message: `the ${where} must be a JSON object; ${what}` };
  const description = schema?.properties?.[field.split('.')[0]]?.description;
  return { code: 'bad_request', field, message: description ? `${field} must be ${description}` : `${field} ${v.message}` };
}

/** An error answer from the one table (src/errors.ts): its status, its code, a message that says what to send. */
function refuse(reply: FastifyReply, code: ErrorCode, message?: string, detail?: Record<string, unknown>): FastifyReply {
  return reply.code(statusOf(code)).send(errorBody(code, message, detail));
}
