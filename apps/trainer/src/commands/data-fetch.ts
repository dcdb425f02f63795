/**
 * `cs336 data fetch tinystories|owt`: download a dataset of the handout into DIR as train.txt and
 * valid.txt (+ dataset.json), resuming an interrupted download and verifying what arrives
 * (@cs336/data does the work; this file draws the progress bars).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DATASETS, DownloadError, fetchDataset, type DatasetName, type FetchDatasetResult, type FetchProgress } from '@cs336/data';
import { UsageError, type Command } from '../command.js';
import { createProgressBar, type ProgressBar } from '../progress.js';
import { checkOutputDirectory } from '../preflight.js';

const NAMES = Object.keys(DATASETS) as DatasetName[];
const USAGE = `cs336 data fetch ${NAMES.join('|')} [--dir DIR] [--from DIR|URL]

  --dir DIR         where train.txt, valid.txt and dataset.json go (default data/<dataset>)
  --from DIR|URL    a local folder or a mirror base URL holding the upstream file names
                    (${Object.values(DATASETS).flatMap((d) => Object.values(d.files)).join(', ')});
                    default $CS336_DATASET_MIRROR, else Hugging Face:
${Object.values(DATASETS).map((d) => `                      ${d.name}: ${d.baseUrl}`).join('\n')}
  An interrupted download resumes where it stopped; a finished dataset is not fetched again.`;

export function defaultDataDir(name: DatasetName): string {
  return path.resolve('data', name);
}

/** fetchDataset with a progress bar per file and phase (MB/s, ETA) and log lines on stderr. */
export async function fetchWithProgress(name: DatasetName, dir: string, from: string | undefined): Promise<FetchDatasetResult> {
  let bar: ProgressBar | undefined;
  let current = '';
  const label = (p: FetchProgress) => `${p.phase} ${p.name}`;
  try {
    return await fetchDataset(name, {
      dir,
      ...(from !== undefined ? { from } : {}),
      log: (line) => console.error(line),
      onProgress: (p) => {
        if (label(p) !== current) {
          current = label(p);
          bar = createProgressBar({ label: current, total: p.bytesTotal ?? 0, unit: 'MB', scale: 1e6, initial: p.bytesDone });
        }
        bar?.update(p.bytesDone);
      },
      onPhaseEnd: () => {
        bar?.finish();
        bar = undefined;
        current = '';
      },
    });
  } catch (error) {
    if (error instanceof DownloadError) throw new Error(error.message); // exit 1, message as is
    throw error;
  }
}

export const dataFetchCommand: Command = {
  name: 'data fetch',
  summary: `download ${NAMES.join(' or ')} (resumable, verified) as train.txt + valid.txt`,
  usage: USAGE,
  flags: ['dir', 'from'],
  async run(argv) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: { dir: { type: 'string' }, from: { type: 'string' } }, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(`${(error as Error).message}\nusage: ${USAGE}`);
    }
    const [name, ...extra] = parsed.positionals;
    if (name === undefined) throw new UsageError(`which dataset? one of ${NAMES.join(', ')}\nusage: ${USAGE}`);
    if (!NAMES.includes(name as DatasetName)) throw new UsageError(`unknown dataset "${name}"; known: ${NAMES.join(', ')}\nusage: ${USAGE}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"\nusage: ${USAGE}`);
    const from = parsed.values.from;
    if (from !== undefined && !/^https?:\/\//i.test(from) && !fs.statSync(from, { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(`--from ${from}: not a folder and not an http(s) URL\nusage: ${USAGE}`);
    }
    const dir = path.resolve(parsed.values.dir ?? defaultDataDir(name as DatasetName));
    checkOutputDirectory('dir', dir);
    const result = await fetchWithProgress(name as DatasetName, dir, from);
    for (const split of ['train', 'valid'] as const) {
      const entry = result.manifest.files[split]!;
      console.log(`${path.join(dir, entry.file)}: ${(entry.bytes / 1e6).toFixed(1)} MB, sha256 ${entry.sha256}${result.reused.includes(split) ? ' (already there)' : ''}`);
    }
    console.log(`next: cs336 pipeline --preset ${name} --data ${dir}`);
    return 0;
  },
};
