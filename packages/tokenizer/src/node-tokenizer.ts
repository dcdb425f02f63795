/**
 * The Tokenizer of the package's Node entry: the portable Tokenizer (tokenizer.ts) plus what needs
 * Node's file system and worker threads. Node, Deno and Bun get it from the main entry through the
 * `node` export condition (and from `@cs336/tokenizer/node` anywhere); browsers get the portable one.
 */
import { readFile } from 'node:fs/promises';
import { encodeFile, type EncodeFileOptions, type EncodeFileResult } from './encode-file.js';
import { Tokenizer as PortableTokenizer } from './tokenizer.js';

export class Tokenizer extends PortableTokenizer {
  /** Reads GPT-2 `vocab.json` + `merges.txt` (or what @cs336/bpe writes). */
  static async fromFiles(vocabPath: string, mergesPath: string, specialTokens: readonly string[] = []): Promise<Tokenizer> {
    const [vocabText, mergesText] = await Promise.all([readFile(vocabPath, 'utf8'), readFile(mergesPath, 'utf8')]);
    return Tokenizer.fromGpt2Text(vocabText, mergesText, specialTokens, { vocab: vocabPath, merges: mergesPath });
  }

  /** Reads a Hugging Face ByteLevel BPE `tokenizer.json`; its added tokens become special tokens. */
  static async fromTokenizerJson(file: string): Promise<Tokenizer> {
    return Tokenizer.fromTokenizerJsonText(await readFile(file, 'utf8'), file);
  }

  /**
   * Encodes the text file `input` into `output`: raw little-endian uint16 ids (uint32 when the vocab
   * exceeds 65,536 ids) plus the sidecar `<output>.json`, both written atomically. With `workers` > 0
   * the file is split at safe boundaries and encoded on worker threads; the ids equal one `encode`.
   */
  encodeFile(input: string, output: string, options: EncodeFileOptions = {}): Promise<EncodeFileResult> {
    return encodeFile(this, input, output, options);
  }
}
