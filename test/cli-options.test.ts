// The one options module: number (with fractions), integer, positive, list and epsilon-list
// parsers, as every command and script uses them through commander.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { parseEpsilonList, parseInteger, parseList, parseNumber, parsePositiveInteger } from '../src/cli/options.js';

const ROOT = join(import.meta.dirname, '..');
const run = (script: string, ...args: string[]) => spawnSync(process.execPath, [join(ROOT, script), ...args], { encoding: 'utf8' });

describe('option parsers', () => {
  it('numbers: decimals, exponents and fractions such as 8/255', () => {
    const p = parseNumber('--x');
    expect(p('0.1')).toBe(0.1);
    expect(p('-2.5')).toBe(-2.5);
    expect(p('1e-3')).toBe(0.001);
    expect(p('.5')).toBe(0.5);
    expect(p('8/255')).toBe(8 / 255);
    expect(p(' 2 / 255 ')).toBe(2 / 255);
    for (const bad of ['abc', '', '1/2/3', '0x10', '1/0', 'Infinity', '8/', '1,2']) {
      expect(() => p(bad)).toThrow(UsageError);
    }
    expect(() => p('abc')).toThrow("Invalid --x 'abc': expected a number (e.g. 0.1 or 8/255).");
    expect(() => p('1/0')).toThrow("Invalid --x '1/0': expected a finite number.");
  });

  it('ranges say which bound is broken', () => {
    expect(() => parseNumber('--eps', { min: 0 })('-0.1')).toThrow("Invalid --eps '-0.1': must be >= 0.");
    expect(() => parseNumber('--f', { max: 1 })('3/2')).toThrow("Invalid --f '3/2': must be <= 1.");
    expect(parseNumber('--f', { min: 0, max: 1 })('1')).toBe(1);
  });

  it('integers and positive integers', () => {
    expect(parseInteger('--seed')('-3')).toBe(-3);
    expect(() => parseInteger('--seed')('1.5')).toThrow("Invalid --seed '1.5': expected an integer.");
    expect(() => parseInteger('--seed')('9007199254740993')).toThrow(/expected an integer/);
    expect(parsePositiveInteger('--jobs')('4')).toBe(4);
    expect(() => parsePositiveInteger('--jobs')('0')).toThrow("Invalid --jobs '0': must be >= 1.");
  });

  it('lists, with or without a set of valid values', () => {
    expect(parseList('--ops')(' a, b,,c ')).toEqual(['a', 'b', 'c']);
    expect(() => parseList('--ops')(' , ')).toThrow(/give at least one value/);
    expect(parseList('--only', ['train', 'forward'])('forward')).toEqual(['forward']);
    expect(() => parseList('--only', ['train', 'forward'])('train,back')).toThrow("Invalid --only value 'back'. Valid values: train, forward.");
  });

  it('epsilon lists: fractions allowed, negative says must be >= 0, not "not a number"', () => {
    expect(parseEpsilonList('--eps')('0, 2/255,0.1')).toEqual([0, 2 / 255, 0.1]);
    expect(() => parseEpsilonList('--eps')('0.1,-0.05')).toThrow("Invalid --eps '-0.05': must be >= 0.");
    expect(() => parseEpsilonList('--eps')('8/255,abc')).toThrow(/'abc': expected a number/);
  });
});

describe('every command and script parses with them', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['bin/dcnet.js', ['attack', '--model', 'm', '--attack', 'fgsm', '--eps', '-0.1'], /^dcnet: Invalid --eps '-0.1': must be >= 0\.$/],
    ['bin/dcnet.js', ['attack', '--model', 'm', '--attack', 'fgsm', '--eps', '0.1', '--batch', '0'], /^dcnet: Invalid --batch '0': must be >= 1\.$/],
    ['bin/dcnet.js', ['train', '--model', 'mnist/small-cnn/standard/fgsm-at/s0', '--eps', '-1/255'], /^dcnet: Invalid --eps '-1\/255': must be >= 0\.$/],
    ['bin/dcnet.js', ['bench', '--jobs', 'two'], /^dcnet: Invalid --jobs 'two': expected an integer\.$/],
    ['bin/dcnet.js', ['zoo', 'ids', '--seeds', '0'], /^dcnet: Invalid --seeds '0': must be >= 1\.$/],
    ['dist/src/perf/cli.js', ['--batch', '-4'], /^perf: Invalid --batch '-4': must be >= 1\.$/],
    ['dist/src/perf/cli.js', ['--only', 'train,backward'], /^perf: Invalid --only value 'backward'/],
    ['dist/src/perf/side-by-side.js', ['--rounds', '1.5'], /^perf:side-by-side: Invalid --rounds '1.5': expected an integer\.$/],
    ['dist/attacks/bench-throughput.js', ['--repeats', '0'], /^bench:attacks: Invalid --repeats '0': must be >= 1\.$/],
    ['scripts/train-speed.mjs', ['--images', 'lots'], /^train-speed: Invalid --images 'lots': expected an integer\.$/],
  ];
  it.each(cases)('%s %j', (script, args, message) => {
    const r = run(script, ...args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
  });
});
