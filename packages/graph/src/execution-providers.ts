/**
 * Which ONNX Runtime execution providers actually work here: each is tried with a one-node session
 * (Add of two scalars) that must return the right answer. For CUDA the provider libraries are
 * checked first, so a missing install is reported as missing files (with the fix) instead of a
 * native load error; when they are present, the load error (e.g. no libcudart) is what we report.
 */
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from './graph-builder.js';
import { add } from './ops.js';
import { CUDA_PROVIDER_FILES, Session, assertCudaProviderInstalled, onnxruntimeBinaryDir, type Device } from './session.js';

export interface ProviderStatus {
  device: Device;
  /** True when a session on this provider ran and returned the right answer. */
  available: boolean;
  /** One line: why it is unavailable (and the fix), or what loaded. */
  detail: string;
  /** For CUDA: provider libraries that are not beside onnxruntime-node's binding. */
  missingFiles?: string[];
}

/** onnxruntime-node's version and the onnxruntime-common it runs with. */
export function onnxruntimeVersions(): { node: string; common: string } {
  const versions = ort.env.versions as { node?: string; common?: string };
  return { node: versions.node ?? 'unknown', common: versions.common ?? 'unknown' };
}

function probeGraph(): GraphBuilder {
  const g = new GraphBuilder('provider-probe');
  g.output(add(g.input('a', 'float32', [1]), g.input('b', 'float32', [1])), 'sum');
  return g;
}

async function tryDevice(device: Device): Promise<{ ok: true } | { ok: false; error: string }> {
  let session: Session | undefined;
  try {
    session = await Session.create(probeGraph(), { device, threads: 1 });
    const out = await session.run({ a: { dtype: 'float32', dims: [1], data: new Float32Array([2]) }, b: { dtype: 'float32', dims: [1], data: new Float32Array([3]) } });
    const sum = (out.sum!.data as Float32Array)[0];
    return sum === 5 ? { ok: true } : { ok: false, error: `a 2 + 3 session returned ${sum}` };
  } catch (error) {
    return { ok: false, error: (error as Error).message.split('\n')[0]! };
  } finally {
    await session?.release();
  }
}

/** Tries the CPU and CUDA providers; never throws. */
export async function probeExecutionProviders(binaryDir = onnxruntimeBinaryDir()): Promise<ProviderStatus[]> {
  const cpu = await tryDevice('cpu');
  const statuses: ProviderStatus[] = [{
    device: 'cpu',
    available: cpu.ok,
    detail: cpu.ok ? `loads (bundled with onnxruntime-node, ${binaryDir})` : `fails: ${cpu.error}; reinstall onnxruntime-node (pnpm install --force)`,
  }];
  const missingFiles = CUDA_PROVIDER_FILES.filter((file) => !fs.existsSync(path.join(binaryDir, file)));
  if (missingFiles.length > 0 || process.platform !== 'linux' || process.arch !== 'x64') {
    let detail: string;
    try {
      assertCudaProviderInstalled(binaryDir);
      detail = 'unavailable';
    } catch (error) {
      detail = `unavailable: ${(error as Error).message}`;
    }
    statuses.push({ device: 'cuda', available: false, detail, missingFiles });
    return statuses;
  }
  const cuda = await tryDevice('cuda');
  statuses.push({
    device: 'cuda',
    available: cuda.ok,
    detail: cuda.ok
      ? `loads (provider files in ${binaryDir})`
      : `unavailable: the provider files are in ${binaryDir} but the CUDA provider does not load: ${cuda.error} (it needs an NVIDIA driver and the CUDA 13 and cuDNN 9 libraries on LD_LIBRARY_PATH)`,
    missingFiles: [],
  });
  return statuses;
}
