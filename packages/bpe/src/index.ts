export { BYTE_TO_UNICODE, UNICODE_TO_BYTE, bytesToUnicode, unicodeToBytes } from './bytes-to-unicode.js';
export { GPT2_PATTERN, forEachPretoken, pretokenize, splitOnSpecialTokens } from './pretokenize.js';
