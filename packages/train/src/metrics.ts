/**
 * Training metrics as JSON Lines, one record per optimizer step (validation loss on eval steps), after
 * a step-0 record holding the untrained model's validation loss (when there is validation data).
 * Appending keeps the file valid after a crash except possibly a torn last line, which
 * `readMetrics` skips; on resume the log is cut back to the checkpoint's step so no step appears twice.
 */
import fs from 'node:fs';
import { writeFileAtomic } from './atomic-write.js';

export interface MetricsRecord {
  /** 0 for the evaluation before any update; s ≥ 1 for optimizer step s. */
  step: number;
  tokensSeen: number;
  /** Loss of step s's batch before its update; absent on the step-0 record (no step ran). */
  trainLoss?: number;
  /** Present on steps where validation ran (always on step 0). */
  valLoss?: number;
  /** Learning rate of the step's update; absent on step 0. */
  lr?: number;
  /** Gradient norm before clipping; absent on step 0 and on skipped fp16 steps (it was not finite). */
  gradNorm?: number;
  /** fp16 runs: the loss scale S the step used. */
  lossScale?: number;
  /** fp16 runs: true when the step's gradients overflowed, so it changed nothing and halved S. */
  skipped?: boolean;
  /** Training rate of the chunk the step ran in; absent on step 0. */
  tokensPerSecond?: number;
  /** Seconds of training since the run began, summed across resumes. */
  wallTime: number;
}

export function readMetrics(file: string): MetricsRecord[] {
  if (!fs.existsSync(file)) return [];
  const records: MetricsRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as MetricsRecord);
    } catch {
      // A line torn by a crash mid-append; everything before it is intact.
    }
  }
  return records;
}

export class MetricsLog {
  readonly records: MetricsRecord[];

  /** Opens `file`, keeping only records up to `keepThroughStep` (all when undefined; none for a fresh run: -1). */
  constructor(readonly file: string, keepThroughStep?: number) {
    const existing = readMetrics(file);
    this.records = keepThroughStep === undefined ? existing : existing.filter((r) => r.step <= keepThroughStep);
    if (this.records.length !== existing.length || (fs.existsSync(file) && keepThroughStep !== undefined)) {
      writeFileAtomic(file, this.records.map((r) => JSON.stringify(r) + '\n').join(''));
    }
  }

  append(record: MetricsRecord): void {
    this.records.push(record);
    fs.appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}
