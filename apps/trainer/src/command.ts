/** One CLI command: its name, a line of help, the flags it accepts, and a runner that returns the exit code. */
export interface Command {
  name: string;
  summary: string;
  /** The synopsis line, then a line per flag explaining it (what `--help` prints after "usage: "). */
  usage: string;
  /** Every flag the command accepts, without the dashes (the help test checks each is explained). */
  flags: readonly string[];
  run(argv: string[]): Promise<number>;
}

/**
 * An error whose message is shown to the user as is (no stack), with exit code 1 or 2. With exit
 * code 2 (bad flags or usage) the CLI adds the command's synopsis line under the message.
 */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Runs `check` (a package's resolve/validate function) and turns what it throws into a UsageError. */
export function asUsageError<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
}
