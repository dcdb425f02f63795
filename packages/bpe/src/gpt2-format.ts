/**
 * The text formats other tools use for a byte-level BPE model, parsed and written as strings (no file
 * system, so this module runs in browsers and workers too; gpt2-files.ts reads and writes the files):
 * GPT-2's `vocab.json` ({token: id}) + `merges.txt` ("left right" per line, in merge order), and
 * Hugging Face `tokenizer.json` (ByteLevel BPE).
 *
 * Tokens are bytes. In these files each byte is written as one printable character of GPT-2's
 * byte table (bytes-to-unicode.ts). A vocab string holding a character outside that table (an added
 * special token such as `<|ẞ|>`) cannot be in table form, so it is read as literal UTF-8.
 */
import { UNICODE_TO_BYTE, bytesToUnicode, unicodeToBytes } from './bytes-to-unicode.js';

export type Vocab = Map<number, Uint8Array>;
export type Merge = [Uint8Array, Uint8Array];

const utf8 = new TextEncoder();

/** 1-based line number of UTF-16 offset `index` in `text`. */
function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Table form when every character is in GPT-2's byte table, literal UTF-8 otherwise. */
function vocabStringToBytes(token: string): Uint8Array {
  for (let i = 0; i < token.length; i++) {
    if (!UNICODE_TO_BYTE.has(token[i]!)) return utf8.encode(token);
  }
  return unicodeToBytes(token);
}

function parseJson(jsonText: string, source: string): unknown {
  try {
    return JSON.parse(jsonText);
  } catch (error) {
    const message = (error as Error).message;
    // V8 reports "at position N"; turn it into a line number people can jump to.
    const position = /position (\d+)/.exec(message);
    const where = position ? `:${lineAt(jsonText, Number(position[1]))}` : '';
    throw new Error(`${source}${where}: not valid JSON (${message})`);
  }
}

/**
 * Parses a GPT-2 `vocab.json` ({token: id}) into id → token bytes.
 * `source` names the file in error messages.
 */
export function parseGpt2Vocab(jsonText: string, source = 'vocab.json'): Vocab {
  const parsed = parseJson(jsonText, source);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${source}: expected a JSON object {"token": id, ...}, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const vocab: Vocab = new Map();
  const tokenOfId = new Map<number, string>();
  for (const [token, id] of Object.entries(parsed as Record<string, unknown>)) {
    const line = () => lineAt(jsonText, Math.max(0, jsonText.indexOf(JSON.stringify(token).slice(0, -1))));
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new Error(`${source}:${line()}: token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids must be non-negative integers`);
    }
    const previous = tokenOfId.get(id);
    if (previous !== undefined) {
      throw new Error(`${source}:${line()}: id ${id} is used by both ${JSON.stringify(previous)} and ${JSON.stringify(token)}; each id must name one token`);
    }
    if (token.length === 0) throw new Error(`${source}:${line()}: id ${id} has an empty token string`);
    tokenOfId.set(id, token);
    vocab.set(id, vocabStringToBytes(token));
  }
  return vocab;
}

/**
 * Parses a GPT-2 `merges.txt`: one "left right" pair per line, in merge order. Tolerates a leading
 * `#version` line and blank lines at the end, as GPT-2's own file has. `source` names the file in errors.
 */
export function parseGpt2Merges(text: string, source = 'merges.txt'): Merge[] {
  const lines = text.split('\n');
  let last = lines.length;
  while (last > 0 && lines[last - 1]!.trim() === '') last--;
  const merges: Merge[] = [];
  for (let i = 0; i < last; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (i === 0 && line.startsWith('#version')) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(`${source}:${i + 1}: expected "left right" (two tokens separated by one space), got ${JSON.stringify(line)}`);
    }
    try {
      merges.push([unicodeToBytes(parts[0]!), unicodeToBytes(parts[1]!)]);
    } catch (error) {
      throw new Error(`${source}:${i + 1}: ${(error as Error).message}`);
    }
  }
  return merges;
}

/** vocab.json text: one `"token": id` per line, in id order. Throws if two ids share the same bytes. */
export function formatGpt2Vocab(vocab: ReadonlyMap<number, Uint8Array>): string {
  const ids = [...vocab.keys()].sort((a, b) => a - b);
  const seen = new Map<string, number>();
  const lines: string[] = [];
  for (const id of ids) {
    const token = bytesToUnicode(vocab.get(id)!);
    const other = seen.get(token);
    if (other !== undefined) throw new Error(`formatGpt2Vocab: ids ${other} and ${id} have the same bytes ${JSON.stringify(token)}; vocab.json can hold only one`);
    seen.set(token, id);
    lines.push(`  ${JSON.stringify(token)}: ${id}`);
  }
  return lines.length ? `{\n${lines.join(',\n')}\n}\n` : '{}\n';
}

/**
 * merges.txt text, one pair per line. No `#version` header: the course's loader treats every
 * two-part line as a merge, and GPT-2's header would split into two parts.
 */
