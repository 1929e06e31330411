// The fleet's control state in Redis: one hash of fields (a split or a latch per route,
// maintenance), a history list and a generation that only grows. A save writes only the fields
// this replica changed, in one Lua script that also refuses a stale leader (fencing) and a state
// written by a newer cutover, bumps the generation and publishes it. Every replica applies a
// change within a second: pub/sub for speed, and a read of the generation every second to repair
// a lost message (Redis pub/sub delivers at most once). Nothing on the request path calls Redis.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { STATE_VERSION, type Change, type PersistedState } from './types.js';
import { CutoverError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LoadResult } from './file-store.js';
import { diffFields, fromFields, mergeRemote, newEntries, toFields, type Fields } from './state-fields.js';
import type { StateStore } from './store.js';

// ARGV: fence ('' for none), state version, channel, only-if-empty ('1': write nothing unless
// Redis holds no state at all), then counted lists: fields to set (pairs), to delete, history.
const SAVE = `
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local fence = ARGV[1]
if fence ~= '' and redis.call('GET', KEYS[4]) ~= fence then
  return redis.error_reply('STALE_LEADER the guard lease is held by another replica now; this write came from a stale leader')
end
local meta = redis.call('HGET', KEYS[1], 'meta')
if meta then
  local v = tonumber(cjson.decode(meta).version)
  if v > tonumber(ARGV[2]) then return redis.error_reply('NEWER_VERSION ' .. v) end
end
local i = 5
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HDEL', KEYS[1], ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('LPUSH', KEYS[2], ARGV[i]); i = i + 1 end
redis.call('LTRIM', KEYS[2], 0, 499)
redis.call('HSET', KEYS[1], 'meta', cjson.encode({ version = tonumber(ARGV[2]) }))
local g = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[3], g)
return g
`;


export interface RedisStoreOptions {
  url: string;
  /** Namespace of every key. */
  key: string;
  logger: Logger;
  /** This replica's state now (to merge a remote change with what it has not written yet). */
  local(): PersistedState;
  /** Apply a state that another replica wrote. */
  apply(state: PersistedState): void;
  /** The leader's lease value while this replica leads: its guard writes carry it (fencing). */
  fence(): string | undefined;
}

