// The `@cs336/tokenizer/gpt2` entry in Node, Deno and Bun: as gpt2.ts, with the Node Tokenizer
// (fromFiles, encodeFile) of the main entry.
import { loadGpt2Encoding } from './gpt2-encoding.js';
import { Tokenizer } from './node-tokenizer.js';

export { gpt2Model } from './gpt2-encoding.js';

let tokenizer: Promise<Tokenizer> | undefined;

/** GPT-2's tokenizer (`<|endoftext|>` is its special token), built on first call and then shared. */
export function gpt2(): Promise<Tokenizer> {
  tokenizer ??= loadGpt2Encoding().then((precompiled) => new Tokenizer(new Map(), [], [], precompiled));
  return tokenizer;
}
