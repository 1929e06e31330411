// Who a request to the admin listener is: the admin token's holder, the read-only token's (sees
// everything, changes nothing), or nobody in particular when no token is configured (the listener
// is then loopback-only). The page asks the event stream's hello which one it is, to hide actions.
import { pathFromConfig, readTokenFile } from '../config/secrets.js';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { CutoverError } from '../errors.js';

export type Access = 'admin' | 'read-only' | 'unauthenticated';

const readOnly = new WeakSet<FastifyRequest>();

/** Called by the auth hook when the request carried the read-only token. */
export function markReadOnly(req: FastifyRequest): void {
  readOnly.add(req);
}

export function accessOf(req: FastifyRequest, tokenConfigured: boolean): Access {
  if (readOnly.has(req)) return 'read-only';
  return tokenConfigured ? 'admin' : 'unauthenticated';
}

/** Methods the read-only token may use: reads only (RFC 9110 section 9.2.1, safe methods). */
export const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The read-only token: CUTOVER_ADMIN_READONLY_TOKEN, else admin.readOnlyTokenFile; undefined when
 * neither is set. Without an admin token there is nothing to be read-only against, and the same
 * token twice would make every reader an admin: both are refused.
 */
export function readOnlyToken(config: Config, configFile: string | undefined, adminToken: string | undefined): string | undefined {
  const env = process.env.CUTOVER_ADMIN_READONLY_TOKEN?.trim();
  let token: string | undefined = env === '' ? undefined : env;
  const where = token !== undefined ? 'CUTOVER_ADMIN_READONLY_TOKEN' : 'admin.readOnlyTokenFile';
  if (token === undefined && config.admin.readOnlyTokenFile !== undefined) {
    token = readTokenFile(pathFromConfig(configFile, config.admin.readOnlyTokenFile), 'admin.readOnlyTokenFile');
  }
  if (token === undefined) return undefined;
  if (adminToken === undefined) {
    throw new CutoverError('read_only_token', `${where} is set but no admin token is: set CUTOVER_ADMIN_TOKEN or admin.tokenFile too (the read-only token is a second, weaker token)`);
  }
  if (token === adminToken) throw new CutoverError('read_only_token', `${where} is the same as the admin token: a read-only token must differ from it`);
  return token;
}
