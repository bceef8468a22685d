// Reading dataset files: raw or gzip-compressed, with errors that name the file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

/** gzip files start with these two bytes. */
function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Finds `name` or `name.gz` in `dir`; a missing file is a DataError that lists both names
 * and says how to point the toolkit elsewhere.
 */
export function findDataFile(dir: string, name: string, hint: string): string {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new DataError(`Missing data file: neither ${join(dir, name)} nor ${join(dir, name)}.gz exists. ${hint}`);
}

/** The file's bytes, decompressed when it is gzip (detected by its magic bytes, not its name). */
export function readDataFile(path: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new DataError(`Cannot read data file ${path}: ${(err as Error).message}`);
  }
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (err) {
    throw new DataError(
      `Data file ${path} is a damaged gzip file (${(err as Error).message}). Download it again.`,
    );
  }
}
