// The CLI progress bar: rendering, and what reaches a terminal vs a log file.
import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressBar, renderProgress } from '../src/cli/progress.js';

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
