// The one set of parsers for command-line values, used as commander argument parsers by every
// command and script: a bad value is a UsageError naming the option, the value and what is
// expected.
import { UsageError } from '../errors.js';

export type ValueParser<T> = (value: string) => T;

export interface Range {
  min?: number;
  max?: number;
}

function invalid(option: string, value: string, why: string): never {
  throw new UsageError(`Invalid ${option} '${value}': ${why}.`);
}

function checkRange(option: string, value: string, n: number, range: Range): number {
  if (range.min !== undefined && n < range.min) invalid(option, value, `must be >= ${range.min}`);
  if (range.max !== undefined && n > range.max) invalid(option, value, `must be <= ${range.max}`);
  return n;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A finite number, also written as a fraction such as 8/255 (the usual way to write CIFAR epsilons). */
function numberOf(option: string, value: string): number {
  const parts = value.trim().split('/').map((p) => p.trim());
  if (parts.length > 2 || !parts.every((p) => DECIMAL.test(p))) invalid(option, value, 'expected a number (e.g. 0.1 or 8/255)');
  const n = parts.length === 2 ? Number(parts[0]) / Number(parts[1]) : Number(parts[0]);
  if (!Number.isFinite(n)) invalid(option, value, 'expected a finite number');
  return n;
}

export function parseNumber(option: string, range: Range = {}): ValueParser<number> {
  return (value) => checkRange(option, value, numberOf(option, value), range);
}

export function parseInteger(option: string, range: Range = {}): ValueParser<number> {
  return (value) => {
    const n = Number(value);
    if (!/^\s*[+-]?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) invalid(option, value, 'expected an integer');
    return checkRange(option, value, n, range);
  };
}

/** An integer >= 1 (a count, a batch size, a number of jobs). */
export function parsePositiveInteger(option: string): ValueParser<number> {
  return parseInteger(option, { min: 1 });
}

/** Comma-separated items, blanks dropped; with `valid`, every item must be one of them. */
export function parseList<T extends string = string>(option: string, valid?: readonly T[]): ValueParser<T[]> {
  return (value) => {
    const items = value.split(',').map((v) => v.trim()).filter((v) => v.length > 0);
    if (!items.length) invalid(option, value, 'give at least one value');
    for (const item of items) {
      if (valid && !(valid as readonly string[]).includes(item)) {
        throw new UsageError(`Invalid ${option} value '${item}'. Valid values: ${valid.join(', ')}.`);
      }
    }
    return items as T[];
  };
}

/** "0,2/255,8/255" -> [0, 0.00784, 0.03137]: Linf epsilons, each >= 0. */
export function parseEpsilonList(option: string): ValueParser<number[]> {
  const epsilon = parseNumber(option, { min: 0 });
  return (value) => parseList(option)(value).map(epsilon);
}
