/** Typed values from command-line flag strings; a bad value is a UsageError naming the flag. */
import { UsageError } from './command.js';

/** An integer ≥ `min` from `--flag VALUE`; `undefined` when the flag is absent. */
export function integerFlag(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}; got ${JSON.stringify(value)}`);
  return Number(value);
}

/** A finite number from `--flag VALUE`; `undefined` when the flag is absent. */
export function numberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} needs a number; got ${JSON.stringify(value)}`);
  return n;
}
