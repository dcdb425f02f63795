/**
 * Writing a set of files that belong together (vocab.json + merges.txt + tokenizer.json) so that a
 * failure part way never leaves a mixed set: every file is first written complete (and fsynced) in
 * a staging directory on the same file system (inside the target when it exists, else beside it),
 * and only then moved into place.
 *
 * What readers of `dir` can see:
 * - `dir` did not exist: one rename(2) of the staging directory, so there is no set or the whole
 *   new one.
 * - `dir` exists (it may hold other files, which are left alone): the new files are renamed over
 *   the old ones one by one, each rename atomic. A failure while writing (disk full, an I/O error)
 *   happens before any rename, so the old set stays whole; only a crash of the process or machine
 *   inside the few microseconds of those renames can leave some files new and some old.
 * On failure the staging directory is removed.
 */
import { mkdir, mkdtemp, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface WriteFileSetOptions {
  /** Called before each file is written; a test throws from it to see a failure on the n-th file. */
  beforeWrite?: (name: string) => void;
}

export async function writeFileSet(dir: string, files: readonly (readonly [name: string, data: string | Uint8Array])[], options: WriteFileSetOptions = {}): Promise<void> {
  const names = files.map(([name]) => name);
  for (const name of names) {
    if (name === '' || name !== path.basename(name) || name === '.' || name === '..') throw new Error(`writeFileSet: ${JSON.stringify(name)} is not a plain file name`);
  }
  if (new Set(names).size !== names.length) throw new Error(`writeFileSet: a file name is listed twice in ${JSON.stringify(names)}`);
  const target = path.resolve(dir);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new Error(`writeFileSet: ${dir} exists and is not a directory`);
  for (const name of names) {
    const old = existing && (await stat(path.join(target, name)).catch(() => undefined));
    if (old && !old.isFile()) throw new Error(`writeFileSet: ${path.join(dir, name)} exists and is not a regular file`);
  }
  await makeDirectories(path.dirname(target));

  // Staged inside `dir` when it exists (it is writable even where its parent may not be), else beside it.
  const staging = await mkdtemp(existing ? path.join(target, '.file-set.tmp-') : path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
  try {
    for (const [name, data] of files) {
      options.beforeWrite?.(name);
      const handle = await open(path.join(staging, name), 'w');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    if (!existing) {
      try {
        await rename(staging, target);
        return;
      } catch (error) {
        // Someone created `dir` meanwhile: move the files into it instead.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        await makeDirectories(target);
      }
    }
    for (const name of names) await rename(path.join(staging, name), path.join(target, name));
    await rmdir(staging);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * mkdir -p one level at a time. Node's recursive mkdir retries forever where the kernel answers
 * ENOENT for a parent that exists (/proc/<name>/...); here that is an error naming the directory.
 */
export async function makeDirectories(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = path.resolve(dir);
  let found = await stat(at).catch(() => undefined);
  while (!found) {
    missing.push(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
    found = await stat(at).catch(() => undefined);
  }
  if (found && !found.isDirectory()) throw new Error(`cannot create ${dir}: ${at} is not a directory`);
  for (const each of missing.reverse()) {
    await mkdir(each).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw new Error(`cannot create directory ${each} (${error.code ?? error.message})`);
    });
  }
}
