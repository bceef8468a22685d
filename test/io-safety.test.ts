// The file mechanisms records and results rely on: atomic writes that leave no temp file
// behind, appends that never glue onto a torn line, readers that skip torn lines and keep the
// rest, and folder locks that refuse a second writer but take over a dead one's lock.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// Lets a test make the next rename fail (a full disk, a vanished folder) after the temp file exists.
const failRename = vi.hoisted(() => ({ next: false }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  return {
    ...fs,
    renameSync: (from: string, to: string) => {
      if (failRename.next) {
        failRename.next = false;
        throw new Error('rename failed');
      }
      return fs.renameSync(from, to);
    },
  };
});
import { appendLine, checkOutputFile, writeFileAtomic } from '../src/io/atomic.js';
import { readJsonLines } from '../src/io/jsonl.js';
import { acquireLock, removeStale } from '../src/io/lock.js';
import { appendRecord, checkRunFolder, readRecords, RECORD_SCHEMA } from '../src/bench/results-store.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let k = 0;
const fresh = (): string => {
  const dir = join(root, `d${k++}`);
  mkdirSync(dir);
  return dir;
};

describe('writeFileAtomic', () => {
  it('writes beside the target and leaves no temp file', () => {
    const dir = fresh();
    writeFileAtomic(join(dir, 'a.json'), 'one');
    expect(readdirSync(dir)).toEqual(['a.json']);
    // The target is an existing folder: refused before any temp file is written.
    mkdirSync(join(dir, 'b'));
    expect(() => writeFileAtomic(join(dir, 'b'), 'x')).toThrow(/is a folder: give a file path/);
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b']);
  });

  it('removes its temp file when the rename fails', () => {
    const dir = fresh();
    failRename.next = true;
    expect(() => writeFileAtomic(join(dir, 'c.json'), 'data')).toThrow(/rename failed/);
    expect(readdirSync(dir)).toEqual([]);
    writeFileAtomic(join(dir, 'c.json'), 'data');
    expect(readdirSync(dir)).toEqual(['c.json']);
  });

  it('refuses output paths that cannot be files before any work', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'file'), '');
    expect(() => checkOutputFile(join(dir, 'sub') + '/', '--out')).toThrow(/--out .*sub\/ is a folder/);
    expect(() => checkOutputFile(join(dir, 'file', 'x.json'), '--out')).toThrow(/cannot be created: .*file is a file, not a folder/);
    expect(() => checkOutputFile(join(dir, 'new', 'deeper', 'x.json'), '--out')).not.toThrow();
  });
});

describe('torn lines', () => {
  it('an append after a torn last line starts on a new line; the reader skips and names the fragment', () => {
    const path = join(fresh(), 'r.jsonl');
    appendLine(path, JSON.stringify({ a: 1 }));
    appendFileSync(path, '{"a":2,"b"'); // killed mid-write
    appendLine(path, JSON.stringify({ a: 3 }));
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"a":2,"b"\n{"a":3}\n');
    const r = readJsonLines(path);
    expect(r.records.map((x) => x.value)).toEqual([{ a: 1 }, { a: 3 }]);
    expect(r.skipped).toEqual([2]);
  });

  it('results.jsonl: complete records around a torn line are all kept, the torn line reported', () => {
    const dir = fresh();
    const record = (cellId: string) => ({ schema: RECORD_SCHEMA, cellId, kind: 'train', modelId: 'm', shard: '0/1', startedAt: '', finishedAt: '', wallSeconds: 1, backend: 'cpu', toolkitVersion: 't', result: {} }) as const;
    const shard = { index: 0, count: 1 };
    appendRecord(dir, shard, record('a'));
    appendFileSync(join(dir, 'results.jsonl'), '{"schema":"dcnet-rob');
    appendRecord(dir, shard, record('b'));
    const { records, torn } = readRecords(dir);
    expect([...records.keys()]).toEqual(['a', 'b']);
    expect(torn).toEqual([expect.stringMatching(/skipped 1 torn line of .*results\.jsonl \(line 2\)/)]);
  });
});

