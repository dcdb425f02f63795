/**
 * Where a long text may be cut into pieces that encode to the same ids as the whole.
 *
 * A position p is a safe cut when
 *   1. text[p] is ASCII whitespace (space, \n, \t, \r) and text[p - 1] is printable ASCII (not whitespace):
 *      no GPT-2 pre-token reaches from a non-space character into the whitespace after it, and the pattern
 *      has no look-behind, so the pre-tokens from p on depend only on text[p..]; and
 *   2. no occurrence of any special token covers both text[p - 1] and text[p], so splitting on special
 *      tokens (leftmost, longest first) sees the same matches on each side.
 * Both are ASCII tests, so a cut in UTF-8 bytes never falls inside a multi-byte character.
 * Streaming (encodeIterable) and file splitting (encodeFile) both cut only at such positions.
 */

function isCutAt(codeBefore: number, codeAt: number): boolean {
  return codeBefore > 0x20 && codeBefore < 0x7f && (codeAt === 0x20 || codeAt === 0x0a || codeAt === 0x09 || codeAt === 0x0d);
}

/**
 * The last safe cut p in `text` (0 < p < text.length), or 0 when there is none yet. Positions too
 * close to the end to rule out a special token spanning them (one may be completed by text not seen
 * yet) are not considered.
 */
export function lastSafeCutInText(text: string, specialTokens: readonly string[]): number {
  const longest = specialTokens.reduce((max, token) => Math.max(max, token.length), 1);
  for (let p = Math.min(text.length - 1, text.length - longest + 1); p > 0; p--) {
    if (!isCutAt(text.charCodeAt(p - 1), text.charCodeAt(p))) continue;
    if (!specialTokens.some((token) => spansText(text, token, p))) return p;
  }
  return 0;
}

function spansText(text: string, token: string, p: number): boolean {
  if (token.length < 2) return false;
  const start = text.indexOf(token, Math.max(0, p - token.length + 1));
  return start !== -1 && start < p;
}

/** `lastSafeCutInText` for UTF-8 bytes; `specialTokens` are the specials' UTF-8 bytes. */
export function lastSafeCutInBytes(bytes: Uint8Array, specialTokens: readonly Uint8Array[]): number {
  const longest = specialTokens.reduce((max, token) => Math.max(max, token.length), 1);
  for (let p = Math.min(bytes.length - 1, bytes.length - longest + 1); p > 0; p--) {
    if (!isCutAt(bytes[p - 1]!, bytes[p]!)) continue;
    if (!specialTokens.some((token) => spansBytes(bytes, token, p))) return p;
  }
  return 0;
}

/** Whether an occurrence of `token` covers bytes p - 1 and p: one starting in [p - length + 1, p). */
function spansBytes(bytes: Uint8Array, token: Uint8Array, p: number): boolean {
  if (token.length < 2) return false;
  for (let start = Math.max(0, p - token.length + 1); start < p && start + token.length <= bytes.length; start++) {
    let k = 0;
    while (k < token.length && bytes[start + k] === token[k]) k++;
    if (k === token.length) return true;
  }
  return false;
}
