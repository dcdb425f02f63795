export { BYTE_TO_UNICODE, UNICODE_TO_BYTE, bytesToUnicode, unicodeToBytes } from './bytes-to-unicode.js';
export { GPT2_PATTERN, forEachPretoken, pretokenEnd, pretokenize, splitOnSpecialTokens, specialTokenPattern } from './pretokenize.js';
export { compareBytes, comparePairs } from './merge-order.js';
export { trainBpe, resolveTrainBpeConfig, DEFAULT_TRAIN_BPE_CONFIG } from './train-bpe.js';
export type { TrainBpeOptions, TrainBpeConfig, BpeProgress, BpeModel } from './train-bpe.js';
export { trainBpeReference } from './reference-bpe.js';
export { formatGpt2Merges, formatGpt2Vocab, formatTokenizerJson, parseGpt2Merges, parseGpt2Vocab, parseTokenizerJson } from './gpt2-format.js';
export type { Merge, Vocab } from './gpt2-format.js';
export { readGpt2Files, readTokenizerJson, writeGpt2Files } from './gpt2-files.js';
