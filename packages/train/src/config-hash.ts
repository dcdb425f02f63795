/**
 * A canonical JSON form (keys sorted at every level) and its SHA-256, so "same config" means the
 * same hash no matter the key order; artifacts and checkpoints are matched by it.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/** First 16 hex digits of sha256(canonicalJson(value)). */
export function configHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** Lines like "dModel: 64 → 128" for every top-level field that differs, for error messages. */
export function describeDifferences(expected: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return keys
    .filter((key) => canonicalJson(expected[key]) !== canonicalJson(actual[key]))
    .map((key) => `${key}: ${canonicalJson(actual[key])} in the checkpoint, ${canonicalJson(expected[key])} now`);
}
