export { Tokenizer } from './tokenizer.js';
export type { TokenizerModel } from './tokenizer.js';
export { referenceEncode } from './reference-encode.js';
export { tokenDtype } from './encode-file.js';
export type { EncodeFileOptions, EncodeFileProgress, EncodeFileResult, TokenDtype, TokenFileSidecar } from './encode-file.js';
