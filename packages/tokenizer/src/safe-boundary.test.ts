import fc from 'fast-check';
import { lastSafeCutInBytes, lastSafeCutInText } from './safe-boundary.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('safe cuts', () => {
  it('cut before whitespace that follows printable ASCII, never elsewhere', () => {
    expect(lastSafeCutInText('hello world', [])).toBe(5);
    expect(lastSafeCutInText('a  b', [])).toBe(1); // not inside the run of spaces
    expect(lastSafeCutInText('é ü', [])).toBe(0); // the character before is not ASCII
    expect(lastSafeCutInText('word', [])).toBe(0);
    expect(lastSafeCutInText('word ', [])).toBe(4); // "word" + " " encode like "word " (and like "word" + " x")
    expect(lastSafeCutInText('x\ny', [])).toBe(1);
  });

  it('stay clear of special tokens, including ones not yet complete', () => {
    expect(lastSafeCutInText('a<|x y|>b c', ['<|x y|>'])).toBe(0); // c is too close to the end to rule out a special
    expect(lastSafeCutInText('a<|x y|>b c zzzzzz', ['<|x y|>'])).toBe(11);
    expect(lastSafeCutInText('ab <|x y', ['<|x y|>'])).toBe(2); // "<|x y" may still become the special
    expect(lastSafeCutInText('ab <|x yzzzzzzzz', ['<|x y|>'])).toBe(6); // ...but not once "zz" follows
  });

  it('agree between ASCII text and its bytes', () => {
    const unit = fc.constantFrom('a', 'b', ' ', '\n', '\t', '<|x y|>', '<|', 'y|>', '.');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
        const specials = ['<|x y|>', '. .'];
        expect(lastSafeCutInBytes(utf8(text), specials.map(utf8))).toBe(lastSafeCutInText(text, specials));
      }),
    );
  });

  it('cut UTF-8 bytes only between characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\n', 'é', '🙃', '中', 'x '), maxLength: 40 }), (text) => {
        const bytes = utf8(text);
        const cut = lastSafeCutInBytes(bytes, []);
        const decoder = new TextDecoder('utf-8', { fatal: true });
        expect(decoder.decode(bytes.subarray(0, cut)) + decoder.decode(bytes.subarray(cut))).toBe(text);
      }),
    );
  });
});
