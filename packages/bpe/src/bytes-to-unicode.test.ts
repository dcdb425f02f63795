import { BYTE_TO_UNICODE, bytesToUnicode, unicodeToBytes } from './bytes-to-unicode.js';

describe('bytesToUnicode', () => {
  it('maps space to Ġ and newline to Ċ, as in GPT-2 vocab.json', () => {
    expect(BYTE_TO_UNICODE[0x20]).toBe('Ġ');
    expect(BYTE_TO_UNICODE[0x0a]).toBe('Ċ');
    expect(BYTE_TO_UNICODE[0x41]).toBe('A');
  });
  it('round-trips all 256 bytes', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(unicodeToBytes(bytesToUnicode(all))).toEqual(all);
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256);
  });
  it('names the bad character', () => {
    expect(() => unicodeToBytes('a b')).toThrow(/U\+0020 at index 1/);
  });
});
