/**
 * `cs336 setup cuda`: installs ONNX Runtime's CUDA execution provider beside onnxruntime-node's binding
 * (from the npm registry, or a tarball already downloaded) and checks that a CUDA session runs. Exit 0
 * when it runs, 1 when it was installed but does not load (no GPU or CUDA libraries) or the install
 * failed (the folder is then unchanged), 2 for bad flags.
 */
import { parseArgs } from 'node:util';
import { CUDA_PROVIDER_PACKAGE, CudaProviderInstallError, installCudaProvider } from '@cs336/graph';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

const USAGE = `cs336 setup cuda [--tarball FILE.tgz] [--binding-dir DIR] [--no-check]

  --tarball FILE    the provider package as a .tgz already downloaded (default: npm pack ${CUDA_PROVIDER_PACKAGE})
  --binding-dir DIR the onnxruntime-node binding folder to install into (default: the one @cs336/graph loads)
  --no-check        install without the CUDA load check
  Exit codes: 0 installed and a CUDA session runs, 1 not installed (the folder is unchanged) or installed but it
  does not load here (the message says what it needs), 2 bad flags.`;

export const setupCudaCommand: Command = {
  name: 'setup cuda',
  summary: "install ONNX Runtime's CUDA provider beside onnxruntime-node and check that it loads",
  usage: USAGE,
  flags: ['tarball', 'binding-dir', 'no-check'],
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({ args: argv, options: { tarball: { type: 'string' }, 'binding-dir': { type: 'string' }, 'no-check': { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    try {
      const result = await installCudaProvider({
        tarball: values.tarball as string | undefined,
        binaryDir: values['binding-dir'] as string | undefined,
        skipLoadCheck: values['no-check'] === true,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (result.loads === false) {
        process.stderr.write(`installed, but the CUDA provider does not load on this machine: ${result.loadError}\n`);
        return 1;
      }
      process.stdout.write(result.loads ? `CUDA provider installed in ${result.binaryDir}; a CUDA session runs (--device cuda works)\n` : `CUDA provider installed in ${result.binaryDir} (load not checked)\n`);
      return 0;
    } catch (error) {
      if (error instanceof CudaProviderInstallError) throw new UsageError(`${error.message}; nothing was installed`, 1);
      throw error;
    }
  },
};
