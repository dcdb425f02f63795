import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readGpt2Files, readTokenizerJson, trainBpe } from '@cs336/bpe';
import { describeWithFixtures, fixturePath } from '../../../../test-support/fixtures.js';
import { UsageError } from '../command.js';
import { bpeTrainCommand } from './bpe-train.js';
import { quietly } from '../../test/quietly.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describeWithFixtures('cs336 bpe train', () => {
  it('writes vocab.json, merges.txt and tokenizer.json that read back as the trained model', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bpe-train-cli-'));
    const args = ['--input', fixturePath('corpus.en'), '--vocab-size', '300', '--special-token', '<|endoftext|>', '--out', out, '--workers', '0'];
    expect(await quietly(() => bpeTrainCommand.run(args))).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['merges.txt', 'tokenizer.json', 'vocab.json']);

    const expected = await trainBpe({ input: fixturePath('corpus.en'), vocabSize: 300, specialTokens: ['<|endoftext|>'], workers: 0 });
    const files = await readGpt2Files(path.join(out, 'vocab.json'), path.join(out, 'merges.txt'));
    expect(files.merges.map(([l, r]) => hex(l) + hex(r))).toEqual(expected.merges.map(([l, r]) => hex(l) + hex(r)));
    const byId = (vocab: Map<number, Uint8Array>) => [...vocab].sort(([a], [b]) => a - b).map(([id, b]) => [id, hex(b)]);
    expect(byId(files.vocab)).toEqual(byId(expected.vocab));
    const hf = await readTokenizerJson(path.join(out, 'tokenizer.json'));
    expect(hf.merges.length).toBe(expected.merges.length);
    expect(hf.specialTokens).toEqual(['<|endoftext|>']);
  });

  it('rejects missing and malformed flags with a usage error, and leaves no output on failure', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bpe-train-cli-')), 'model');
    await expect(bpeTrainCommand.run(['--vocab-size', '300', '--out', out])).rejects.toThrow(UsageError);
    await expect(bpeTrainCommand.run(['--input', 'x', '--vocab-size', 'ten', '--out', out])).rejects.toThrow(/--vocab-size must be an integer/);
    await expect(bpeTrainCommand.run(['--input', 'x', '--vocab-size', '300', '--out', out, '--bogus'])).rejects.toThrow(UsageError);
    await expect(quietly(() => bpeTrainCommand.run(['--input', fixturePath('corpus.en'), '--vocab-size', '300', '--special-token', 'a', '--special-token', 'a', '--out', out])))
      .rejects.toThrow(/listed twice/);
    await expect(quietly(() => bpeTrainCommand.run(['--input', path.join(out, 'missing.txt'), '--vocab-size', '300', '--out', out])))
      .rejects.toThrow(/does not exist/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
