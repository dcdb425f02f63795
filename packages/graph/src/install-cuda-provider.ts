/**
 * Installing ONNX Runtime's CUDA execution provider beside onnxruntime-node's binding, which ships the
 * CPU provider only. The provider comes from the npm registry (CUDA_PROVIDER_PACKAGE, built for ORT
 * 1.29.0 and CUDA 13) or from a tarball already on disk; both libraries are staged under temporary
 * names in the binding folder and renamed in together, so a failure leaves the folder as it was.
 * Then a child Node process loads the provider from that folder (a failed native load must not take
 * down or taint the caller's ONNX Runtime) and runs a one-node session on it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GraphBuilder } from './graph-builder.js';
import { add } from './ops.js';
import { CUDA_PROVIDER_FILES, CUDA_PROVIDER_PACKAGE, onnxruntimeBinaryDir } from './session.js';

const run = promisify(execFile);

/** Where the provider libraries sit inside the package tarball (checked against 0.4.9's file list). */
export const CUDA_PROVIDER_TARBALL_DIR = 'package/Plugins/Linux/x64';

export interface InstallCudaProviderOptions {
  /** A `.tgz` of CUDA_PROVIDER_PACKAGE already downloaded (`npm pack`); default: fetch it with npm. */
  tarball?: string;
  /** The onnxruntime-node binding folder to install into (default: the one this package loads). */
  binaryDir?: string;
  /** Skip the load check (the files are installed either way). */
  skipLoadCheck?: boolean;
  /** Progress lines (download, extract, copy, check). */
  log?: (line: string) => void;
}

export interface InstallCudaProviderResult {
  binaryDir: string;
  /** Installed file names with their sizes in bytes. */
  files: { name: string; bytes: number }[];
  /** Whether a CUDA session ran on the installed provider; undefined when skipped. */
  loads?: boolean;
  /** Why it does not load (the native error and what it needs), when it does not. */
  loadError?: string;
}

/** A problem with the input (bad tarball, wrong platform, unwritable folder): nothing was changed. */
export class CudaProviderInstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CudaProviderInstallError';
  }
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

function isElf(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(ELF_MAGIC);
  } finally {
    fs.closeSync(fd);
  }
}

async function fetchTarball(into: string, log: (line: string) => void): Promise<string> {
  log(`fetching ${CUDA_PROVIDER_PACKAGE} from the npm registry (about 180 MB)...`);
  try {
    const { stdout } = await run('npm', ['pack', '--silent', CUDA_PROVIDER_PACKAGE, '--pack-destination', into], { maxBuffer: 1 << 20 });
    const name = stdout.trim().split('\n').at(-1)!;
    return path.join(into, name);
  } catch (error) {
    throw new CudaProviderInstallError(`could not fetch ${CUDA_PROVIDER_PACKAGE} with npm pack (${(error as Error).message.split('\n')[0]}); download it elsewhere and pass the .tgz (cs336 setup cuda --tarball FILE)`);
  }
}

/** Node source for the child that loads the provider from `binaryDir`'s onnxruntime-node and runs 2 + 3. */
function loadCheckScript(packageDir: string, modelFile: string): string {
  return `
const ort = require(${JSON.stringify(packageDir)});
(async () => {
  const s = await ort.InferenceSession.create(${JSON.stringify(modelFile)}, { executionProviders: ['cuda'], graphOptimizationLevel: 'disabled' });
  const t = (v) => new ort.Tensor('float32', new Float32Array([v]), [1]);
  const out = await s.run({ a: t(2), b: t(3) });
  if (out.sum.data[0] !== 5) throw new Error('a 2 + 3 session returned ' + out.sum.data[0]);
  process.stdout.write('ok');
})().catch((e) => { process.stderr.write(String(e && e.message || e).split('\\n')[0]); process.exit(1); });`;
}

/** ORT's native log line (colour codes, source locations) cut down to the library that failed and why. */
function loadErrorLine(stderr: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, '').trim();
  if (text === '') return undefined;
  const failed = /Failed to load library (\S+) with error: ([^\n]+)/.exec(text);
  return failed ? `${path.basename(failed[1]!)} failed to load: ${failed[2]!.trim()}` : text.split('\n').at(-1)!.trim();
}

/**
 * Runs a one-node session with executionProviders ['cuda'] in a child Node on the onnxruntime-node
 * package that owns `binaryDir` (<pkg>/bin/napi-v6/linux/x64). Never throws.
 */
