/**
 * Worker thread for encodeFile: builds the tokenizer once from `workerData`, then turns each job's
 * UTF-8 bytes into ids. Jobs start and end at safe boundaries, so the ids equal a single encode.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { idsToTypedArray, type WorkerInit, type WorkerJob, type WorkerResult } from './encode-file.js';
import { Tokenizer } from './tokenizer.js';

const init = workerData as WorkerInit;
const tokenizer = new Tokenizer(init.model.vocab, init.model.merges, init.model.specialTokens);
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

parentPort!.on('message', (job: WorkerJob) => {
  let result: WorkerResult;
  try {
    result = { index: job.index, ids: idsToTypedArray(tokenizer.encode(decoder.decode(job.bytes)), init.dtype) };
  } catch (error) {
    result = { index: job.index, error: (error as Error).message };
  }
  parentPort!.postMessage(result, result.ids ? [result.ids.buffer as ArrayBuffer] : []);
});
