/** Runs a command with console.log and stderr (progress bars) silenced, restoring them afterwards. */
export function quietly<T>(run: () => Promise<T>): Promise<T> {
  const log = console.log;
  const write = process.stderr.write;
  console.log = () => {};
  process.stderr.write = (() => true) as typeof process.stderr.write;
  return run().finally(() => {
    console.log = log;
    process.stderr.write = write;
  });
}
