// The `@cs336/tokenizer/gpt2` entry outside Node: GPT-2's tokenizer with no files to ship.
import { loadGpt2Encoding } from './gpt2-encoding.js';
import { Tokenizer } from './tokenizer.js';

export { gpt2Model } from './gpt2-encoding.js';

let tokenizer: Promise<Tokenizer> | undefined;

/** GPT-2's tokenizer (`<|endoftext|>` is its special token), built on first call and then shared. */
export function gpt2(): Promise<Tokenizer> {
  tokenizer ??= loadGpt2Encoding().then((precompiled) => new Tokenizer(new Map(), [], [], precompiled));
  return tokenizer;
}
