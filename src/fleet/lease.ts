// Who leads the fleet's guard: a lease in Redis (SET NX PX) whose value carries a fencing token
// that only grows (INCR), so a leader that stalled past its lease and woke up can neither renew
// nor write as leader (the state script compares the value). Whether this replica leads is a pure
// function of when it last renewed and the clock; the I/O around it is a timer.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

export interface LeaseView {
  /** This replica's lease value while it holds the lease (`<replica>:<token>`). */
  value: string | undefined;
  /** When the lease was last acquired or renewed (this replica's clock, ms). */
  renewedAt: number;
  /** The leader as last read from Redis, and when. */
  leader: string | undefined;
  leaderSeenAt: number;
}

/**
 * Leading needs a renewal within the last 2/3 of the TTL: a replica that stalled stops acting as
 * leader before its lease can have passed to another one.
 */
export function leads(v: LeaseView, now: number, ttlMs: number): boolean {
  return v.value !== undefined && now - v.renewedAt < (2 * ttlMs) / 3;
}

/** Another replica leads, as far as this one knows (seen within the TTL). */
export function followsLeader(v: LeaseView, now: number, ttlMs: number, self: string): boolean {
  return v.leader !== undefined && !v.leader.startsWith(`${self}:`) && now - v.leaderSeenAt < ttlMs;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class Lease {
  view: LeaseView = { value: undefined, renewedAt: 0, leader: undefined, leaderSeenAt: 0 };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cmd: Redis,
    private readonly keys: { leader: string; fence: string },
    readonly replica: string,
    readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  leads(): boolean {
    return leads(this.view, this.clock(), this.ttlMs);
  }

  follows(): boolean {
    return followsLeader(this.view, this.clock(), this.ttlMs, this.replica);
  }

  /** Renew the lease held, or try to take a free one. */
  async tick(): Promise<void> {
    const now = this.clock();
    try {
      if (this.view.value !== undefined) {
        const renewed = Number(await this.cmd.eval(RENEW, 1, this.keys.leader, this.view.value, this.ttlMs));
        if (renewed === 1) {
          this.view = { ...this.view, renewedAt: now, leader: this.view.value, leaderSeenAt: now };
          return;
        }
        this.logger.warn({ replica: this.replica, lease: this.view.value }, 'fleet: lost the guard lease');
        this.view = { ...this.view, value: undefined };
      }
      const token = await this.cmd.incr(this.keys.fence);
      const value = `${this.replica}:${token}`;
      const ok = await this.cmd.set(this.keys.leader, value, 'PX', this.ttlMs, 'NX');
      if (ok === 'OK') {
        this.view = { value, renewedAt: now, leader: value, leaderSeenAt: now };
        this.logger.warn({ replica: this.replica, lease: value }, 'fleet: this replica now leads the guard');
        return;
      }
      const leader = (await this.cmd.get(this.keys.leader)) ?? undefined;
      this.view = { ...this.view, leader, leaderSeenAt: leader === undefined ? 0 : now };
    } catch {
      // Redis unreachable: leading lapses by the clock (leads()), and the guard judges locally.
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const value = this.view.value;
    this.view = { ...this.view, value: undefined };
    if (value !== undefined) await this.cmd.eval(RELEASE, 1, this.keys.leader, value).catch(() => undefined);
  }
}
