// Parsers for numeric CLI options: a bad value is a UsageError naming the option.
import { UsageError } from './runtime.js';

/** A number, also written as a fraction such as 8/255 (the usual way to write CIFAR epsilons). */
export function parseNumber(option: string): (value: string) => number {
  return (value) => {
    const m = /^\s*([0-9.eE+-]+)\s*(?:\/\s*([0-9.eE+-]+))?\s*$/.exec(value);
    const n = m ? (m[2] === undefined ? Number(m[1]) : Number(m[1]) / Number(m[2])) : NaN;
    if (!Number.isFinite(n)) throw new UsageError(`Invalid ${option} '${value}': expected a number (e.g. 0.1 or 8/255).`);
    return n;
  };
}

export function parseInteger(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new UsageError(`Invalid ${option} '${value}': expected an integer.`);
    }
    return n;
  };
}
