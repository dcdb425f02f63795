/**
 * A synthetic corpus with OpenWebText-like statistics, for the scale benchmark: deterministic from a
 * seed, written as UTF-8 documents separated by `<|endoftext|>`.
 *
 * Words are drawn by rank from a Zipf-like law (P(rank ≥ r) = r^-(s-1), s = 1.25): the first ranks
 * are real English words in their Gutenberg frequency order, the rest a practically endless tail of
 * word-like strings built from the rank's hash (syllables; some Cyrillic or accented). So, as in
 * web text, new distinct pre-tokens keep appearing as the corpus grows (Heaps' law), while the head
 * carries most of the mass. Mixed in: capitals (sentence starts, names, acronyms), numbers, years,
 * prices, punctuation runs, URLs, code-ish identifiers, curly quotes, CJK and emoji.
 */
import fs from 'node:fs';

/** Bump when the generator's output changes, so cached corpora are not reused. */
export const CORPUS_VERSION = 1;

const ZIPF_S = 1.25;
const MAX_RANK = 2 ** 40;
const SPECIAL = '<|endoftext|>';

/** sfc32: small, fast, good enough for text statistics; seeded deterministically. */
function makeRandom(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed, b = 0x243f6a88, c = 0xb7e15162 ^ Math.imul(seed, 0x85ebca6b), d = 1;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}

