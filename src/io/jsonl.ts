// Reads a JSON-lines file written by appendLine. A kill mid-write leaves a fragment at the
// end, and the next append starts on a new line after it; such lines are skipped and named
// (never a reason to refuse the complete records around them).
import { existsSync, readFileSync } from 'node:fs';

export interface JsonLines {
  /** The parsed records, in file order, with their 1-based line numbers. */
  records: Array<{ line: number; value: unknown }>;
  /** 1-based numbers of the lines that are not JSON (torn writes). */
  skipped: number[];
}

export function readJsonLines(path: string): JsonLines {
  const out: JsonLines = { records: [], skipped: [] };
  if (!existsSync(path)) return out;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!text.trim()) return;
      try {
        out.records.push({ line: i + 1, value: JSON.parse(text) });
      } catch {
        out.skipped.push(i + 1);
      }
    });
  return out;
}

/** "skipped 1 torn line of results.jsonl (line 3)" for a warning. */
export function describeSkipped(path: string, skipped: number[]): string {
  const s = skipped.length === 1 ? '' : 's';
  return `skipped ${skipped.length} torn line${s} of ${path} (line${s} ${skipped.join(', ')}): an interrupted write; the records around it are kept`;
}
