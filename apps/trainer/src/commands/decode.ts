/**
 * `cs336 decode`: a JSON array of token ids on stdin → the text on stdout. Byte sequences that are
 * not valid UTF-8 become U+FFFD; an id outside the vocabulary is an error naming it.
 */
import type { Readable, Writable } from 'node:stream';
import type { Tokenizer } from '@cs336/tokenizer';
import { UsageError, type Command } from '../command.js';
import { checkStdin } from '../preflight.js';
import { TOKENIZER_FLAGS, TOKENIZER_HELP, TOKENIZER_USAGE, loadTokenizer, parseFlags } from './tokenize.js';

const USAGE = `cs336 decode ${TOKENIZER_USAGE} < ids.json > text.txt

${TOKENIZER_HELP}
  stdin holds a JSON array of token ids, such as [15496, 11]; byte sequences that are not UTF-8 print as U+FFFD.`;

/** Reads a JSON array of ids from `input` and writes their text to `output`. */
export async function decodeStream(tokenizer: Tokenizer, input: Readable, output: Writable): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  let ids: unknown;
  try {
    ids = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`stdin is not JSON (${(error as Error).message}); expected an array of token ids such as [15496, 11]`, 1);
  }
  if (!Array.isArray(ids)) throw new UsageError(`stdin holds ${typeof ids === 'object' ? (ids === null ? 'null' : 'an object') : `a ${typeof ids}`}; expected a JSON array of token ids such as [15496, 11]`, 1);
  const bad = ids.findIndex((id) => typeof id !== 'number' || !Number.isInteger(id));
  if (bad >= 0) throw new UsageError(`stdin: element ${bad} is ${JSON.stringify(ids[bad])}; token ids are integers`, 1);
  const decoded = tokenizer.decode(ids as number[]);
  await new Promise<void>((resolve, reject) => output.write(decoded, (error) => (error ? reject(error) : resolve())));
}

export const decodeCommand: Command = {
  name: 'decode',
  summary: 'JSON token ids on stdin → text on stdout',
  usage: USAGE,
  flags: TOKENIZER_FLAGS,
  async run(argv) {
    const values = parseFlags(argv, [], USAGE);
    checkStdin('decode');
    const tokenizer = await loadTokenizer(values, USAGE);
    await decodeStream(tokenizer, process.stdin, process.stdout);
    return 0;
  },
};
