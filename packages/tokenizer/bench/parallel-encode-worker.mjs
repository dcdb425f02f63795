// Bench helper: encodes one slice of a file on its own thread and reports its own encode rate.
// Used to measure how well two independent encoders scale on this machine (the encodeFile ceiling).
// The encoder is warmed up before 'ready', so that V8 compiling it is not part of what is timed.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BpeEncoder } from '../dist/bpe-encoder.js';

const { compiled, file, offset, length } = workerData;
const encoder = new BpeEncoder(compiled);
const bytes = Buffer.alloc(length);
const fd = fs.openSync(file, 'r');
fs.readSync(fd, bytes, 0, length, offset);
fs.closeSync(fd);
const text = new TextDecoder().decode(bytes);
encoder.encode(text.slice(0, 3e6));
parentPort.postMessage('ready');
parentPort.on('message', () => {
  const start = performance.now();
  encoder.encode(text);
  parentPort.postMessage(length / 1e6 / ((performance.now() - start) / 1000));
});
