/**
 * Checks every command runs before it does any work, so a mistake costs seconds, not a finished
 * BPE run: output locations that can really be written, and a standard input that can be read.
 * Each failure is a UsageError (exit 2) naming the flag, the path and the fix.
 *
 * "Can be written" is tested by creating (and removing) a probe entry in the nearest directory
 * that exists, not by permission bits: as root every mode bit says yes, yet /proc, /sys and
 * read-only mounts still refuse new entries. The probe is also what keeps `--out /proc/x/y` from
 * reaching Node's recursive mkdir, which loops forever where the kernel answers ENOENT for a
 * parent that exists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './command.js';

type Stats = fs.Stats | undefined;
/** The stat of `file`, or undefined when it does not exist (or a parent is a file: ENOTDIR). */
function statOf(file: string): Stats {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** The nearest existing path at or above `target`, with its stat. */
function nearestExisting(target: string): { at: string; stat: fs.Stats } {
  let at = path.resolve(target);
  for (;;) {
    const stat = statOf(at);
    if (stat) return { at, stat };
    const parent = path.dirname(at);
    if (parent === at) throw new UsageError(`no part of ${JSON.stringify(target)} exists`);
    at = parent;
  }
}

/** Creates and removes a probe directory in `dir`; returns why that failed, or undefined. */
function probeFailure(dir: string): string | undefined {
  try {
    fs.rmdirSync(fs.mkdtempSync(path.join(dir, '.cs336-probe-')));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    if (code === 'EROFS') return 'it is on a read-only file system';
    if (code === 'ENOENT') return 'it does not accept new entries (a virtual file system such as /proc or /sys?)';
    return code ?? (error as Error).message;
  }
}

/**
 * `dir` (the value of `--<flag>`) is a directory that exists and can be written, or a path whose
 * nearest existing ancestor is a directory that accepts new entries.
 */
export function checkOutputDirectory(flag: string, dir: string): void {
  const stat = statOf(dir);
  if (stat && !stat.isDirectory()) throw new UsageError(`--${flag} ${JSON.stringify(dir)} exists and is not a directory`);
  const { at, stat: above } = stat ? { at: dir, stat } : nearestExisting(dir);
  if (!above.isDirectory()) throw new UsageError(`--${flag} ${JSON.stringify(dir)} cannot be created: ${JSON.stringify(at)} is a file, not a directory`);
  const why = probeFailure(at);
  if (why) throw new UsageError(`--${flag} ${JSON.stringify(dir)} cannot be written: ${at === dir ? 'the directory' : `cannot create directories in ${JSON.stringify(at)}`}: ${why}`);
}

/** `file` (the value of `--<flag>`) is not a directory, and its directory exists or can be created and written. */
export function checkOutputFile(flag: string, file: string): void {
  if (file.endsWith(path.sep) || statOf(file)?.isDirectory()) throw new UsageError(`--${flag} ${JSON.stringify(file)} is a directory; give a file name`);
  const dir = path.dirname(path.resolve(file));
  const stat = statOf(dir);
  if (stat && !stat.isDirectory()) throw new UsageError(`--${flag} ${JSON.stringify(file)}: ${JSON.stringify(dir)} is a file, not a directory`);
  const { at, stat: above } = stat ? { at: dir, stat } : nearestExisting(dir);
  if (!above.isDirectory()) throw new UsageError(`--${flag} ${JSON.stringify(file)}: ${JSON.stringify(at)} is a file, not a directory`);
  const why = probeFailure(at);
  if (why) throw new UsageError(`--${flag} ${JSON.stringify(file)} cannot be written in ${JSON.stringify(at)}: ${why}`);
}

/** Each of `names` inside `dir`, where it exists, is a regular file (so it can be replaced by one). */
export function checkReplaceableFiles(flag: string, dir: string, names: readonly string[]): void {
  for (const name of names) {
    const stat = statOf(path.join(dir, name));
    if (stat && !stat.isFile()) throw new UsageError(`--${flag} ${JSON.stringify(dir)} holds ${name}, which is not a regular file; move it away or pick another directory`);
  }
}

/** Standard input is something to read (a pipe, a file, a terminal), not a directory. */
export function checkStdin(command: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(0);
  } catch (error) {
    throw new UsageError(`cannot read standard input (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (stat.isDirectory()) throw new UsageError(`standard input is a directory; redirect a file, e.g. cs336 ${command} ... < input.txt`);
}
