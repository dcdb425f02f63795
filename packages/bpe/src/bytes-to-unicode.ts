/**
 * GPT-2's reversible byte ↔ printable-character table, used by vocab.json and merges.txt.
 * Printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes map,
 * in increasing byte order, to U+0100, U+0101, ... so every token is a printable, space-free string.
 */

function buildByteToChar(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(printable(b) ? b : 256 + next++);
  }
  return table;
}

/** `BYTE_TO_UNICODE[b]` is the one-character string GPT-2 files use for byte `b`. */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToChar();

/** Inverse of `BYTE_TO_UNICODE`: character code → byte value. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b]));

/** Bytes → the GPT-2 printable string form (as in vocab.json / merges.txt). */
export function bytesToUnicode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_TO_UNICODE[b];
  return out;
}

/** GPT-2 printable string form → bytes. Throws on a character outside the table. */
export function unicodeToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const b = UNICODE_TO_BYTE.get(text[i]!);
    if (b === undefined) {
      throw new Error(`unicodeToBytes: character U+${text.charCodeAt(i).toString(16).padStart(4, '0')} at index ${i} of ${JSON.stringify(text)} is not in GPT-2's byte table`);
    }
    out[i] = b;
  }
  return out;
}
