/**
 * Typed values from command-line flag strings. A bad value, malformed or out of range, is a
 * UsageError naming the flag (exit 2; the CLI adds the command's usage line).
 */
import { UsageError } from './command.js';

/** An integer ≥ `min` from `--flag VALUE`; `undefined` when the flag is absent. */
export function integerFlag(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}; got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Bounds for numberFlag: `min` ≤ value (or < with `minExclusive`) and value ≤ `max`. */
export interface NumberRange {
  min?: number;
  minExclusive?: boolean;
  max?: number;
}

/** A finite number from `--flag VALUE` within `range`; `undefined` when the flag is absent. */
export function numberFlag(flag: string, value: string | undefined, range: NumberRange = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} needs a number; got ${JSON.stringify(value)}`);
  const { min, max, minExclusive = false } = range;
  const low = min === undefined || (minExclusive ? n > min : n >= min);
  const high = max === undefined || n <= max;
  if (!low || !high) {
    const bounds = min !== undefined && max !== undefined ? `in ${minExclusive ? '(' : '['}${min}, ${max}]` : min !== undefined ? `${minExclusive ? '>' : '≥'} ${min}` : `≤ ${max}`;
    throw new UsageError(`--${flag} must be ${bounds}; got ${JSON.stringify(value)}`);
  }
  return n;
}

/**
 * `--flag -1` as `--flag=-1`: Node's parseArgs reads a value starting with a dash as a flag, so a
 * negative number would be "ambiguous" instead of reaching the range check that names the flag.
 */
export function joinNegativeValues(argv: readonly string[], valueFlags: { has(flag: string): boolean }): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && valueFlags.has(arg.slice(2)) && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** `--device cpu|cuda`, cpu when absent. */
export function deviceFlag(value: string | undefined): 'cpu' | 'cuda' {
  const device = value ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda; got ${JSON.stringify(device)}`);
  return device;
}
