// A lock file for a folder that one process writes at a time (a bench run folder, a model
// folder): created exclusively, naming its holder (PID, host, command), released on exit. A
// lock whose holder is gone is stale and taken over: on this host, its process is not alive;
// on another host (a shared file system), its holder stopped touching it (a heartbeat).
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FileError } from './errors.js';

export interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface Lock {
  path: string;
  release(): void;
}

function readHolder(path: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? (h as Holder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process of this host with this PID runs (EPERM: it does, but is not ours). A
 * zombie (killed, not yet reaped by its parent) does not: it can no longer write.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: the state follows the parenthesised command name in /proc/<pid>/stat.
    return !/\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** A lock file without a holder this old was left by a writer killed between create and write. */
const UNREADABLE_STALE_MS = 60_000;
/** Holders touch their lock this often; one untouched for STALE_MS has lost its holder. */
const HEARTBEAT_MS = 60_000;
const STALE_MS = 15 * 60_000;

/** Another process holds the lock. */
export class LockBusy extends FileError {
  override name = 'LockBusy';
}

/** Whether a lock file's holder is known to be gone. */
function isStale(path: string, holder: Holder | undefined): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(path).mtimeMs;
  } catch {
    return true;
  }
  if (!holder) return age > UNREADABLE_STALE_MS;
  return holder.host === hostname() ? !alive(holder.pid) : age > STALE_MS;
}

/**
 * Removes a stale lock, unless another process replaced it meanwhile (two waiters taking over
 * the same dead holder's lock): the file is moved aside first and put back if it is not the
 * one judged stale.
 */
export function removeStale(path: string, judged: Holder | undefined): void {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale.lock`;
  try {
    renameSync(path, aside);
  } catch {
    return; // Gone already: someone else removed it.
  }
  if (JSON.stringify(readHolder(aside)) !== JSON.stringify(judged)) {
    try {
      linkSync(aside, path); // Put the live lock back (fails if yet another one exists).
    } catch {
      // Another lock is in place already.
    }
  }
  rmSync(aside, { force: true });
}

/**
 * Takes `dir/name`, or refuses with one line naming the holder. `what` says what the folder
 * is ("run folder", "model folder").
 */
export function acquireLock(dir: string, name: string, what: string): Lock {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const me: Holder = { pid: process.pid, host: hostname(), command: process.argv.slice(2).join(' '), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      if (attempt === 0 && isStale(path, holder)) {
        removeStale(path, holder);
        continue; // Once: a lock that is there again is another process's.
      }
      const who = holder
        ? `process ${holder.pid} on ${holder.host}${holder.command ? ` (${holder.command})` : ''} since ${holder.since}`
        : 'an unknown process (the lock file is unreadable)';
      const elsewhere = holder && holder.host !== hostname() ? ` (taken over once it goes ${STALE_MS / 60_000} minutes without updating ${path})` : '';
      throw new LockBusy(
        `The ${what} ${dir} is in use by ${who}${elsewhere}. Wait for it to finish, or, if it is no longer running, delete ${path}.`,
      );
    }
    try {
      writeSync(fd, JSON.stringify(me) + '\n');
    } finally {
      closeSync(fd);
    }
    break;
  }
  let held = true;
  const heartbeat = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // Removed by hand: the holder carries on; a newcomer may take the folder.
    }
  }, HEARTBEAT_MS).unref();
  const release = (): void => {
    if (!held) return;
    held = false;
    clearInterval(heartbeat);
    process.off('exit', release);
    // Only our own lock: never remove one a later holder took over.
    const holder = readHolder(path);
    if (holder?.pid === me.pid && holder.host === me.host && holder.since === me.since) rmSync(path, { force: true });
    // A folder made only for the lock (the work failed before writing anything) goes too.
    if (created) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty: the work's files stay.
      }
    }
  };
  process.on('exit', release);
  return { path, release };
}
