import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describeWithFixtures, fixturePath, projectFixturePath } from '../../../../test-support/fixtures.js';
import { UsageError } from '../command.js';
import { decodeStream } from './decode.js';
import { encodeStream } from './encode.js';
import { loadTokenizer, tokenizeCommand } from './tokenize.js';
import { quietly } from '../../test/quietly.js';

async function collect(run: (output: PassThrough) => Promise<unknown>): Promise<string> {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  await run(output);
  output.end();
  return Buffer.concat(chunks).toString('utf8');
}

describeWithFixtures('cs336 tokenize / encode / decode', () => {
  const idsOf = (name: string) => {
    const expected = JSON.parse(fs.readFileSync(projectFixturePath('tiktoken-gpt2-expected-ids.json'), 'utf8')) as { cases: { name: string; ids: number[] }[] };
    return expected.cases.find((c) => c.name === name)!.ids;
  };
  /** A tokenizer DIR holding GPT-2's files under the names the CLI expects. */
  const gpt2Dir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-gpt2-'));
    fs.copyFileSync(fixturePath('gpt2_vocab.json'), path.join(dir, 'vocab.json'));
    fs.copyFileSync(fixturePath('gpt2_merges.txt'), path.join(dir, 'merges.txt'));
    return dir;
  };

  it.each([0, 2])('tokenize --workers %i writes tiktoken\'s ids (<|endoftext|> special by default) and a sidecar', async (workers) => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-tokenize-')), 'tiny.bin');
    const args = ['--tokenizer', gpt2Dir(), '--input', fixturePath('tinystories_sample.txt'), '--out', out, '--workers', String(workers)];
    expect(await quietly(() => tokenizeCommand.run(args))).toBe(0);
    const bytes = fs.readFileSync(out);
    expect([...new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)]).toEqual(idsOf('tinystories_sample.txt'));
    const sidecar = JSON.parse(fs.readFileSync(`${out}.json`, 'utf8'));
    expect(sidecar).toMatchObject({ format: 'cs336-tokens', dtype: 'uint16', count: idsOf('tinystories_sample.txt').length, vocabSize: 50257, source: fixturePath('tinystories_sample.txt') });
    expect(sidecar.tokenizerHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tokenize rejects bad flags and leaves no output', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-tokenize-'));
    const out = path.join(dir, 'x.bin');
    const gpt2 = ['--vocab', fixturePath('gpt2_vocab.json'), '--merges', fixturePath('gpt2_merges.txt')];
    await expect(tokenizeCommand.run([...gpt2, '--out', out])).rejects.toThrow(/--input FILE is required/);
    await expect(tokenizeCommand.run([...gpt2, '--input', path.join(dir, 'nope.txt'), '--out', out])).rejects.toThrow(/does not exist/);
    await expect(tokenizeCommand.run([...gpt2, '--input', fixturePath('address.txt'), '--out', out, '--workers', 'two'])).rejects.toThrow(/--workers must be an integer/);
    await expect(tokenizeCommand.run(['--input', fixturePath('address.txt'), '--out', out])).rejects.toThrow(/a tokenizer is required/);
    await expect(tokenizeCommand.run(['--tokenizer', dir, ...gpt2, '--input', fixturePath('address.txt'), '--out', out])).rejects.toThrow(UsageError);
    await expect(tokenizeCommand.run(['--tokenizer', dir, '--input', fixturePath('address.txt'), '--out', out])).rejects.toThrow(/neither vocab\.json \+ merges\.txt nor tokenizer\.json/);
    await expect(tokenizeCommand.run([...gpt2, '--bogus'])).rejects.toThrow(UsageError);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('tokenize refuses an --out that is the --input, and keeps the text', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-tokenize-'));
    const input = path.join(dir, 'text.txt');
    fs.copyFileSync(fixturePath('address.txt'), input);
    const args = ['--tokenizer', gpt2Dir(), '--input', input, '--out', input];
    await expect(quietly(() => tokenizeCommand.run(args))).rejects.toThrow(/is the input file .*text\.txt; writing it would destroy the text/);
    expect(fs.readFileSync(input)).toEqual(fs.readFileSync(fixturePath('address.txt')));
    expect(fs.readdirSync(dir)).toEqual(['text.txt']);
  });

  it('encode streams stdin text to tiktoken\'s ids as JSON; decode turns them back', async () => {
    const tokenizer = await loadTokenizer({ vocab: fixturePath('gpt2_vocab.json'), merges: fixturePath('gpt2_merges.txt') }, '');
    const text = fs.readFileSync(fixturePath('german.txt'), 'utf8');
    const json = await collect((output) => encodeStream(tokenizer, Readable.from([Buffer.from(text).subarray(0, 101), Buffer.from(text).subarray(101)]), output));
    expect(JSON.parse(json)).toEqual(idsOf('german.txt'));
    expect(await collect((output) => decodeStream(tokenizer, Readable.from([json]), output))).toBe(text);
    expect(await collect((output) => encodeStream(tokenizer, Readable.from([]), output))).toBe('[]\n');
  });

  it('decode rejects input that is not a JSON array of known ids', async () => {
    const tokenizer = await loadTokenizer({ vocab: fixturePath('gpt2_vocab.json'), merges: fixturePath('gpt2_merges.txt') }, '');
    const decode = (input: string) => collect((output) => decodeStream(tokenizer, Readable.from([input]), output));
    await expect(decode('[1, 2')).rejects.toThrow(/stdin is not JSON/);
    await expect(decode('{"ids": [1]}')).rejects.toThrow(/stdin holds an object; expected a JSON array/);
    await expect(decode('[1, "2"]')).rejects.toThrow(/element 1 is "2"/);
    await expect(decode('[1, 50257]')).rejects.toThrow(/id 50257 at index 1 is not in the vocabulary/);
  });
});
