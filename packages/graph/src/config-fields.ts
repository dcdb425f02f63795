/**
 * Field checks shared by every `resolveXConfig` in the workspace (graph's session options, nn's
 * TransformerConfig, optim's optimizer configs, train's TrainConfig): a config read from JSON can hold
 * a misspelt key or a string where a number goes, and both must fail loudly instead of falling back to
 * a default. It lives in @cs336/graph because that is the one package every config owner depends on.
 */

/** What a field holds: a primitive type, a callback, a list of strings, or one of a fixed set of strings. */
export type ConfigFieldType = 'number' | 'string' | 'boolean' | 'function' | 'string[]' | readonly string[];

/** Field types read off a defaults object (each default's typeof). */
export function fieldTypesOf<T extends object>(defaults: T): Record<keyof T, ConfigFieldType> {
  const types: Record<string, ConfigFieldType> = {};
  for (const [key, value] of Object.entries(defaults)) {
    if (typeof value === 'number') types[key] = 'number';
    else if (typeof value === 'string') types[key] = 'string';
    else if (typeof value === 'boolean') types[key] = 'boolean';
    else if (Array.isArray(value)) types[key] = 'string[]';
    else throw new Error(`fieldTypesOf: default of "${key}" is ${describe(value)}; give its type explicitly`);
  }
  return types as Record<keyof T, ConfigFieldType>;
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `name` (ignoring case, `-` and `_`, so `d_model` and `d-model` find
 * dModel), or undefined when none is close enough to be a plausible typo.
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[-_.]/g, '');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(fold(name), fold(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** `; did you mean "x"?` or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const nearest = nearestName(name, candidates);
  return nearest !== undefined ? `; did you mean "${nearest}"?` : '';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array ${JSON.stringify(value)}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `the ${typeof value} ${String(value)}`;
}

function matches(value: unknown, type: ConfigFieldType): boolean {
  if (typeof type !== 'string') return typeof value === 'string' && type.includes(value);
  if (type === 'string[]') return Array.isArray(value) && value.every((item) => typeof item === 'string');
  return typeof value === type;
}

function typeName(type: ConfigFieldType): string {
  if (typeof type !== 'string') return `one of ${type.map((v) => JSON.stringify(v)).join(', ')}`;
  return type === 'string[]' ? 'a list of strings' : `a ${type}`;
}

/**
 * Throws on the first field of `given` that `fields` does not list (naming the nearest known one) or
 * whose value has the wrong type. Fields set to `undefined` count as absent. `what` prefixes the
 * message (e.g. 'TransformerConfig').
 */
export function checkConfigFields(what: string, given: unknown, fields: Readonly<Record<string, ConfigFieldType>>): void {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new Error(`${what}: expected an object of fields, got ${describe(given)}`);
  const known = Object.keys(fields);
  for (const [key, value] of Object.entries(given)) {
    const type = fields[key];
    if (type === undefined) throw new Error(`${what}: unknown field "${key}"${didYouMean(key, known)} (fields: ${known.join(', ')})`);
    if (value !== undefined && !matches(value, type)) throw new Error(`${what}: ${key} must be ${typeName(type)}, got ${describe(value)}`);
  }
}
