// The control state on disk: one JSON file, replaced atomically (temp file, fsync, rename, fsync of
// the directory), so a crash mid-write leaves either the old file or the new one, never half of
// one. Saving is asynchronous: it runs beside the data plane, never on its path (see
// write-queue.ts for the batching); loading happens once, at start-up, and stays synchronous.
import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import type { StateStore } from './store.js';

export type LoadResult<T> = { kind: 'missing' } | { kind: 'ok'; state: T } | { kind: 'corrupt'; error: string };

export class FileStateStore<T> implements StateStore<T> {
  constructor(
    readonly file: string,
    /** Checks the parsed JSON; returns an error message, or undefined when it is usable. */
    private readonly check: (value: unknown) => string | undefined,
  ) {}

  get name(): string {
    return `the state file ${this.file}`;
  }

  load(): LoadResult<T> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'corrupt', error: `cannot read: ${(err as Error).message}` };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { kind: 'corrupt', error: `not JSON: ${(err as Error).message}` };
    }
    const problem = this.check(value);
    return problem ? { kind: 'corrupt', error: problem } : { kind: 'ok', state: value as T };
  }

  /** Resolves once the new file is durable (data and rename); rejects with the first I/O error. */
  async save(state: T): Promise<void> {
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true });
    // The pid alone is not unique: in containers every process is PID 1, and two of them may share
    // the volume. A random part keeps their temp files (and two saves of one process) apart.
    const tmp = join(dir, `.${basename(this.file)}.${process.pid}.${randomUUID()}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await writeAll(fh, Buffer.from(JSON.stringify(state, null, 2) + '\n'));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await syncDir(dir);
  }

  /** Move an unusable file out of the way (kept for a post-mortem); returns its new path. */
  moveAside(now = new Date()): string {
    const aside = `${this.file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.file, aside);
    return aside;
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

/** write(2) may write less than asked (a signal, a full disk): loop until every byte is out. */
async function writeAll(fh: Handle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    if (bytesWritten <= 0) throw Object.assign(new Error(`short write: ${off} of ${buf.length} bytes written`), { code: 'EIO' });
    off += bytesWritten;
  }
}

/** fsync the directory so the rename itself survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  let dh: Handle;
  try {
    dh = await open(dir, 'r');
  } catch {
    return; // some filesystems refuse to open a directory; the rename is still atomic
  }
  try {
    await dh.sync();
  } catch {
    // likewise, some refuse fsync on a directory (EINVAL)
  } finally {
    await dh.close();
  }
}
