import { Utf8Check, checkUtf8 } from './utf8-check.js';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** Bytes TextDecoder replaced, from its output: every character that is not U+FFFD came from valid bytes. */
function replacedByTextDecoder(input: Uint8Array): number {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(input);
  return input.length - Buffer.byteLength(text.replaceAll('\uFFFD', ''), 'utf8');
}

/** A deterministic generator (xorshift32) of byte strings that are mostly UTF-8 with damage. */
function randomInputs(count: number): Uint8Array[] {
  let state = 0x9e3779b9;
  const next = () => ((state ^= state << 13), (state ^= state >>> 17), (state ^= state << 5), (state >>> 0));
  const pieces = ['a', ' ', 'é', '€', '𝄞', '中', '\n'].map((s) => [...Buffer.from(s)]);
  const inputs: Uint8Array[] = [];
  while (inputs.length < count) {
    const out: number[] = [];
    for (let i = 0, n = next() % 40; i < n; i++) {
      const r = next() % 10;
      if (r < 6) out.push(...pieces[next() % pieces.length]!);
      else if (r < 8) out.push(0x80 + (next() % 0x80)); // a stray high byte
      else out.push(...pieces[next() % pieces.length]!.slice(0, 1 + (next() % 3))); // a cut character
    }
    const input = Uint8Array.from(out);
    if (!Buffer.from(input).includes(Buffer.from('\uFFFD'))) inputs.push(input); // a real U+FFFD would fool the reference
  }
  return inputs;
}

describe('checkUtf8 / Utf8Check', () => {
  it.each([
    ['valid text', bytes('abc é € 𝄞'), 0, -1],
    ['a lone 0xFF', bytes([0xff]), 1, 0],
    ['a cut 2-byte character between ASCII', bytes('a', [0xc3], 'b'), 1, 1],
    ['a cut 3-byte character (one U+FFFD for two bytes)', bytes([0xe2, 0x82], 'x'), 2, 0],
    ['an encoded surrogate (three replacements)', bytes('ok', [0xed, 0xa0, 0x80]), 3, 2],
    ['an overlong slash', bytes([0xc0, 0xaf]), 2, 0],
    ['a 4-byte character cut at the end', bytes('x', [0xf0, 0x90, 0x80]), 3, 1],
    ['a code point above U+10FFFF', bytes([0xf4, 0x90, 0x80, 0x80]), 4, 0],
  ])('%s', (_name, input, invalidBytes, firstInvalidOffset) => {
    expect(checkUtf8(input)).toEqual({ invalidBytes, firstInvalidOffset });
    expect(replacedByTextDecoder(input)).toBe(invalidBytes);
  });

  it('counts exactly the bytes TextDecoder replaces, for random damaged text', () => {
    for (const input of randomInputs(2000)) expect(checkUtf8(input).invalidBytes).toBe(replacedByTextDecoder(input));
  });

  it('gives the same report whatever the chunk boundaries (characters cut between chunks)', () => {
    for (const input of randomInputs(200)) {
      const whole = checkUtf8(input);
      for (let cut = 0; cut <= input.length; cut++) {
        const check = new Utf8Check();
        check.push(input.subarray(0, cut));
        check.push(input.subarray(cut));
        expect(check.end()).toEqual(whole);
      }
      const byteByByte = new Utf8Check();
      for (let i = 0; i < input.length; i++) byteByByte.push(input.subarray(i, i + 1));
      expect(byteByByte.end()).toEqual(whole);
    }
  });
});
