// Resumable evaluations: each finished batch is appended to a JSON-lines file as one line;
// a rerun with the same settings skips the batches found there. A torn line (a kill
// mid-write) is skipped and reported, and a file written by other settings is refused,
// never mixed in.
import { existsSync } from 'node:fs';
import { appendLine } from '../io/atomic.js';
import { describeSkipped, readJsonLines } from '../io/jsonl.js';
import { AttackError } from '../../attacks/index.js';
import type { BatchOutcome } from './batch.js';

/** What must match for saved batches to be reused. */
export type Fingerprint = Record<string, unknown>;

/** FNV-1a over the bytes of the evaluated inputs and labels: the data must match too. */
export function dataHash(images: Float32Array, labels: Int32Array): string {
  let h = 0x811c9dc5;
  for (const arr of [new Uint8Array(images.buffer, images.byteOffset, images.byteLength), new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength)]) {
    for (let i = 0; i < arr.length; i++) h = Math.imul(h ^ arr[i]!, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Reads the batches a previous run saved; writes the header when starting fresh. Torn lines
 * are skipped (their batches are simply redone) and passed to onWarning.
 */
export function openCheckpoint(path: string, fingerprint: Fingerprint, onWarning?: (message: string) => void): Map<number, BatchOutcome> {
  const done = new Map<number, BatchOutcome>();
  const expected = JSON.stringify(fingerprint);
  if (!existsSync(path)) {
    appendLine(path, JSON.stringify({ type: 'header', fingerprint }));
    return done;
  }
  const { records: lines, skipped } = readJsonLines(path);
  const records = lines.map((r) => r.value as { type: string; fingerprint?: Fingerprint; batch?: BatchOutcome });
  const header = records[0];
  if (lines[0]?.line !== 1 || header?.type !== 'header') {
    throw new AttackError(`Checkpoint ${path} has no valid header on its first line: move it away to start over.`);
  }
  if (JSON.stringify(header.fingerprint) !== expected) {
    const differs = header.fingerprint
      ? Object.keys(fingerprint).filter((k) => JSON.stringify(header.fingerprint![k]) !== JSON.stringify(fingerprint[k]))
      : ['header'];
    throw new AttackError(
      `Checkpoint ${path} belongs to a different evaluation (differs in: ${differs.join(', ')}). ` +
        'Use another checkpoint path, or delete it to start over.',
    );
  }
  if (skipped.length) onWarning?.(describeSkipped(path, skipped));
  for (const r of records.slice(1)) if (r.type === 'batch' && r.batch) done.set(r.batch.start, r.batch);
  return done;
}

export function saveBatch(path: string, batch: BatchOutcome): void {
  appendLine(path, JSON.stringify({ type: 'batch', batch }));
}
