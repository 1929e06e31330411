// The control state on disk: one JSON file, replaced atomically (temp file, fsync, rename), so a
// crash mid-write leaves either the old file or the new one, never half of one.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type LoadResult<T> = { kind: 'missing' } | { kind: 'ok'; state: T } | { kind: 'corrupt'; error: string };

export class FileStateStore<T> {
  constructor(
    readonly file: string,
    /** Checks the parsed JSON; returns an error message, or undefined when it is usable. */
    private readonly check: (value: unknown) => string | undefined,
  ) {}

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

  save(state: T): void {
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${basename(this.file)}.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    // fsync the directory so the rename itself survives a power cut.
    try {
      const dfd = openSync(dir, 'r');
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      // some filesystems refuse to open a directory; the rename is still atomic
    }
  }

  /** Move an unusable file out of the way (kept for a post-mortem); returns its new path. */
  moveAside(now = new Date()): string {
    const aside = `${this.file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.file, aside);
    return aside;
  }
}
