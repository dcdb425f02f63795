/**
 * What Node users imported before the package became portable still works: a plain Node process
 * (not jest, whose module mapper points at src/), in a project that has the package in its
 * node_modules (a link to this folder), resolves `@cs336/tokenizer` through the export map's
 * `node` condition to the built entry with the file APIs, reads GPT-2's files and encodes a file on
 * a worker thread. `@cs336/tokenizer/node` is the same module; `/portable` is the browser entry;
 * `/gpt2` gives GPT-2 as the Node Tokenizer.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeWithFixtures, fixturePath, projectFixturePath } from '../../../test-support/fixtures.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A temporary project with this package in its node_modules (a link, as a workspace install makes). */
function userProject(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.mkdirSync(path.join(dir, 'node_modules', '@cs336'), { recursive: true });
  fs.symlinkSync(packageDir, path.join(dir, 'node_modules', '@cs336', 'tokenizer'), 'dir');
  return dir;
}

const SCRIPT = `
import { Tokenizer, tokenDtype, referenceEncode } from '@cs336/tokenizer';
import * as nodeEntry from '@cs336/tokenizer/node';
import * as portable from '@cs336/tokenizer/portable';
import { gpt2 } from '@cs336/tokenizer/gpt2';
const [vocab, merges, text, out] = JSON.parse(process.env.NODE_ENTRY_ARGS);
const tokenizer = await Tokenizer.fromFiles(vocab, merges, ['<|endoftext|>']);
const sidecar = await tokenizer.encodeFile(text, out, { workers: 1 });
const fileIds = [...new Uint16Array(new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(out))).buffer)];
console.log(JSON.stringify({
  sameModule: nodeEntry.Tokenizer === Tokenizer,
  portableHasFileApi: 'fromFiles' in portable.Tokenizer || 'encodeFile' in portable.Tokenizer.prototype,
  isPortableTokenizer: tokenizer instanceof portable.Tokenizer,
  dtype: tokenDtype(tokenizer.vocabSize),
  referenceEncode: typeof referenceEncode,
  gpt2EncodeFile: typeof (await gpt2()).encodeFile,
  gpt2SameHash: (await gpt2()).hash() === tokenizer.hash(),
  ids: tokenizer.encode(await import('node:fs').then((fs) => fs.readFileSync(text, 'utf8'))),
  fileIds,
  sidecar,
}));
`;

describeWithFixtures('the Node entry, as Node resolves it', () => {
  it('loads the GPT-2 data only when gpt2() is first called, not when /gpt2 is imported', () => {
    const dir = userProject('tokenizer-lazy-');
    try {
      // A module hook (it runs on Node's loader thread) appends every URL Node loads to a log file.
      const log = path.join(dir, 'loaded.txt');
      fs.writeFileSync(path.join(dir, 'hooks.mjs'), `import fs from 'node:fs';\nexport async function load(url, context, next) { fs.appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }\n`);
      fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
      const loaded = () => fs.readFileSync(log, 'utf8');
      const script = `import fs from 'node:fs';
const { gpt2 } = await import('@cs336/tokenizer/gpt2');
const before = fs.readFileSync(${JSON.stringify(log)}, 'utf8');
await gpt2();
console.log(JSON.stringify({ before: before.includes('/gpt2-data.js'), entryLoaded: before.includes('/dist/gpt2-node.js') }));`;
      fs.writeFileSync(path.join(dir, 'user.mjs'), script);
      const stdout = execFileSync(process.execPath, ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, path.join(dir, 'user.mjs')], { cwd: dir, encoding: 'utf8' });
      expect(JSON.parse(stdout)).toEqual({ before: false, entryLoaded: true });
      expect(loaded()).toMatch(/\/dist\/gpt2-data\.js/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps Tokenizer.fromFiles and encodeFile on the main entry, and /node is the same module', () => {
    const dir = userProject('tokenizer-node-entry-');
    try {
      const out = path.join(dir, 'address.bin');
      fs.writeFileSync(path.join(dir, 'user.mjs'), SCRIPT);
      const stdout = execFileSync(process.execPath, [path.join(dir, 'user.mjs')], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NODE_ENTRY_ARGS: JSON.stringify([fixturePath('gpt2_vocab.json'), fixturePath('gpt2_merges.txt'), fixturePath('address.txt'), out]) },
      });
      const result = JSON.parse(stdout) as { sameModule: boolean; portableHasFileApi: boolean; isPortableTokenizer: boolean; dtype: string; referenceEncode: string; gpt2EncodeFile: string; gpt2SameHash: boolean; ids: number[]; fileIds: number[]; sidecar: { count: number } };
      const expected = (JSON.parse(fs.readFileSync(projectFixturePath('tiktoken-gpt2-expected-ids.json'), 'utf8')) as { cases: { name: string; ids: number[] }[] }).cases.find((c) => c.name === 'address.txt')!;
      expect(result.sameModule).toBe(true);
      expect(result.portableHasFileApi).toBe(false);
      expect(result.isPortableTokenizer).toBe(true);
      expect(result.dtype).toBe('uint16');
      expect(result.referenceEncode).toBe('function');
      expect(result.gpt2EncodeFile).toBe('function');
      expect(result.gpt2SameHash).toBe(true);
      expect(result.ids).toEqual(expected.ids);
      expect(result.fileIds).toEqual(expected.ids);
      expect(result.sidecar.count).toBe(expected.ids.length);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
