/**
 * The assignment's datasets and where the handout downloads them from (Hugging Face `resolve` URLs).
 * Each has a train and a valid file; the OpenWebText sample is gzip-compressed.
 */

export type DatasetName = 'tinystories' | 'owt';
export type Split = 'train' | 'valid';

export interface DatasetSpec {
  name: DatasetName;
  title: string;
  /** Base URL; a file's URL is `${baseUrl}/${remote name}`. */
  baseUrl: string;
  /** The file names upstream (and in a `--from` folder or mirror). */
  files: Readonly<Record<Split, string>>;
  /** Approximate sizes of the text after decompression, for messages. */
  approximateTextBytes: Readonly<Record<Split, number>>;
}

export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = Object.freeze({
  tinystories: {
    name: 'tinystories',
    title: 'TinyStoriesV2-GPT4',
    baseUrl: 'https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main',
    files: { train: 'TinyStoriesV2-GPT4-train.txt', valid: 'TinyStoriesV2-GPT4-valid.txt' },
    approximateTextBytes: { train: 2.23e9, valid: 22.5e6 },
  },
  owt: {
    name: 'owt',
    title: 'OpenWebText sample (CS336)',
    baseUrl: 'https://huggingface.co/datasets/stanford-cs336/owt-sample/resolve/main',
    files: { train: 'owt_train.txt.gz', valid: 'owt_valid.txt.gz' },
    approximateTextBytes: { train: 11.9e9, valid: 290e6 },
  },
});

/** Environment variable naming a mirror base URL (or folder) that replaces every dataset's base URL. */
export const MIRROR_ENV = 'CS336_DATASET_MIRROR';

/** The local file name a split is stored under after fetching: train.txt / valid.txt. */
export function localName(split: Split): string {
  return `${split}.txt`;
}

export function datasetSpec(name: string): DatasetSpec {
  if (!Object.hasOwn(DATASETS, name)) throw new Error(`unknown dataset "${name}"; known: ${Object.keys(DATASETS).join(', ')}`);
  return DATASETS[name as DatasetName];
}
