// The package's main entry outside Node (browsers, edge and web workers): no Node built-ins are
// imported, so a bundler needs no polyfills. Node, Deno and Bun get index.ts, a superset.
export { Tokenizer } from './tokenizer.js';
export type { TokenizerClass, TokenizerModel } from './tokenizer.js';
export { referenceEncode } from './reference-encode.js';
export { tokenDtype } from './token-dtype.js';
export type { TokenDtype } from './token-dtype.js';