/** A 32-bit hash of a rank (two halves mixed), so a rank always spells the same word. */
function hashRank(rank: number, salt: number): number {
  let h = Math.imul((rank >>> 0) ^ salt, 0x9e3779b1) ^ Math.imul(Math.floor(rank / 4294967296) + salt, 0x85ebca77);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const ONSETS = ['', 'b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'ch', 'cl', 'dr', 'fl', 'gr', 'pl', 'pr', 'sh', 'st', 'str', 'th', 'tr'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ee', 'io', 'ou', 'y', 'oo'];
const CODAS = ['', '', '', 'n', 'r', 's', 't', 'l', 'm', 'nd', 'ng', 'rt', 'st', 'x', 'ck'];
const CYRILLIC_ONSETS = ['', 'б', 'в', 'г', 'д', 'ж', 'з', 'к', 'л', 'м', 'н', 'п', 'р', 'с', 'т', 'ч', 'ш'];
const CYRILLIC_VOWELS = ['а', 'е', 'и', 'о', 'у', 'я', 'ы', 'ю'];
const ACCENTED_VOWELS = ['é', 'è', 'á', 'ö', 'ü', 'ñ', 'ç', 'å'];

/** The word-like string a tail rank spells: 1–4 syllables; about 3% Cyrillic, 4% with an accent. */
function tailWord(rank: number): string {
  let h = hashRank(rank, 0x51ed);
  const kind = h % 100;
  h = hashRank(rank, 0x2f3);
  const syllables = 1 + (h & 3) + ((h >>> 2) & 1);
  let word = '';
  for (let i = 0; i < syllables; i++) {
    const g = hashRank(rank, i * 7919 + 13);
    if (kind < 3) word += CYRILLIC_ONSETS[g % CYRILLIC_ONSETS.length]! + CYRILLIC_VOWELS[(g >>> 8) % CYRILLIC_VOWELS.length]!;
    else {
      const vowel = kind < 7 && i === syllables - 1 ? ACCENTED_VOWELS[(g >>> 8) % ACCENTED_VOWELS.length]! : VOWELS[(g >>> 8) % VOWELS.length]!;
      word += ONSETS[g % ONSETS.length]! + vowel + CODAS[(g >>> 16) % CODAS.length]!;
    }
  }
  return word;
}

/** Lowercase ASCII words of `text` by falling frequency (the head of the Zipf law). */
export function wordsByFrequency(text: string, limit: number): string[] {
  const counts = new Map<string, number>();
  for (const m of text.toLowerCase().matchAll(/[a-z]+/g)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, limit).map(([w]) => w);
}

const capitalize = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

class DocumentWriter {
  private readonly random: () => number;

  constructor(seed: number, private readonly head: readonly string[]) {
    this.random = makeRandom(seed);
  }

  private rank(): number {
    return Math.min(MAX_RANK, Math.floor(Math.pow(1 - this.random(), -1 / (ZIPF_S - 1)))) - 1;
  }

  private word(): string {
    const r = this.rank();
    return r < this.head.length ? this.head[r]! : tailWord(r);
  }

  private int(max: number): number {
    return Math.floor(this.random() * max);
  }

  /** A number the way web text writes them. */
  private number(): string {
    const k = this.random();
    if (k < 0.3) return String(1 + this.int(20));
    if (k < 0.5) return String(1900 + this.int(125));
    if (k < 0.65) return `$${1 + this.int(999)}${this.random() < 0.5 ? '.' + String(this.int(100)).padStart(2, '0') : ''}`;
    if (k < 0.75) return `${this.int(100)}%`;
    if (k < 0.85) return `${1 + this.int(999)},${String(this.int(1000)).padStart(3, '0')}`;
    return String(Math.floor(Math.pow(10, 1 + this.random() * 9)));
  }

  private url(): string {
    const tld = ['com', 'org', 'net', 'co.uk', 'io', 'de'][this.int(6)]!;
    let out = `http${this.random() < 0.8 ? 's' : ''}://${this.random() < 0.5 ? 'www.' : ''}${this.word()}${this.word()}.${tld}`;
    const parts = this.int(4);
    for (let i = 0; i < parts; i++) out += `/${this.word()}${this.random() < 0.4 ? '-' + this.word() : ''}`;
    if (this.random() < 0.2) out += `?id=${this.int(1e6)}`;
    return out;
  }

  private code(): string {
    const a = this.word(), b = this.word();
    const k = this.int(6);
    if (k === 0) return `${a}_${b}`;
    if (k === 1) return `${a}${capitalize(b)}()`;
    if (k === 2) return `${a}.${b}(${this.int(10)})`;
    if (k === 3) return `0x${this.int(0x1000000).toString(16).toUpperCase()}`;
    if (k === 4) return `${a}[${b}]`;
    return `<${a}>`;
  }

  private cjk(): string {
    let s = '';
    const n = 1 + this.int(4);
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x4e00 + Math.floor(Math.pow(this.random(), 3) * 0x5000));
    return s;
  }

  private sentence(): string {
    const words = 4 + this.int(22);
    let out = '';
    for (let i = 0; i < words; i++) {
      const k = this.random();
      let token: string;
      if (k < 0.04) token = this.number();
      else if (k < 0.043) token = this.url();
      else if (k < 0.047) token = this.code();
      else if (k < 0.049) token = this.cjk();
      else if (k < 0.0495) token = ['😀', '👍', '🚀', '❤️', '🎉'][this.int(5)]!;
      else {
        token = this.word();
        const c = this.random();
        if (i === 0 || c < 0.04) token = capitalize(token);
        else if (c < 0.043) token = token.toUpperCase();
        if (this.random() < 0.02) token += ['’s', "'s", "n't", '’t', "'ll"][this.int(5)]!;
      }
      const q = this.random();
      if (q < 0.015) token = `“${token}”`;
      else if (q < 0.025) token = `(${token})`;
      else if (q < 0.03) token = `"${token}"`;
      out += i === 0 ? token : ' ' + token;
      const p = this.random();
      if (i < words - 1 && p < 0.1) out += [',', ',', ',', ';', ':', ' —', ' -', '...'][this.int(8)]!;
    }
    const end = this.random();
    return out + (end < 0.85 ? '.' : end < 0.93 ? '?' : end < 0.98 ? '!' : '...');
  }

  document(): string {
    let out = this.random() < 0.5 ? `${capitalize(this.word())} ${capitalize(this.word())}\n\n` : '';
    const paragraphs = 1 + Math.floor(-Math.log(1 - this.random()) * 5);
    for (let p = 0; p < paragraphs; p++) {
      const sentences = 1 + this.int(8);
      for (let s = 0; s < sentences; s++) out += (s === 0 ? '' : this.random() < 0.05 ? '  ' : ' ') + this.sentence();
      out += p < paragraphs - 1 ? '\n\n' : '\n';
    }
    return out;
  }
}

/**
 * Writes about `bytes` of corpus to `file` (whole documents, so slightly more), each document
 * followed by `<|endoftext|>`. Same seed, same text: a smaller corpus is a prefix of a larger one.
 */
export function writeOwtLikeCorpus(file: string, bytes: number, seed: number, headWords: readonly string[], onBytes?: (done: number) => void): number {
  const writer = new DocumentWriter(seed, headWords);
  const buffer = Buffer.allocUnsafe(32 << 20);
  const fd = fs.openSync(file, 'w');
  let written = 0;
  let used = 0;
  try {
    while (written + used < bytes) {
      const doc = writer.document() + SPECIAL;
      if (used + doc.length * 3 > buffer.length) {
        fs.writeSync(fd, buffer, 0, used);
        written += used;
        used = 0;
        onBytes?.(written);
      }
      used += buffer.write(doc, used);
    }
    fs.writeSync(fd, buffer, 0, used);
    written += used;
  } finally {
    fs.closeSync(fd);
  }
  return written;
}