export function formatGpt2Merges(merges: readonly (readonly [Uint8Array, Uint8Array])[]): string {
  return merges
    .map(([left, right], i) => {
      if (left.length === 0 || right.length === 0) throw new Error(`formatGpt2Merges: merge ${i} has an empty side; every merge joins two non-empty tokens`);
      return `${bytesToUnicode(left)} ${bytesToUnicode(right)}\n`;
    })
    .join('');
}

/**
 * Hugging Face `tokenizer.json` for a GPT-2 style ByteLevel BPE: no normalizer, ByteLevel
 * pre-tokenizer (GPT-2 regex, no prefix space) and decoder, and each special token as an added token.
 * Special tokens that are in `vocab` keep their id; others get the next free ids.
 */
export function formatTokenizerJson(vocab: ReadonlyMap<number, Uint8Array>, merges: readonly (readonly [Uint8Array, Uint8Array])[], specialTokens: readonly string[] = []): string {
  const idOfBytes = new Map<string, number>();
  for (const [id, bytes] of vocab) idOfBytes.set(bytesToUnicode(bytes), id);
  let nextId = vocab.size === 0 ? 0 : Math.max(...vocab.keys()) + 1;

  const modelVocab: [string, number][] = [];
  const specialIds = new Map<number, string>();
  for (const special of specialTokens) {
    if (special.length === 0) throw new Error('formatTokenizerJson: a special token is the empty string; remove it');
    const existing = idOfBytes.get(bytesToUnicode(utf8.encode(special)));
    specialIds.set(existing ?? nextId++, special);
  }
  for (const id of [...vocab.keys(), ...specialIds.keys()].sort((a, b) => a - b)) {
    if (modelVocab.length && modelVocab[modelVocab.length - 1]![1] === id) continue;
    // HF looks specials up by their literal text, so they go into the model vocab as written.
    modelVocab.push([specialIds.get(id) ?? bytesToUnicode(vocab.get(id)!), id]);
  }
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...specialIds].map(([id, content]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: '__VOCAB__',
      merges: merges.map(([left, right]) => [bytesToUnicode(left), bytesToUnicode(right)]),
    },
  };
  // A JS object would reorder integer-like keys ("0", "1", ...); write the vocab in id order by hand.
  const vocabText = `{${modelVocab.map(([token, id]) => `${JSON.stringify(token)}:${id}`).join(',')}}`;
  return `${JSON.stringify(json).replace('"__VOCAB__"', () => vocabText)}\n`;
}

/**
 * Parses the contents of a Hugging Face ByteLevel BPE `tokenizer.json`; added tokens become the special
 * tokens. `file` names the source in error messages.
 */
export function parseTokenizerJson(text: string, file = 'tokenizer.json'): { vocab: Vocab; merges: Merge[]; specialTokens: string[] } {
  const parsed = parseJson(text, file) as { model?: { type?: unknown; vocab?: unknown; merges?: unknown }; added_tokens?: unknown };
  const model = parsed?.model;
  if (!model || model.type !== 'BPE') throw new Error(`${file}: model.type is ${JSON.stringify(model?.type)}; only "BPE" tokenizer.json files can be read`);
  if (!model.vocab || typeof model.vocab !== 'object') throw new Error(`${file}: model.vocab is missing; expected {"token": id, ...}`);
  if (!Array.isArray(model.merges)) throw new Error(`${file}: model.merges is missing; expected an array of merges`);

  const added = Array.isArray(parsed.added_tokens) ? (parsed.added_tokens as { id?: unknown; content?: unknown }[]) : [];
  const specialTokens: string[] = [];
  const vocab: Vocab = new Map();
  for (const [index, token] of added.entries()) {
    if (typeof token.content !== 'string' || token.content === '' || typeof token.id !== 'number') {
      throw new Error(`${file}: added_tokens[${index}] needs a non-empty "content" string and a numeric "id"`);
    }
    specialTokens.push(token.content);
    vocab.set(token.id, utf8.encode(token.content));
  }
  const specials = new Set(specialTokens);
  for (const [token, id] of Object.entries(model.vocab as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new Error(`${file}: model.vocab token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids must be non-negative integers`);
    if (specials.has(token)) continue;
    if (vocab.has(id)) throw new Error(`${file}: id ${id} is used by more than one token in model.vocab / added_tokens`);
    vocab.set(id, vocabStringToBytes(token));
  }
  const merges = (model.merges as unknown[]).map((merge, index): Merge => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new Error(`${file}: model.merges[${index}] is ${JSON.stringify(merge)}; expected "left right" or ["left", "right"]`);
    }
    try {
      return [unicodeToBytes(pair[0]), unicodeToBytes(pair[1])];
    } catch (error) {
      throw new Error(`${file}: model.merges[${index}]: ${(error as Error).message}`);
    }
  });
  return { vocab, merges, specialTokens };
}
