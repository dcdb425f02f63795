/**
 * The slow, obvious encoder the fast one is tested against: no cache, no hash table, no heap.
 * Special tokens are found by trying every token (longest first) at every position; each GPT-2
 * pre-token becomes a list of byte strings, and the adjacent pair with the lowest merge rank
 * (leftmost on ties) is merged until no adjacent pair is a merge.
 */
import { pretokenize } from '@cs336/bpe/pretokenize';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function referenceEncode(
  text: string,
  vocab: ReadonlyMap<number, Uint8Array>,
  merges: readonly (readonly [Uint8Array, Uint8Array])[],
  specialTokens: readonly string[] = [],
): number[] {
  const idOf = new Map<string, number>();
  for (const [id, bytes] of [...vocab].sort((a, b) => a[0] - b[0])) if (!idOf.has(hex(bytes))) idOf.set(hex(bytes), id);
  let nextId = Math.max(-1, ...vocab.keys()) + 1;
  for (const special of specialTokens) {
    const key = hex(new TextEncoder().encode(special));
    if (!idOf.has(key)) idOf.set(key, nextId++);
  }
  const rankOf = new Map<string, number>();
  merges.forEach(([left, right], rank) => {
    const key = `${hex(left)} ${hex(right)}`;
    if (!rankOf.has(key)) rankOf.set(key, rank);
  });

  const ids: number[] = [];
  const encodeOrdinary = (segment: string) => {
    for (const pretoken of pretokenize(segment)) {
      const parts = [...new TextEncoder().encode(pretoken)].map((b) => hex(Uint8Array.of(b)));
      for (;;) {
        let best = -1;
        let bestRank = Infinity;
        for (let i = 0; i + 1 < parts.length; i++) {
          const rank = rankOf.get(`${parts[i]} ${parts[i + 1]}`);
          if (rank !== undefined && rank < bestRank) {
            bestRank = rank;
            best = i;
          }
        }
        if (best < 0) break;
        parts.splice(best, 2, parts[best]! + parts[best + 1]!);
      }
      for (const part of parts) ids.push(idOf.get(part)!);
    }
  };

  const bySize = [...specialTokens].sort((a, b) => b.length - a.length);
  let segmentStart = 0;
  for (let i = 0; i < text.length; ) {
    const special = bySize.find((token) => text.startsWith(token, i));
    if (special === undefined) {
      i++;
      continue;
    }
    encodeOrdinary(text.slice(segmentStart, i));
    ids.push(idOf.get(hex(new TextEncoder().encode(special)))!);
    i += special.length;
    segmentStart = i;
  }
  encodeOrdinary(text.slice(segmentStart));
  return ids;
}
