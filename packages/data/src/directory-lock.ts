/**
 * One writer per folder: a lock file created with O_EXCL holding the owner's pid. Two `cs336 data
 * fetch` into one folder would append to the same `.part` file and interleave bytes; two experiment
 * runners would append to the same metrics. The exclusive create makes the check and the claim one
 * step (no window between "nobody holds it" and "I hold it"). A lock whose pid is no longer running
 * (killed with SIGKILL, machine rebooted) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The lock is held by a running process. */
export class LockedError extends Error {
  constructor(message: string, readonly holder: number) {
    super(message);
    this.name = 'LockedError';
  }
}

/** Locks this process holds: a second take from the same process is refused too (two async fetches). */
const held = new Set<string>();

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by another user
  }
}

/**
 * Takes `dir/name` (creating `dir`) and returns the function that releases it. Throws a LockedError
 * naming `what` and the holder's pid when a running process holds it.
 */
export function acquireDirectoryLock(dir: string, name: string, what: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.resolve(dir, name);
  if (held.has(file)) throw new LockedError(`${what} is in use by this process; wait for the first call to finish (lock file ${file})`, process.pid);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      held.add(file);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held.delete(file);
        // Only our own lock: a process that took over a lock it thought stale must keep it.
        if (readHolder(file) === process.pid) fs.rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder === undefined) {
      // Just created, pid not written yet (or emptied): give the writer a moment.
      waitMs(20);
      if (readHolder(file) === undefined && fs.existsSync(file)) fs.rmSync(file, { force: true });
      continue;
    }
    if (holder !== process.pid && isRunning(holder)) {
      throw new LockedError(`${what} is in use by another process (pid ${holder}); wait for it or stop it (lock file ${file})`, holder);
    }
    fs.rmSync(file, { force: true }); // stale: its owner is gone (or it is ours from an earlier, unreleased take)
  }
  throw new Error(`could not take the lock ${file}: it keeps changing hands`);
}

function readHolder(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    const pid = Number(text);
    return text !== '' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function waitMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
