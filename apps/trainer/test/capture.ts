/** Runs a command and returns what it printed with console.log (stderr silenced) and its exit code. */
export async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string }> {
  const log = console.log;
  const write = process.stderr.write;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => { lines.push(args.map(String).join(' ')); };
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const code = await run();
    return { code, stdout: lines.join('\n') };
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
}
