// The one progress renderer (train's bar, attack's points, the bench's cells): rendering, and
// what reaches a terminal vs a log file.
import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressBar, renderProgress, StatusLine } from '../src/progress.js';
import { RunProgress } from '../src/bench/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; out: string[] } {
  const out: string[] = [];
  const stream = { isTTY, columns: 200, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, out };
}

const line = (done: number) => ({ label: 'epoch 1/2', done, total: 4, fields: ['loss 0.5000'], etaSeconds: 3725 });

describe('progress bar', () => {
  it('renders bar, counts, fields and ETA', () => {
    expect(renderProgress(line(1), 8)).toBe('epoch 1/2 [##......] 1/4  loss 0.5000  ETA 1:02:05');
    expect(formatDuration(65)).toBe('01:05');
    expect(formatDuration(NaN)).toBe('--:--');
  });

  it('on a terminal: redraws in place, ends the line when done', () => {
    const { stream, out } = fakeStream(true);
    const bar = new ProgressBar(stream, 0);
    bar.update(line(1));
    bar.update(line(4));
    expect(out[0]!.startsWith('\r\x1b[2Kepoch 1/2 [')).toBe(true);
    expect(out.at(-1)).toBe('\n');
  });

  it('in a log: finished lines only, plus one per interval', () => {
    const { stream, out } = fakeStream(false);
    const bar = new ProgressBar(stream, 0, 60_000);
    bar.update(line(1));
    bar.update(line(2));
    bar.update(line(4));
    expect(out).toEqual([renderProgress(line(4)) + '\n']);
    const chatty = fakeStream(false);
    const every = new ProgressBar(chatty.stream, 0, -1);
    every.update(line(1));
    every.update(line(2));
    expect(chatty.out).toHaveLength(2);
  });
});

describe('one renderer for every long run', () => {
  it('one duration format: mm:ss under an hour, h:mm:ss above', () => {
    expect(formatDuration(0)).toBe('00:00');
    expect(formatDuration(59.6)).toBe('01:00');
    expect(formatDuration(3600)).toBe('1:00:00');
    expect(formatDuration(-1)).toBe('--:--');
  });

  it('a status line: important lines always reach a log, routine ones at most once per interval', () => {
    const { stream, out } = fakeStream(false);
    const s = new StatusLine(stream, { logIntervalMs: 60_000 });
    s.show('routine');
    s.show('start', { important: true });
    s.show('routine again');
    s.finish();
    expect(out).toEqual(['start\n']);
  });

  it('a status line on a terminal: redrawn in place, cut to the width, ended by finish()', () => {
    const { stream, out } = fakeStream(true);
    (stream as { columns: number }).columns = 6;
    const s = new StatusLine(stream, { intervalMs: 0 });
    s.show('abcdefgh');
    s.finish();
    s.finish();
    expect(out).toEqual(['\r\x1b[2Kabcde', '\n']);
  });

  it('the bench run progress draws through it: cell starts and ends logged, with elapsed and ETA in the one format', () => {
    const { stream, out } = fakeStream(false);
    const p = new RunProgress(3, new Map([['train', 2], ['evaluate', 1]]), 1, 1, stream);
    p.start('a', 'train', 'train standard');
    p.update('a', 'epoch 1/2', 0.5);
    p.finish('a', true);
    p.close();
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^\[1\/3 cells\] elapsed 00:00, ETA --:-- :: train standard starting\n$/);
    expect(out[1]).toMatch(/^\[2\/3 cells\] elapsed 00:00, ETA \d\d:\d\d\n$/);
  });
});
