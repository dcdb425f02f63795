/**
 * Worker thread for encodeFile: builds the encoder once from the compiled model in `workerData`
 * (typed arrays, so start-up takes milliseconds), then turns each job's
 * UTF-8 bytes into ids. Jobs start and end at safe boundaries, so the ids equal a single encode.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { idsToTypedArray, type WorkerInit, type WorkerJob, type WorkerResult } from './encode-file.js';
import { BpeEncoder } from './bpe-encoder.js';

const init = workerData as WorkerInit;
const encoder = new BpeEncoder(init.compiled);
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

parentPort!.on('message', (job: WorkerJob) => {
  let result: WorkerResult;
  try {
    result = { index: job.index, ids: idsToTypedArray(encoder.encode(decoder.decode(job.bytes)), init.dtype) };
  } catch (error) {
    result = { index: job.index, error: (error as Error).message };
  }
  parentPort!.postMessage(result, result.ids ? [result.ids.buffer as ArrayBuffer] : []);
});
