#!/usr/bin/env node
/**
 * cs336: BPE training, tokenization, LM training and generation from one command line.
 * Each command lives in commands/<name>.ts; this file is only the command table.
 */
import type { Command } from './command.js';
import { UsageError } from './command.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  pipeline: async () => (await import('./commands/pipeline.js')).pipelineCommand,
  'data fetch': async () => (await import('./commands/data-fetch.js')).dataFetchCommand,
  'bpe train': async () => (await import('./commands/bpe-train.js')).bpeTrainCommand,
  tokenize: async () => (await import('./commands/tokenize.js')).tokenizeCommand,
  encode: async () => (await import('./commands/encode.js')).encodeCommand,
  decode: async () => (await import('./commands/decode.js')).decodeCommand,
  train: async () => (await import('./commands/train.js')).trainCommand,
  generate: async () => (await import('./commands/generate.js')).generateCommand,
};

async function help(): Promise<string> {
  const lines = ['usage: cs336 <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const command = await load();
    lines.push(`  ${name.padEnd(12)} ${command.summary}`);
  }
  lines.push('', 'Run `cs336 <command> --help` for its options.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    console.log(await help());
    return first === undefined ? 2 : 0;
  }
  const twoWord = second !== undefined ? `${first} ${second}` : '';
  const key = COMMANDS[twoWord] ? twoWord : first;
  const load = COMMANDS[key];
  if (!load) {
    console.error(`cs336: unknown command '${first}'\n\n${await help()}`);
    return 2;
  }
  const command = await load();
  const rest = argv.slice(key.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`cs336 ${key}: ${error.message}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`cs336 ${key}: ${message}`);
    if (process.env.CS336_DEBUG) console.error(error);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { console.error(error); process.exitCode = 1; },
);
