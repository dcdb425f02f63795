/**
 * `cs336 encode`: text on stdin → a JSON array of token ids on stdout. The input is streamed through
 * encodeIterable, so large inputs are not held in memory as text; bytes that are not UTF-8 are
 * counted on the way (Utf8Check) and reported on stderr. With --strict all of stdin is read and
 * checked before the first id is written, so a refusal leaves stdout empty.
 */
import type { Readable, Writable } from 'node:stream';
import { Utf8Check, checkUtf8 } from '@cs336/bpe';
import type { Tokenizer } from '@cs336/tokenizer';
import { UsageError, type Command } from '../command.js';
import { checkStdin } from '../preflight.js';
import { TOKENIZER_FLAGS, TOKENIZER_HELP, TOKENIZER_USAGE, loadTokenizer, parseFlags } from './tokenize.js';

const USAGE = `cs336 encode ${TOKENIZER_USAGE} [--strict] < text.txt > ids.json

${TOKENIZER_HELP}
  --strict            fail (writing nothing) if stdin is not valid UTF-8; reads all of stdin before writing
  Bytes that are not UTF-8 are otherwise encoded as U+FFFD, and their number is printed on stderr.`;

export interface EncodeStreamResult {
  /** Ids written. */
  ids: number;
  /** Input bytes that were not UTF-8 (encoded as U+FFFD). */
  invalidUtf8Bytes: number;
}

/** Byte chunks of `input`, counted by `check` as they pass. */
async function* checked(input: Readable, check: Utf8Check): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) {
    const bytes: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    check.push(bytes);
    yield bytes;
  }
}

/**
 * Writes `[id,id,...]\n` for the UTF-8 text read from `input`. With `strict`, reads all of `input`
 * first and throws (exit 1, nothing written) when it is not valid UTF-8.
 */
export async function encodeStream(tokenizer: Tokenizer, input: Readable, output: Writable, options: { strict?: boolean } = {}): Promise<EncodeStreamResult> {
  let source: AsyncIterable<Uint8Array>;
  const check = new Utf8Check();
  if (options.strict) {
    const chunks: Buffer[] = [];
    for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    const whole = Buffer.concat(chunks);
    const report = checkUtf8(whole);
    if (report.invalidBytes > 0) throw new UsageError(`stdin is not valid UTF-8: byte ${report.firstInvalidOffset} is not part of a UTF-8 character (${report.invalidBytes} such bytes); nothing written`, 1);
    source = (async function* () { yield whole; })();
  } else {
    source = checked(input, check);
  }
  let count = 0;
  let batch: number[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const text = (count === batch.length ? '' : ',') + batch.join(',');
    batch = [];
    if (!output.write(text)) await new Promise((resolve) => output.once('drain', resolve));
  };
  output.write('[');
  for await (const id of tokenizer.encodeIterable(source)) {
    batch.push(id);
    count++;
    if (batch.length === 8192) await flush();
  }
  await flush();
  output.write(']\n');
  return { ids: count, invalidUtf8Bytes: check.end().invalidBytes };
}

export const encodeCommand: Command = {
  name: 'encode',
  summary: 'text on stdin → JSON token ids on stdout',
  usage: USAGE,
  flags: [...TOKENIZER_FLAGS, 'strict'],
  async run(argv) {
    const values = parseFlags(argv, [], USAGE, ['strict']);
    checkStdin('encode');
    const tokenizer = await loadTokenizer(values, USAGE);
    const { invalidUtf8Bytes } = await encodeStream(tokenizer, process.stdin, process.stdout, { strict: values.strict === 'true' });
    if (invalidUtf8Bytes > 0) console.error(`cs336 encode: warning: ${invalidUtf8Bytes} byte(s) of stdin are not UTF-8 and were encoded as U+FFFD (--strict refuses such input)`);
    return 0;
  },
};
