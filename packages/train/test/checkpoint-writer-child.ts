/**
 * Child process for the SIGKILL test: saves checkpoint A, then starts saving B and stops half way
 * through the write, printing "midwrite" so the parent can kill it there.
 */
import { saveCheckpoint, type CheckpointFs } from '../src/checkpoint.js';
import fs from 'node:fs';
import { checkpointState } from './checkpoint-state.js';

const dir = process.argv[2]!;
saveCheckpoint(dir, checkpointState(1));
process.stdout.write('saved\n');
const stalling: CheckpointFs = {
  openSync: (file, flags) => fs.openSync(file, flags),
  writeSync: (fd, buffer, offset, length) => {
    const half = Math.max(1, Math.floor(length / 2));
    const written = fs.writeSync(fd, buffer, offset, half);
    fs.writeSync(1, 'midwrite\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000); // hold here until killed
    return written;
  },
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (file) => fs.unlinkSync(file),
};
saveCheckpoint(dir, checkpointState(2), { fs: stalling });
