/**
 * `cs336 encode`: text on stdin → a JSON array of token ids on stdout. The input is streamed through
 * encodeIterable, so large inputs are not held in memory as text.
 */
import type { Readable, Writable } from 'node:stream';
import type { Tokenizer } from '@cs336/tokenizer';
import type { Command } from '../command.js';
import { TOKENIZER_USAGE, loadTokenizer, parseFlags } from './tokenize.js';

const USAGE = `cs336 encode ${TOKENIZER_USAGE} < text.txt > ids.json`;

/** Writes `[id,id,...]\n` for the UTF-8 text read from `input`; returns the number of ids. */
export async function encodeStream(tokenizer: Tokenizer, input: Readable, output: Writable): Promise<number> {
  let count = 0;
  let batch: number[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const text = (count === batch.length ? '' : ',') + batch.join(',');
    batch = [];
    if (!output.write(text)) await new Promise((resolve) => output.once('drain', resolve));
  };
  output.write('[');
  for await (const id of tokenizer.encodeIterable(input)) {
    batch.push(id);
    count++;
    if (batch.length === 8192) await flush();
  }
  await flush();
  output.write(']\n');
  return count;
}

export const encodeCommand: Command = {
  name: 'encode',
  summary: 'text on stdin → JSON token ids on stdout',
  usage: USAGE,
  async run(argv) {
    const values = parseFlags(argv, [], USAGE);
    const tokenizer = await loadTokenizer(values, USAGE);
    await encodeStream(tokenizer, process.stdin, process.stdout);
    return 0;
  },
};
