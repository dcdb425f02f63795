#!/usr/bin/env node
/**
 * cs336: BPE training, tokenization, LM training and generation from one command line.
 * Each command lives in commands/<name>.ts and the table in command-table.ts; this file only
 * dispatches, prints help, and turns errors into exit codes (0 ok, 1 failed while running, 2 bad usage).
 */
import { COMMANDS, COMMAND_GROUPS, commandHelp } from './command-table.js';
import { UsageError } from './command.js';

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h' || arg === 'help';

/** The library's CUDA error speaks of `device: 'cpu'`; on the command line the fix is a flag. */
function forTheCommandLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'CudaUnavailableError' && typeof (error as { reason?: unknown }).reason === 'string') {
    return `${(error as unknown as { reason: string }).reason} Or run on the CPU: --device cpu.`;
  }
  return message;
}

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || isHelp(first)) {
    console.log(await commandHelp());
    return first === undefined ? 2 : 0;
  }
  const twoWord = second !== undefined ? `${first} ${second}` : '';
  const key = COMMANDS[twoWord] ? twoWord : first;
  const load = COMMANDS[key];
  if (!load) {
    if (COMMAND_GROUPS.has(first)) {
      // `cs336 bpe`, `cs336 bpe --help`, `cs336 bpe trian`: list the group's subcommands.
      const unknown = second !== undefined && !isHelp(second) ? `cs336 ${first}: unknown subcommand '${second}'\n\n` : '';
      (unknown || second === undefined ? console.error : console.log)(`${unknown}${await commandHelp(first)}`);
      return second !== undefined && isHelp(second) ? 0 : 2;
    }
    console.error(`cs336: unknown command '${first}'\n\n${await commandHelp()}`);
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
      const synopsis = error.exitCode === 2 && !error.message.includes('usage: ') ? `\nusage: ${command.usage.split('\n')[0]}\n(cs336 ${key} --help explains every flag)` : '';
      console.error(`cs336 ${key}: ${error.message}${synopsis}`);
      return error.exitCode;
    }
    console.error(`cs336 ${key}: ${forTheCommandLine(error)}`);
    if (process.env.CS336_DEBUG) console.error(error);
    return 1;
  }
}

// A reader that stops early (`cs336 encode ... | head`) closes the pipe: that is a normal end, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  console.error(`cs336: cannot write to standard output: ${error.message}`);
  process.exit(1);
});

// Progress and notes on stderr are best effort: a closed stderr must not stop (or crash) the work.
process.stderr.on('error', () => {});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { console.error(error); process.exitCode = 1; },
);
