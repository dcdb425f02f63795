/**
 * Worker thread for encodeFile: builds the encoder once from the compiled model in `workerData`
 * (typed arrays, so start-up takes milliseconds), then encodes each job's byte range of the input
 * (range-encoder.ts). Jobs start and end at safe boundaries, so the ids equal a single encode.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerInit, WorkerJob, WorkerResult } from './encode-file.js';
import { RangeEncoder } from './range-encoder.js';

const init = workerData as WorkerInit;
const encoder = new RangeEncoder(init.compiled, init.dtype);

parentPort!.on('message', (job: WorkerJob) => {
  let result: WorkerResult;
  try {
    result = { index: job.index, ids: encoder.encode(job.fd, job.start, job.end, job.reuse), invalidUtf8: encoder.invalidUtf8 };
  } catch (error) {
    result = { index: job.index, error: (error as Error).message };
  }
  parentPort!.postMessage(result); // ids live in a SharedArrayBuffer: nothing is copied or detached
});