/** A Redis URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export class RedisStateStore implements StateStore<PersistedState> {
  readonly name: string;
  readonly cmd: Redis;
  private readonly sub: Redis;
  readonly keys: { state: string; history: string; generation: string; leader: string; channel: string; fence: string; replicas: string };
  /** The fields and history ids both this replica and Redis agree on (the base of every merge). */
  private base: Fields = new Map();
  private knownHistory = new Set<string>();
  /** The newest generation this replica has applied or written. */
  generation = 0;
  /** The last failure (undefined while Redis answers). */
  lastError: string | undefined;
  private poll: NodeJS.Timeout | undefined;
  private fetching: Promise<void> | undefined;

  constructor(private readonly opts: RedisStoreOptions) {
    this.name = `Redis ${safeUrl(opts.url)} (key ${opts.key})`;
    const k = opts.key;
    this.keys = {
      state: `${k}:state`,
      history: `${k}:history`,
      generation: `${k}:generation`,
      leader: `${k}:leader`,
      channel: `${k}:changes`,
      fence: `${k}:fence`,
      replicas: `${k}:replicas`,
    };
    // Commands fail at once while disconnected (no offline queue): a control change then gets its
    // answer (503 or "not saved") instead of waiting, and nothing else ever waits on Redis.
    const options = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: (n: number) => Math.min(200 * n, 2000) };
    // ioredis loads here, with the first fleet store: a single process never carries it.
    const { Redis: Client } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    this.cmd = new Client(opts.url, options);
    this.sub = new Client(opts.url, { ...options, enableOfflineQueue: true });
    for (const c of [this.cmd, this.sub]) c.on('error', (err: Error) => this.failed(err));
    this.cmd.defineCommand('cutoverSave', { numberOfKeys: 4, lua: SAVE });
  }

  get healthy(): boolean {
    return this.cmd.status === 'ready' && this.lastError === undefined;
  }

  /** Connect both connections; rejects with a message naming the field when Redis cannot be reached. */
  async connect(): Promise<void> {
    try {
      await Promise.all([this.cmd.connect(), this.sub.connect()]);
      await this.cmd.ping();
      this.ok();
    } catch (err) {
      // The first error says why (ECONNREFUSED, ENOTFOUND); later ones only "Connection is closed".
      const why = this.lastError ?? (err as Error).message;
      throw new CutoverError('redis_unreachable', `state.redis.url: cannot reach ${safeUrl(this.opts.url)}: ${why}`);
    }
  }

  /** Read the whole state. A state written by a newer cutover is refused, never overwritten. */
  async readState(): Promise<LoadResult<PersistedState>> {
    const { fields, history, generation } = await this.read();
    const meta = fields.get('meta');
    fields.delete('meta');
    const version = meta === undefined ? STATE_VERSION : Number((JSON.parse(meta) as { version: unknown }).version);
    if (version > STATE_VERSION) {
      throw new CutoverError(
        'state_too_new',
        `state.redis: the state under key "${this.opts.key}" was written by a newer cutover (state version ${version}; this one understands ${STATE_VERSION}). Upgrade this replica, or use another state.redis.key; it is never overwritten.`,
      );
    }
    this.base = fields;
    this.knownHistory = new Set(history.map((c) => c.id).filter((id): id is string => id !== undefined));
    this.generation = generation;
    if (meta === undefined && fields.size === 0) return { kind: 'missing' };
    return { kind: 'ok', state: fromFields(fields, history, STATE_VERSION, new Date().toISOString()) };
  }

  async save(state: PersistedState): Promise<void> {
    const next = toFields(state);
    const { set, del } = diffFields(this.base, next);
    const entries = newEntries(state.history, this.knownHistory);
    // Only the leader writes latches it set itself; its lease value fences a stale one out.
    const fence = set.some(([k]) => k.startsWith('latch:')) ? (this.opts.fence() ?? '') : '';
    let g: number;
    try {
      g = await this.script(fence, false, set, del, entries);
    } catch (err) {
      const e = err as Error;
      // A refusal by the script (a stale leader, a newer state) is an answer, not an outage.
      if (e.name !== 'ReplyError') this.failed(e);
      else if (e.message.startsWith('NEWER_VERSION')) {
        throw new CutoverError('state_too_new', `a newer cutover wrote the state under key "${this.opts.key}" (${e.message}); this replica does not overwrite it`);
      }
      throw e;
    }
    this.ok();
    for (const [k, v] of set) this.base.set(k, v);
    for (const k of del) this.base.delete(k);
    for (const c of entries) if (c.id) this.knownHistory.add(c.id);
    // Our own write: nothing to fetch unless someone else wrote in between.
    if (g === this.generation + 1) this.generation = g;
    else void this.refresh();
  }

  /** Run the save script: set and delete fields, push history entries (given newest first). */
  private async script(fence: string, onlyIfEmpty: boolean, set: Array<[string, string]>, del: string[], entries: readonly Change[]): Promise<number> {
    const args: Array<string | number> = [fence, STATE_VERSION, this.keys.channel, onlyIfEmpty ? '1' : '0', set.length];
    for (const [k, v] of set) args.push(k, v);
    args.push(del.length, ...del, entries.length);
    for (const c of [...entries].reverse()) args.push(JSON.stringify(c)); // oldest first: LPUSH keeps newest at the head
    const save = (this.cmd as unknown as { cutoverSave(...a: Array<string | number>): Promise<number> }).cutoverSave;
    return Number(await save.call(this.cmd, this.keys.state, this.keys.history, this.keys.generation, this.keys.leader, ...args));
  }

  /** Start following the changes of other replicas. */
  async follow(): Promise<void> {
    this.sub.on('message', () => void this.refresh());
    await this.sub.subscribe(this.keys.channel);
    this.poll = setInterval(() => void this.check(), 1000);
    this.poll.unref();
  }

  /** The periodic repair: a generation newer than ours means a message was lost. */
  private async check(): Promise<void> {
    try {
      const g = Number((await this.cmd.get(this.keys.generation)) ?? 0);
      this.ok();
      if (g > this.generation) await this.refresh();
      else if (g < this.generation) {
        // A generation only grows: Redis lost the state (restarted without persistence). What this
        // replica holds is the newest there is; write all of it again.
        await this.restoreLost(g);
      }
    } catch (err) {
      this.failed(err as Error);
    }
  }

  /**
   * Redis came back without the state (restarted without persistence; a generation never goes
   * down). The first replica to notice writes its whole copy back, only if Redis is still empty;
   * every other one then takes that copy, keeping the changes it has not written yet (they are
   * "dirty" against the base it had before the loss, and its pending write carries them).
   */
  private async restoreLost(found: number): Promise<void> {
    const local = this.opts.local();
    const fields = [...toFields(local)];
    const g = await this.script('', true, fields, [], local.history);
    if (g > 0) {
      this.opts.logger.warn({ store: this.name, had: this.generation, found }, "fleet: Redis had lost the shared state; wrote this replica's copy back");
      this.base = new Map(fields);
      this.knownHistory = new Set(local.history.map((c) => c.id).filter((id): id is string => id !== undefined));
      this.generation = g;
      return;
    }
    this.generation = -1; // another replica restored it first: take its copy
    await this.refresh();
  }

  /** Fetch the state and apply it, merged with what this replica has not written yet. */
  refresh(): Promise<void> {
    this.fetching ??= (async () => {
      try {
        const { fields, history, generation } = await this.read();
        fields.delete('meta');
        this.ok();
        if (generation <= this.generation) return;
        const local = this.opts.local();
        const merged = mergeRemote(toFields(local), this.base, fields);
        const unwritten = newEntries(local.history, this.knownHistory);
        const state = fromFields(merged, [...unwritten, ...history], STATE_VERSION, local.savedAt);
        this.base = fields;
        this.knownHistory = new Set(history.map((c) => c.id).filter((id): id is string => id !== undefined));
        this.generation = generation;
        this.opts.apply(state);
      } catch (err) {
        this.failed(err as Error);
      } finally {
        this.fetching = undefined;
      }
    })();
    return this.fetching;
  }

  private async read(): Promise<{ fields: Fields; history: Change[]; generation: number }> {
    const [[e1, hash], [e2, list], [e3, gen]] = (await this.cmd
      .multi()
      .hgetall(this.keys.state)
      .lrange(this.keys.history, 0, 499)
      .get(this.keys.generation)
      .exec()) as Array<[Error | null, unknown]>;
    const err = e1 ?? e2 ?? e3;
    if (err) throw err;
    return {
      fields: new Map(Object.entries(hash as Record<string, string>)),
      history: (list as string[]).map((s) => JSON.parse(s) as Change),
      generation: Number(gen ?? 0),
    };
  }

  private ok(): void {
    if (this.lastError !== undefined) this.opts.logger.warn({ store: this.name }, 'fleet: Redis answers again');
    this.lastError = undefined;
  }

  private failed(err: Error): void {
    if (this.lastError === undefined) this.opts.logger.error({ store: this.name, err: err.message }, 'fleet: Redis is unreachable; serving on the last state, degraded');
    this.lastError = err.message;
  }

  async close(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}
