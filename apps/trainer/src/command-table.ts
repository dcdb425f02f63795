/** The command table: name → lazily loaded command (so `--help` does not load ONNX Runtime). */
import type { Command } from './command.js';

export const COMMANDS: Record<string, () => Promise<Command>> = {
  pipeline: async () => (await import('./commands/pipeline.js')).pipelineCommand,
  'data fetch': async () => (await import('./commands/data-fetch.js')).dataFetchCommand,
  'bpe train': async () => (await import('./commands/bpe-train.js')).bpeTrainCommand,
  tokenize: async () => (await import('./commands/tokenize.js')).tokenizeCommand,
  encode: async () => (await import('./commands/encode.js')).encodeCommand,
  decode: async () => (await import('./commands/decode.js')).decodeCommand,
  train: async () => (await import('./commands/train.js')).trainCommand,
  generate: async () => (await import('./commands/generate.js')).generateCommand,
  eval: async () => (await import('./commands/eval.js')).evalCommand,
  account: async () => (await import('./commands/account.js')).accountCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  'setup cuda': async () => (await import('./commands/setup-cuda.js')).setupCudaCommand,
  'export web': async () => (await import('./commands/export-web.js')).exportWebCommand,
  'experiment run': async () => (await import('./commands/experiment.js')).experimentRunCommand,
  'experiment report': async () => (await import('./commands/experiment.js')).experimentReportCommand,
  'experiment list': async () => (await import('./commands/experiment.js')).experimentListCommand,
  compare: async () => (await import('./commands/compare.js')).compareCommand,
};

/** The overview: every command (or, with `group`, the subcommands of `cs336 <group>`) and its summary. */
export async function commandHelp(group?: string): Promise<string> {
  const names = Object.keys(COMMANDS).filter((name) => group === undefined || name.startsWith(`${group} `));
  const lines = [group === undefined ? 'usage: cs336 <command> [options]' : `usage: cs336 ${group} <subcommand> [options]`, '', group === undefined ? 'commands:' : 'subcommands:'];
  const width = Math.max(...names.map((name) => name.length)) + 2; // the longest name sets the summary column
  for (const name of names) lines.push(`  ${name.padEnd(width)}${(await COMMANDS[name]!()).summary}`);
  lines.push('', `Run \`cs336 ${group === undefined ? '<command>' : `${group} <subcommand>`} --help\` for its options.`);
  return lines.join('\n');
}

/** Groups of two-word commands (`bpe` for `bpe train`). */
export const COMMAND_GROUPS: ReadonlySet<string> = new Set(Object.keys(COMMANDS).filter((n) => n.includes(' ')).map((n) => n.split(' ')[0]!));
