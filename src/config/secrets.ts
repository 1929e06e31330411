// Secrets read from files (admin token, read-only token, override token): one reader, one error
// code (token_file), naming the field the path came from. The value is trimmed; an empty file is
// an error, never an empty token that would let anyone in.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CutoverError } from '../errors.js';

/** The trimmed contents of `file`, named by `field` (e.g. admin.tokenFile) in any error. */
export function readTokenFile(file: string, field: string): string {
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new CutoverError('token_file', `${field}: cannot read ${file}: ${(err as Error).message}`);
  }
  if (token === '') throw new CutoverError('token_file', `${field}: ${file} is empty`);
  return token;
}

/** A path from the config, relative to the config file's folder (the working directory without one). */
export function pathFromConfig(configFile: string | undefined, path: string): string {
  return resolve(configFile ? dirname(configFile) : process.cwd(), path);
}
