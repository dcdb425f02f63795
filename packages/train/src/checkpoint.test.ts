import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint, type CheckpointFs } from './checkpoint.js';
import { readSafetensors } from './safetensors.js';
import { checkpointState } from '../test/checkpoint-state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'checkpoint-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips parameters, moments and metadata, readable as plain safetensors with course names', () => {
    const state = checkpointState(3);
    const file = saveCheckpoint(dir, state);
    expect(file).toBe(path.join(dir, CHECKPOINT_FILE));
    const back = loadCheckpoint(dir, { modelConfig: { numLayers: 1, dModel: 8 }, parameters: [...state.parameters].map(([name, t]) => ({ name, shape: t.dims })) });
    expect(back).toEqual(state);
    const raw = readSafetensors(file);
    expect([...raw.tensors.keys()].sort()).toEqual(expect.arrayContaining(['token_embeddings.weight', 'optimizer.m.lm_head.weight', 'optimizer.v.layers.0.ln1.weight']));
    expect(fs.readdirSync(dir)).toEqual([CHECKPOINT_FILE]); // no temp file left
  });

  it('refuses a checkpoint from another model config, naming the difference', () => {
    saveCheckpoint(dir, checkpointState(1, { dModel: 8, numLayers: 1 }));
    expect(() => loadCheckpoint(dir, { modelConfig: { dModel: 16, numLayers: 1 } })).toThrow(/another model config \(dModel: 8 in the checkpoint, 16 now\)/);
    expect(() => loadCheckpoint(dir, { parameters: [{ name: 'token_embeddings.weight', shape: [16, 4] }] })).toThrow(/"token_embeddings.weight" has shape \[16, 8\], the model needs \[16, 4\]/);
  });

  it('detects corruption with the checksum', () => {
    const file = saveCheckpoint(dir, checkpointState(1));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3]! ^= 0xff; // flip bits inside the last tensor
    fs.writeFileSync(file, bytes);
    expect(() => loadCheckpoint(dir)).toThrow(/checksum mismatch/);
  });

  it('on disk full, throws a clear error and keeps the previous checkpoint intact', () => {
    saveCheckpoint(dir, checkpointState(1));
    let written = 0;
    const fullDisk: CheckpointFs = {
      openSync: (f, flags) => fs.openSync(f, flags),
      writeSync: (fd, buffer, offset, length) => {
        if (written > 100) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        const n = fs.writeSync(fd, buffer, offset, Math.min(length, 64));
        written += n;
        return n;
      },
      fsyncSync: (fd) => fs.fsyncSync(fd),
      closeSync: (fd) => fs.closeSync(fd),
      renameSync: (a, b) => fs.renameSync(a, b),
      unlinkSync: (f) => fs.unlinkSync(f),
    };
    expect(() => saveCheckpoint(dir, checkpointState(2), { fs: fullDisk })).toThrow(/disk full while saving checkpoint .*ENOSPC.*previous checkpoint .* is intact/);
    expect(loadCheckpoint(dir)).toEqual(checkpointState(1));
    expect(fs.readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
  });

  it('a SIGKILL in the middle of a write leaves the previous checkpoint readable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../test/checkpoint-writer-child.ts'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const killed = await new Promise<NodeJS.Signals | null>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('midwrite')) child.kill('SIGKILL');
      });
      child.on('exit', (_code, signal) => resolve(signal));
    });
    expect({ killed, stderr }).toEqual({ killed: 'SIGKILL', stderr: '' });
    // The half-written temp is there, the checkpoint is still version 1 and loads cleanly.
    expect(fs.readdirSync(dir).some((f) => f.startsWith(`${CHECKPOINT_FILE}.tmp-`))).toBe(true);
    expect(loadCheckpoint(dir)).toEqual(checkpointState(1));
    // The next save clears the stale temp.
    saveCheckpoint(dir, checkpointState(3));
    expect(fs.readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
  });
});
