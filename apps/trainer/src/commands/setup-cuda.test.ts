import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../command.js';
import { setupCudaCommand } from './setup-cuda.js';

// The install itself is tested in @cs336/graph (install-cuda-provider.test.ts); here, the command's exit codes.
describe('cs336 setup cuda', () => {
  it('an unknown flag is a usage error (exit 2)', async () => {
    await expect(setupCudaCommand.run(['--bogus'])).rejects.toMatchObject({ name: 'UsageError', exitCode: 2 });
  });

  it('a bad tarball or binding folder fails (exit 1) saying nothing was installed, and leaves the folder as it was', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'setup-cuda-'));
    try {
      const junk = path.join(dir, 'junk.tgz');
      fs.writeFileSync(junk, 'not a tarball');
      const error = await setupCudaCommand.run(['--tarball', junk, '--binding-dir', dir]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error).toMatchObject({ exitCode: 1 });
      expect((error as Error).message).toMatch(/no onnxruntime_binding\.node.*nothing was installed/);
      expect(fs.readdirSync(dir)).toEqual(['junk.tgz']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
