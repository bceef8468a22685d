// The run's results: one JSON record per finished cell, appended to a JSON-lines file as
// soon as the cell ends. A killed run resumes by skipping every cell that has a record;
// shards write their own files and `dcnet report` merges them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describeSkipped, readJsonLines } from '../io/jsonl.js';
import { join } from 'node:path';
import { appendLine, writeFileAtomic } from '../io/atomic.js';
import type { BenchProfile } from './profile.js';
import { ProfileError } from './profile.js';
import type { ShardSpec } from './cells.js';
import { PluginError, type PluginRecord } from '../../attacks/index.js';

export const RECORD_SCHEMA = 'dcnet-robustness/cell-result@1';

export interface CellRecord<R = unknown> {
  schema: typeof RECORD_SCHEMA;
  cellId: string;
  kind: 'train' | 'evaluate';
  modelId: string;
  shard: string;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  backend: string;
  toolkitVersion: string;
  /** The attack plugins loaded for the cell (absent when none). */
  plugins?: PluginRecord[];
  result: R;
}

export function resultsFileName(shard: ShardSpec): string {
  return shard.count === 1 ? 'results.jsonl' : `results.shard-${shard.index}-of-${shard.count}.jsonl`;
}

export function appendRecord(runDir: string, shard: ShardSpec, record: CellRecord): void {
  appendLine(join(runDir, resultsFileName(shard)), JSON.stringify(record));
}

/**
 * Every record of the run, from all shards' files; for a cell recorded twice (a transfer
 * source trained by two shards) the first is kept. Torn lines (a kill mid-write) are skipped
 * and described in `torn`, one message per file.
 */
export function readRecords(runDir: string): { records: Map<string, CellRecord>; skippedLines: number; torn: string[] } {
  const records = new Map<string, CellRecord>();
  let skippedLines = 0;
  const torn: string[] = [];
  if (!existsSync(runDir)) return { records, skippedLines, torn };
  const files = readdirSync(runDir)
    .filter((f) => /^results(\.shard-\d+-of-\d+)?\.jsonl$/.test(f))
    .sort();
  for (const f of files) {
    const lines = readJsonLines(join(runDir, f));
    if (lines.skipped.length) torn.push(describeSkipped(join(runDir, f), lines.skipped));
    skippedLines += lines.skipped.length;
    for (const { value } of lines.records) {
      const rec = value as CellRecord;
      if (rec?.schema !== RECORD_SCHEMA || typeof rec.cellId !== 'string') {
        skippedLines++;
        continue;
      }
      if (!records.has(rec.cellId)) records.set(rec.cellId, rec);
    }
  }
  return { records, skippedLines, torn };
}

const SESSIONS_FILE = 'sessions.jsonl';

/** One invocation of `dcnet bench` on a run folder (a run killed and resumed has several). */
export interface SessionRecord {
  shard: string;
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  jobs: number;
  backend: string;
  ran: number;
  failed: number;
  /** The machine (CPU model, cores, Node) and its 1-minute load average at the start and the end. */
  machine?: { cpu: string; cores: number; node: string; loadAverage: [number, number] };
  /** The signal that stopped this sitting before it finished (its cells in flight are redone on resume). */
  interrupted?: string;
}

export function appendSession(runDir: string, s: SessionRecord): void {
  appendLine(join(runDir, SESSIONS_FILE), JSON.stringify(s));
}

export function readSessions(runDir: string): SessionRecord[] {
  return readJsonLines(join(runDir, SESSIONS_FILE)).records.map((r) => r.value as SessionRecord);
}

const PROFILE_FILE = 'profile.json';

/** The lock a bench process holds on its results file (shards of one run have their own). */
export function lockFileName(shard: ShardSpec): string {
  return `.${resultsFileName(shard)}.lock`;
}

/**
 * Refuses a --out that is not a run folder: a file, or a folder with other contents and no
 * profile.json (results would be mixed into someone else's files). New and empty folders are fine.
 */
export function checkRunFolder(runDir: string): void {
  if (!existsSync(runDir)) return;
  if (!statSync(runDir).isDirectory()) throw new ProfileError(`Run folder ${runDir} is a file: give a folder with --out DIR.`);
  const others = readdirSync(runDir).filter((f) => !f.endsWith('.lock'));
  if (others.length && !others.includes(PROFILE_FILE)) {
    throw new ProfileError(
      `${runDir} is not a benchmark run folder (no ${PROFILE_FILE}, but it holds ${others.slice(0, 3).join(', ')}` +
        `${others.length > 3 ? ', ...' : ''}): give a new or empty folder with --out DIR.`,
    );
  }
}

/**
 * Records the profile of a run; a resumed run must use the same one, or its results would
 * mix settings.
 */
export function pinProfile(runDir: string, profile: BenchProfile): void {
  const path = join(runDir, PROFILE_FILE);
  const text = JSON.stringify(profile, null, 2) + '\n';
  if (existsSync(path)) {
    const previous = readFileSync(path, 'utf8');
    if (JSON.stringify(JSON.parse(previous)) !== JSON.stringify(profile)) {
      throw new ProfileError(
        `${runDir} holds results of a different profile (${path}). Resume with the same profile, ` +
          `or choose another folder with --run NAME (or --out DIR).`,
      );
    }
    return;
  }
  writeFileAtomic(path, text);
}

export function readPinnedProfile(runDir: string): BenchProfile {
  const path = join(runDir, PROFILE_FILE);
  if (!existsSync(path)) {
    throw new ProfileError(`${runDir} is not a benchmark run: ${PROFILE_FILE} is missing. Run \`dcnet bench\` first.`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as BenchProfile;
}

const PLUGINS_FILE = 'plugins.json';

/**
 * Records the run's attack plugins (path and sha256); a resumed run must load the same
 * code, or its cells would mix two versions of an attack.
 */
export function pinPlugins(runDir: string, plugins: PluginRecord[]): void {
  const path = join(runDir, PLUGINS_FILE);
  if (!existsSync(path)) {
    writeFileAtomic(path, JSON.stringify(plugins, null, 2) + '\n');
    return;
  }
  const pinned = readPinnedPlugins(runDir);
  const retry = `Resume with the same plugin files, or choose another folder with --run NAME (or --out DIR).`;
  for (const old of pinned) {
    const now = plugins.find((p) => p.name === old.name || p.path === old.path);
    if (!now) throw new PluginError(`${runDir} was run with plugin ${old.name} (${old.path}), which is not loaded now: pass --plugin ${old.path}. ${retry}`);
    if (now.sha256 !== old.sha256) {
      throw new PluginError(
        `${runDir} was run with another version of plugin ${old.name}: sha256 ${old.sha256.slice(0, 12)}… then, ${now.sha256.slice(0, 12)}… now (${now.path}). ${retry}`,
      );
    }
  }
  const extra = plugins.filter((p) => !pinned.some((o) => o.sha256 === p.sha256));
  if (extra.length) {
    throw new PluginError(`${runDir} was run without plugin ${extra.map((p) => p.name).join(', ')}: drop it, or start another run folder with --run NAME (or --out DIR).`);
  }
}

/** The run's pinned plugins ([] for a run without plugins or from before plugins). */
export function readPinnedPlugins(runDir: string): PluginRecord[] {
  const path = join(runDir, PLUGINS_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as PluginRecord[]) : [];
}
