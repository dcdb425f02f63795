/**
 * Worker-thread entry for parallel pre-token counting (started by parallel-count.ts).
 * Messages in: { chunk: string } to count, { finish: true } to reply with the packed totals and exit.
 * Messages out: { counted: number } after each chunk (its id), then { packed: PackedCounts }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { countChunk, packCounts, PretokenTable } from './count-pretokens.js';

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
    const packed = packCounts(counts);
    port.postMessage({ packed }, [packed.lengths.buffer as ArrayBuffer, packed.counts.buffer as ArrayBuffer]);
    port.close();
    return;
  }
  countChunk(message.chunk, specialPattern, counts);
  port.postMessage({ counted: message.id });
});
