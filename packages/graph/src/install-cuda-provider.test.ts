import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { CUDA_PROVIDER_TARBALL_DIR, CudaProviderInstallError, installCudaProvider } from './install-cuda-provider.js';
import { CUDA_PROVIDER_FILES } from './session.js';

// Stand-ins for the provider libraries: small real ELF files (not providers, so they cannot load).
const ELF = fs.readFileSync('/bin/true');

let root: string;
let binaryDir: string;

/** A tarball laid out like the npm package, holding `files` (name → bytes) under Plugins/Linux/x64. */
function tarball(name: string, files: Record<string, Buffer>): string {
  const dir = fs.mkdtempSync(path.join(root, 'pkg-'));
  fs.mkdirSync(path.join(dir, CUDA_PROVIDER_TARBALL_DIR), { recursive: true });
  for (const [file, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, CUDA_PROVIDER_TARBALL_DIR, file), bytes);
  const out = path.join(root, name);
  execFileSync('tar', ['-czf', out, '-C', dir, 'package']);
  return out;
}

const listing = () => fs.readdirSync(binaryDir).sort();

beforeAll(() => {
  // A copy of onnxruntime-node (its binding folder is what gets written) beside its onnxruntime-common,
  // so the child's load check runs the copy, never the repository's own install.
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cuda-install-'));
  const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const copy = path.join(root, 'node_modules', 'onnxruntime-node');
  fs.cpSync(path.join(pkg, 'package.json'), path.join(copy, 'package.json'));
  fs.cpSync(path.join(pkg, 'dist'), path.join(copy, 'dist'), { recursive: true, dereference: true });
  binaryDir = path.join(copy, 'bin', 'napi-v6', 'linux', 'x64');
  fs.cpSync(path.join(pkg, 'bin', 'napi-v6', 'linux', 'x64'), binaryDir, { recursive: true, dereference: true });
  for (const file of CUDA_PROVIDER_FILES) fs.rmSync(path.join(binaryDir, file), { force: true });
  fs.symlinkSync(path.join(path.dirname(pkg), 'onnxruntime-common'), path.join(root, 'node_modules', 'onnxruntime-common'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('installCudaProvider', () => {
  it('installs both libraries from a local tarball byte for byte, and reports a provider that does not load', async () => {
    const cuda = Buffer.concat([ELF, Buffer.from('cuda')]);
    const shared = Buffer.concat([ELF, Buffer.from('shared')]);
    const file = tarball('good.tgz', { 'libonnxruntime_providers_cuda.so': cuda, 'libonnxruntime_providers_shared.so': shared, 'libonnxruntime_providers_tensorrt.so': ELF });
    const lines: string[] = [];
    const result = await installCudaProvider({ tarball: file, binaryDir, log: (line) => lines.push(line) });
    expect(result.files).toEqual([{ name: 'libonnxruntime_providers_cuda.so', bytes: cuda.length }, { name: 'libonnxruntime_providers_shared.so', bytes: shared.length }]);
    expect(fs.readFileSync(path.join(binaryDir, 'libonnxruntime_providers_cuda.so')).equals(cuda)).toBe(true);
    expect(fs.readFileSync(path.join(binaryDir, 'libonnxruntime_providers_shared.so')).equals(shared)).toBe(true);
    // Only the two named libraries, no TensorRT provider, no leftover temporary names.
    expect(listing().filter((f) => f.includes('providers') || f.endsWith('.tmp'))).toEqual([...CUDA_PROVIDER_FILES]);
    expect(result.loads).toBe(false);
    expect(result.loadError).toMatch(/libonnxruntime_providers_\w+\.so failed to load: .*CUDA 13/);
    expect(lines.join('\n')).toMatch(/installed .*libonnxruntime_providers_cuda\.so/);
    for (const f of CUDA_PROVIDER_FILES) fs.rmSync(path.join(binaryDir, f));
  }, 120_000);

  it.each([
    ['a tarball without the shared library', () => tarball('half.tgz', { 'libonnxruntime_providers_cuda.so': ELF }), /could not extract/],
    ['a library that is not ELF', () => tarball('text.tgz', { 'libonnxruntime_providers_cuda.so': Buffer.from('not a library'), 'libonnxruntime_providers_shared.so': ELF }), /libonnxruntime_providers_cuda\.so is not a shared library/],
    ['a file that is not a tarball', () => { const f = path.join(root, 'junk.tgz'); fs.writeFileSync(f, 'junk'); return f; }, /is not the .* tarball/],
    ['a missing file', () => path.join(root, 'absent.tgz'), /no such file/],
  ])('refuses %s and leaves the binding folder as it was', async (_what, make, message) => {
    const before = listing();
    const promise = installCudaProvider({ tarball: make(), binaryDir, skipLoadCheck: true });
    await expect(promise).rejects.toThrow(CudaProviderInstallError);
    await expect(promise).rejects.toThrow(message);
    expect(listing()).toEqual(before);
  });

  it('refuses a folder that is not an onnxruntime-node binding folder', async () => {
    await expect(installCudaProvider({ tarball: path.join(root, 'good.tgz'), binaryDir: root })).rejects.toThrow(/no onnxruntime_binding\.node/);
  });
});
