/** Runs the built CLI (dist/cli.js, built before tests by turbo) in a child process. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');

export interface CliRun { code: number | null; stdout: string; stderr: string }

export interface CliOptions {
  /** Bytes for stdin, or a path opened as stdin (a file or a directory). */
  input?: string | Uint8Array;
  stdinPath?: string;
  env?: Record<string, string>;
  /** Close our end of stdout after its first bytes arrive, as `| head -c N` does. */
  closeStdoutAfterFirstData?: boolean;
  /** Kill the child after this long (default 60 s), so a hang fails the test instead of outliving it. */
  timeoutMs?: number;
}

export function cs336(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const stdinFd = options.stdinPath !== undefined ? fs.openSync(options.stdinPath, 'r') : undefined;
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  if (stdinFd !== undefined) fs.closeSync(stdinFd);
  else child.stdin!.end(options.input ?? '');
  child.stdin?.on('error', () => {}); // a child that exits before reading all of stdin
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (options.closeStdoutAfterFirstData) child.stdout!.destroy();
  });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}
