export { BYTE_TO_UNICODE, UNICODE_TO_BYTE, bytesToUnicode, unicodeToBytes } from './bytes-to-unicode.js';
export { GPT2_PATTERN, forEachPretoken, pretokenize, splitOnSpecialTokens } from './pretokenize.js';
export {
  formatGpt2Merges,
  formatGpt2Vocab,
  formatTokenizerJson,
  parseGpt2Merges,
  parseGpt2Vocab,
  readGpt2Files,
  readTokenizerJson,
  writeGpt2Files,
} from './gpt2-files.js';
