// The first line of a committed measurement (docs/*.txt): when, on what machine, and the load
// average around it, since a measurement taken on a busy machine inflates every cost.
// One format, written by the measuring scripts and read by the README generators.
import { cpus, loadavg } from 'node:os';

/** `# measured DATE on CPU (N cores), Node V; load average B before, A after` (A: now). */
export function measuredHeader(loadBefore, suffix = '') {
  return (
    `# measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores), ` +
    `Node ${process.version}; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after${suffix}`
  );
}

/** The header's fields, or undefined when the text has none. */
export function parseMeasuredHeader(text) {
  const m = text.match(/^# measured (\S+) on (.+?) \((\d+) cores\), Node \S+; load average ([\d.]+) before, ([\d.]+) after/m);
  return m ? { date: m[1], cpu: m[2], cores: m[3], before: m[4], after: m[5] } : undefined;
}
