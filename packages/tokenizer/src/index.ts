// The Node entry (Node, Deno and Bun, through the `node` export condition; also `@cs336/tokenizer/node`):
// everything portable.ts exports, with the Tokenizer that can read files and encode them on workers.
export { Tokenizer } from './node-tokenizer.js';
export type { TokenizerClass, TokenizerModel } from './tokenizer.js';
export { referenceEncode } from './reference-encode.js';
export { tokenDtype } from './token-dtype.js';
export type { TokenDtype } from './token-dtype.js';
export type { EncodeFileOptions, EncodeFileProgress, EncodeFileResult, TokenFileSidecar } from './encode-file.js';
