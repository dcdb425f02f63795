/**
 * Worker-thread entry for parallel pre-token counting (started by parallel-count.ts).
 * Messages in: { chunk: string } to count, { finish: true } to reply with the packed totals and exit.
 * Messages out: { counted: number } after each chunk (its id), then { packed: PackedPretokenTable },
 * whose arrays are transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { countChunk, PretokenTable } from './count-pretokens.js';

interface WorkerSetup {
  specialSource: string | null;
}

const port = parentPort;
if (port === null) throw new Error('count-worker.js must be started as a worker thread');
const setup = workerData as WorkerSetup;
const specialPattern = setup.specialSource === null ? null : new RegExp(setup.specialSource, 'g');
const counts = new PretokenTable();

port.on('message', (message: { id: number; chunk: string } | { finish: true }) => {
  if ('finish' in message) {
    const packed = counts.pack();
    const arrays = [packed.slots, packed.hashes, packed.starts, packed.counts, packed.bytes];
    port.postMessage({ packed }, arrays.map((a) => a.buffer as ArrayBuffer));
    port.close();
    return;
  }
  countChunk(message.chunk, specialPattern, counts);
  port.postMessage({ counted: message.id });
});
