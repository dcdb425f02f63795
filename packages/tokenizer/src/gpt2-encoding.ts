/**
 * GPT-2's encoding (tiktoken's `gpt2`, 50,257 ids) rebuilt from the compact data in gpt2-data.ts,
 * which is imported only when first asked for: importing the `/gpt2` entry loads a few hundred
 * bytes, and bundlers can split the 270 kB of data into a chunk of its own.
 *
 * The data gives the compiled form (byte → id, merge triples) and the token table directly, so the
 * tokenizer skips compileBpe's validation and byte-string maps, and the vocab Map and merges list
 * are built only if someone asks for them; test/gpt2.test.ts checks that the result equals the
 * tokenizer built from GPT-2's vocab.json + merges.txt.
 */
import { tokenBytesOf } from './token-table.js';
import type { PrecompiledTokenizer, TokenizerModel } from './tokenizer.js';

/** Bytes of base64 text; `atob` is in every runtime this package targets (no Buffer). */
function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let encoding: Promise<PrecompiledTokenizer> | undefined;

/** GPT-2 compiled, with its model built on demand (loaded once, then shared). */
export function loadGpt2Encoding(): Promise<PrecompiledTokenizer> {
  encoding ??= import('./gpt2-data.js').then(({ BYTE_OF_ID, MERGE_PAIRS, END_OF_TEXT }) => {
    const byteOfId = fromBase64(BYTE_OF_ID);
    const pairs = fromBase64(MERGE_PAIRS);
    const view = new DataView(pairs.buffer);
    const mergeCount = pairs.length / 4;
    const endOfText = new TextEncoder().encode(END_OF_TEXT);
    const vocabSize = 256 + mergeCount + 1;

    // Token id → bytes: the 256 bytes, then each merge's two sides copied from earlier in the table.
    const offsets = new Int32Array(vocabSize + 1);
    const byteToId = new Int32Array(256);
    for (let id = 0; id < 256; id++) {
      offsets[id + 1] = id + 1;
      byteToId[byteOfId[id]!] = id;
    }
    const mergeTriples = new Int32Array(3 * mergeCount);
    for (let i = 0; i < mergeCount; i++) {
      const left = view.getUint16(4 * i, true);
      const right = view.getUint16(4 * i + 2, true);
      offsets[257 + i] = offsets[256 + i]! + (offsets[left + 1]! - offsets[left]!) + (offsets[right + 1]! - offsets[right]!);
      mergeTriples.set([left, right, 256 + i], 3 * i);
    }
    offsets[vocabSize] = offsets[vocabSize - 1]! + endOfText.length;
    const bytes = new Uint8Array(offsets[vocabSize]!);
    bytes.set(byteOfId);
    for (let i = 0; i < mergeCount; i++) {
      const left = mergeTriples[3 * i]!;
      const right = mergeTriples[3 * i + 1]!;
      const at = offsets[256 + i]!;
      bytes.copyWithin(at, offsets[left]!, offsets[left + 1]!);
      bytes.copyWithin(at + offsets[left + 1]! - offsets[left]!, offsets[right]!, offsets[right + 1]!);
    }
    bytes.set(endOfText, offsets[vocabSize - 1]!);
    const tokens = { bytes, offsets };

    const model = (): TokenizerModel => {
      const tokenOf = (id: number) => tokenBytesOf(tokens, id)!;
      const vocab = new Map<number, Uint8Array>();
      for (let id = 0; id < vocabSize; id++) vocab.set(id, tokenOf(id));
      const merges: [Uint8Array, Uint8Array][] = [];
      for (let i = 0; i < mergeCount; i++) merges.push([vocab.get(mergeTriples[3 * i]!)!, vocab.get(mergeTriples[3 * i + 1]!)!]);
      return { vocab, merges, specialTokens: [END_OF_TEXT] };
    };
    return { compiled: { byteToId, mergeTriples, specialTokens: [END_OF_TEXT], specialIds: [vocabSize - 1] }, tokens, model };
  });
  return encoding;
}

/** GPT-2's vocab, merges and `<|endoftext|>` as the one special token. */
export async function gpt2Model(): Promise<TokenizerModel> {
  return (await loadGpt2Encoding()).model();
}
