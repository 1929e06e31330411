// Guard events POSTed as JSON to every configured URL: 2 s timeout, up to 3 attempts with
// back-off. Fire and forget: a slow or dead receiver never delays the data plane or the next
// evaluation.
import type { Logger } from '../log.js';

export interface WebhookOptions {
  timeoutMs?: number;
  attempts?: number;
  backoffMs?: number;
}

export class WebhookSender {
  private readonly pending = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private closed = false;

  constructor(
    public urls: readonly string[],
    private readonly logger: Logger,
    opts: WebhookOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.attempts = opts.attempts ?? 3;
    this.backoffMs = opts.backoffMs ?? 250;
  }

  send(event: object): void {
    if (this.closed || this.urls.length === 0) return;
    const body = JSON.stringify(event);
    for (const url of this.urls) {
      const p = this.deliver(url, body).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  private async deliver(url: string, body: string): Promise<void> {
    let last = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'cutover-guard' },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break; // the receiver rejects it: retrying will not help
      } catch (err) {
        last = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (err as Error).message;
      }
      if (attempt < this.attempts && !this.closed) await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)).unref());
    }
    this.logger.warn({ url, error: last }, 'guard: webhook delivery failed');
  }

  /** Wait (up to `ms`) for deliveries in progress, then stop sending. */
  async close(ms = 3000): Promise<void> {
    this.closed = true;
    if (this.pending.size === 0) return;
    await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, ms).unref())]);
  }
}