describe('folder locks', () => {
  it('refuses a second holder with its PID and host, and frees the folder on release', () => {
    const dir = fresh();
    const lock = acquireLock(dir, '.x.lock', 'run folder');
    expect(() => acquireLock(dir, '.x.lock', 'run folder')).toThrow(
      new RegExp(`The run folder .* is in use by process ${process.pid} on ${hostname()}.*delete .*\\.x\\.lock`),
    );
    lock.release();
    expect(existsSync(join(dir, '.x.lock'))).toBe(false);
    acquireLock(dir, '.x.lock', 'run folder').release();
    // A folder created for the lock and left empty is removed with it; one with files stays.
    acquireLock(join(dir, 'new'), '.x.lock', 'model folder').release();
    expect(existsSync(join(dir, 'new'))).toBe(false);
    const kept = acquireLock(join(dir, 'kept'), '.x.lock', 'model folder');
    writeFileSync(join(dir, 'kept', 'model.json'), '{}');
    kept.release();
    expect(readdirSync(join(dir, 'kept'))).toEqual(['model.json']);
    expect(readdirSync(dir).sort()).toEqual(['kept']);
  });

  it("takes over a lock whose holder is dead (same host), never one whose holder lives or is elsewhere", () => {
    const dir = fresh();
    // A PID that existed and is gone: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    writeFileSync(join(dir, '.x.lock'), JSON.stringify({ pid: deadPid, host: hostname(), command: 'bench', since: 'then' }));
    const lock = acquireLock(dir, '.x.lock', 'run folder');
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
    writeFileSync(join(dir, '.x.lock'), JSON.stringify({ pid: deadPid, host: 'another-host', command: 'bench', since: 'then' }));
    expect(() => acquireLock(dir, '.x.lock', 'run folder')).toThrow(/in use by process \d+ on another-host/);
  });
});

describe('stale lock takeover', () => {
  it('a killed holder not yet reaped by its parent (a zombie) is dead', () => {
    const child = spawn('sleep', ['60']);
    child.kill('SIGKILL');
    // Synchronously, so this process cannot reap it: wait until it is a zombie.
    const stat = () => readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    for (let i = 0; i < 1e7 && !/\)\s+Z\s/.test(stat()); i++);
    expect(stat()).toMatch(/\)\s+Z\s/);
    const dir = fresh();
    writeFileSync(join(dir, '.x.lock'), JSON.stringify({ pid: child.pid, host: hostname(), command: 'bench', since: 'then' }));
    acquireLock(dir, '.x.lock', 'run folder').release();
  });


  it('removes the lock judged stale, but puts back one that replaced it meanwhile', () => {
    const dir = fresh();
    const path = join(dir, '.x.lock');
    const stale = { pid: 1, host: 'h', command: 'bench', since: 'then' };
    writeFileSync(path, JSON.stringify(stale));
    removeStale(path, stale);
    expect(readdirSync(dir)).toEqual([]);
    // Another waiter took over between our judgement and our removal: its lock stays.
    const live = { ...stale, pid: 2, since: 'now' };
    writeFileSync(path, JSON.stringify(live));
    removeStale(path, stale);
    expect(readdirSync(dir)).toEqual(['.x.lock']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(live);
  });
});

describe('run folders', () => {
  it('accepts new, empty and run folders; refuses files and folders holding something else', () => {
    const dir = fresh();
    expect(() => checkRunFolder(join(dir, 'new'))).not.toThrow();
    expect(() => checkRunFolder(dir)).not.toThrow();
    writeFileSync(join(dir, '.results.jsonl.lock'), '{}');
    expect(() => checkRunFolder(dir)).not.toThrow();
    writeFileSync(join(dir, 'thesis.tex'), '');
    expect(() => checkRunFolder(dir)).toThrow(/is not a benchmark run folder \(no profile\.json, but it holds thesis\.tex\)/);
    writeFileSync(join(dir, 'profile.json'), '{}');
    expect(() => checkRunFolder(dir)).not.toThrow();
    expect(() => checkRunFolder(join(dir, 'thesis.tex'))).toThrow(/is a file/);
  });
});
