import fs from 'node:fs';
import { describeWithFixtures, fixturePath } from '../../../test-support/fixtures.js';
import { bytesToUnicode } from './bytes-to-unicode.js';
import { trainBpeReference } from './reference-bpe.js';

// The reference trainer is what the fast trainer's parity tests trust, so it is itself checked
// against the course's expected output.
describeWithFixtures('trainBpeReference', () => {
  it('reproduces the CS336 reference merges on corpus.en (vocab 500)', () => {
    const text = fs.readFileSync(fixturePath('corpus.en'), 'utf8');
    const { merges, vocab } = trainBpeReference(text, 500, ['<|endoftext|>']);
    const expected = fs.readFileSync(fixturePath('train-bpe-reference-merges.txt'), 'utf8').split('\n').filter(Boolean);
    expect(merges.map(([l, r]) => `${bytesToUnicode(l)} ${bytesToUnicode(r)}`)).toEqual(expected);
    expect(vocab.size).toBe(500);
  });
});
