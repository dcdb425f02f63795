export { BYTE_TO_UNICODE, UNICODE_TO_BYTE, bytesToUnicode, unicodeToBytes } from './bytes-to-unicode.js';
export { GPT2_PATTERN, forEachPretoken, pretokenEnd, pretokenize, splitOnSpecialTokens, specialTokenPattern } from './pretokenize.js';
export { compareBytes, comparePairs } from './merge-order.js';
export { trainBpe, resolveTrainBpeConfig, DEFAULT_TRAIN_BPE_CONFIG } from './train-bpe.js';
export type { TrainBpeOptions, TrainBpeConfig, TrainBpeResult, BpeProgress, BpeModel } from './train-bpe.js';
export { trainBpeReference } from './reference-bpe.js';
export {
  formatGpt2Merges,
  formatGpt2Vocab,
  formatTokenizerJson,
  parseGpt2Merges,
  parseGpt2Vocab,
  readGpt2Files,
  readTokenizerJson,
  writeGpt2Files,
  writeTokenizerFiles,
  TOKENIZER_FILES,
} from './gpt2-files.js';
export { makeDirectories, writeFileSet } from './file-set.js';
export type { WriteFileSetOptions } from './file-set.js';
export { Utf8Check, checkUtf8 } from './utf8-check.js';
export type { Utf8Report } from './utf8-check.js';