export async function checkCudaProviderLoads(binaryDir = onnxruntimeBinaryDir()): Promise<{ loads: boolean; error?: string }> {
  const packageDir = path.resolve(binaryDir, '..', '..', '..', '..');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cuda-load-check-'));
  try {
    const g = new GraphBuilder('cuda-load-check');
    g.output(add(g.input('a', 'float32', [1]), g.input('b', 'float32', [1])), 'sum');
    const modelFile = path.join(tmp, 'add.onnx');
    fs.writeFileSync(modelFile, g.toModel());
    await run(process.execPath, ['-e', loadCheckScript(packageDir, modelFile)], { timeout: 120_000 });
    return { loads: true };
  } catch (error) {
    return { loads: false, error: loadErrorLine((error as { stderr?: string }).stderr ?? '') ?? (error as Error).message.split('\n')[0]! };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Puts CUDA_PROVIDER_FILES from the provider package beside onnxruntime-node's binding and checks that
 * a CUDA session runs. Throws CudaProviderInstallError (folder unchanged) for a bad tarball or folder;
 * a provider that is installed but does not load (no GPU, no CUDA 13 libraries) is `loads: false`.
 */
export async function installCudaProvider(options: InstallCudaProviderOptions = {}): Promise<InstallCudaProviderResult> {
  const log = options.log ?? (() => {});
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new CudaProviderInstallError(`the CUDA provider package is built for linux-x64; this is ${process.platform}-${process.arch}`);
  }
  const binaryDir = path.resolve(options.binaryDir ?? onnxruntimeBinaryDir());
  if (!fs.existsSync(path.join(binaryDir, 'onnxruntime_binding.node'))) {
    throw new CudaProviderInstallError(`${binaryDir} holds no onnxruntime_binding.node: not an onnxruntime-node binding folder`);
  }
  try {
    fs.accessSync(binaryDir, fs.constants.W_OK);
  } catch {
    throw new CudaProviderInstallError(`${binaryDir} is not writable; run with permission to write there, or install onnxruntime-node where you can`);
  }
  if (options.tarball !== undefined && !fs.statSync(options.tarball, { throwIfNoEntry: false })?.isFile()) {
    throw new CudaProviderInstallError(`--tarball ${options.tarball}: no such file`);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cuda-provider-'));
  const staged: string[] = [];
  try {
    const tarball = options.tarball !== undefined ? path.resolve(options.tarball) : await fetchTarball(work, log);
    log(`extracting ${CUDA_PROVIDER_FILES.join(', ')} from ${path.basename(tarball)}...`);
    const members = CUDA_PROVIDER_FILES.map((file) => `${CUDA_PROVIDER_TARBALL_DIR}/${file}`);
    try {
      await run('tar', ['-xzf', tarball, '-C', work, ...members], { maxBuffer: 1 << 20 });
    } catch (error) {
      throw new CudaProviderInstallError(`${tarball} is not the ${CUDA_PROVIDER_PACKAGE} tarball: tar could not extract ${members.join(' and ')} (${((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n')[0]})`);
    }
    const extracted = CUDA_PROVIDER_FILES.map((file) => path.join(work, CUDA_PROVIDER_TARBALL_DIR, file));
    for (const file of extracted) {
      if (!fs.existsSync(file) || !isElf(file)) throw new CudaProviderInstallError(`${tarball}: ${path.basename(file)} is not a shared library (no ELF header)`);
    }
    // Stage both under temporary names first, then rename: the binding folder never holds one without the other.
    const files: { name: string; bytes: number }[] = [];
    for (const [i, file] of extracted.entries()) {
      const name = CUDA_PROVIDER_FILES[i]!;
      const temp = path.join(binaryDir, `.${name}.${process.pid}.tmp`);
      staged.push(temp);
      fs.copyFileSync(file, temp);
      files.push({ name, bytes: fs.statSync(temp).size });
    }
    for (const [i, temp] of staged.entries()) fs.renameSync(temp, path.join(binaryDir, CUDA_PROVIDER_FILES[i]!));
    staged.length = 0;
    log(`installed ${files.map((f) => `${f.name} (${(f.bytes / 2 ** 20).toFixed(1)} MiB)`).join(' and ')} in ${binaryDir}`);
    if (options.skipLoadCheck) return { binaryDir, files };
    log('checking that a CUDA session runs...');
    const check = await checkCudaProviderLoads(binaryDir);
    return check.loads
      ? { binaryDir, files, loads: true }
      : { binaryDir, files, loads: false, loadError: `${check.error} (the provider needs an NVIDIA GPU with its driver and the CUDA 13 and cuDNN 9 libraries on LD_LIBRARY_PATH)` };
  } finally {
    for (const temp of staged) fs.rmSync(temp, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}
