/**
 * Every token's bytes in one buffer: id's bytes are `bytes[offsets[id], offsets[id + 1])`, and an id
 * the vocab skips has none (every real token has at least one byte). One buffer instead of an
 * array of 50k small Uint8Arrays: the bundled GPT-2 builds it with `copyWithin` and no allocation
 * per token, which is most of what its load time would otherwise be.
 */
export interface TokenTable {
  bytes: Uint8Array;
  /** vocabSize + 1 entries. */
  offsets: Int32Array;
}

export function tokenTableOf(tokenBytes: readonly (Uint8Array | undefined)[]): TokenTable {
  const offsets = new Int32Array(tokenBytes.length + 1);
  for (let id = 0; id < tokenBytes.length; id++) offsets[id + 1] = offsets[id]! + (tokenBytes[id]?.length ?? 0);
  const bytes = new Uint8Array(offsets[tokenBytes.length]!);
  tokenBytes.forEach((token, id) => bytes.set(token!, offsets[id]!));
  return { bytes, offsets };
}

/** The bytes of `id` (a view into the table), or undefined when the table has no such token. */
export function tokenBytesOf(table: TokenTable, id: number): Uint8Array | undefined {
  if (!Number.isInteger(id) || id < 0 || id + 1 >= table.offsets.length) return undefined;
  const start = table.offsets[id]!;
  const end = table.offsets[id + 1]!;
  return end > start ? table.bytes.subarray(start, end) : undefined;
}
