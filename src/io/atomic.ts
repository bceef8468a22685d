// Atomic file writes: write a temp file beside the target, then rename over it, so a crash
// never leaves a half-written result or checkpoint.
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FileError } from './errors.js';

/**
 * Refuses, before any work, a path that cannot be written as a file: a folder, a path ending
 * in a separator, or one whose parent is a file.
 */
export function checkOutputFile(path: string, flag = 'output'): void {
  if (/[\\/]$/.test(path) || (existsSync(path) && statSync(path).isDirectory())) {
    throw new FileError(`${flag} ${path} is a folder: give a file path, e.g. ${join(path, 'result.json')}.`);
  }
  // The nearest existing ancestor must be a folder (mkdir -p creates the rest).
  let parent = dirname(resolve(path));
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) {
    throw new FileError(`${flag} ${path} cannot be created: ${parent} is a file, not a folder.`);
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  checkOutputFile(path);
  mkdirSync(dirname(path), { recursive: true });
  // Beside the target (same file system, so the rename is atomic), hidden, unique per writer.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Whether a non-empty file's last byte is not a newline: a write was cut short there. */
function endsTorn(path: string): boolean {
  if (!existsSync(path)) return false;
  const size = statSync(path).size;
  if (size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends one line (a JSON record) in a single write, so concurrent writers and a kill
 * mid-run leave whole lines only. After a torn last line (a kill mid-write) the record starts
 * on a new line, so it never glues onto the fragment; readers skip the fragment.
 */
export function appendLine(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = line.endsWith('\n') ? line : line + '\n';
  appendFileSync(path, endsTorn(path) ? '\n' + text : text);
}
