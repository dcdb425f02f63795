/**
 * Where the CS336 course fixtures, the shared corpora and the project's own fixtures live, for
 * conformance tests and benches.
 *
 * Course fixtures: $CS336_FIXTURES, else ../shared/fixtures/cs336-2024 beside the repository.
 * Project fixtures (small files this project made: expected ids, reconstructed inputs, a text slice):
 * fixtures/ at the repository root, committed; see fixtures/README.md.
 * With CS336_REQUIRE_FIXTURES=1 (CI) a missing fixture directory fails the run; otherwise the
 * conformance suites skip with one printed line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function fixturesDir(): string {
  return process.env.CS336_FIXTURES ?? path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'cs336-2024');
}

/** ../shared/data (or $CS336_DATA): gutenberg-children/ and tinystories/ corpora. */
export function sharedDataDir(): string {
  return process.env.CS336_DATA ?? path.resolve(REPO_ROOT, '..', 'shared', 'data');
}

export function fixturePath(...parts: string[]): string {
  return path.join(fixturesDir(), ...parts);
}

/** A file in the repository's own fixtures/ folder (always present: it is committed). */
export function projectFixturePath(...parts: string[]): string {
  return path.join(REPO_ROOT, 'fixtures', ...parts);
}

const warned = new Set<string>();

/**
 * `describe` when the fixture directory exists; otherwise `describe.skip` with one printed line,
 * or a failing suite when CS336_REQUIRE_FIXTURES=1.
 */
export function describeWithFixtures(name: string, body: () => void): void {
  const dir = fixturesDir();
  if (fs.existsSync(dir)) {
    describe(name, body);
    return;
  }
  if (process.env.CS336_REQUIRE_FIXTURES === '1') {
    describe(name, () => {
      it('has the CS336 fixtures', () => {
        throw new Error(`CS336 fixtures not found at ${dir} (set CS336_FIXTURES) and CS336_REQUIRE_FIXTURES=1`);
      });
    });
    return;
  }
  if (!warned.has(dir)) {
    warned.add(dir);
    console.log(`skipping CS336 conformance suites: no fixtures at ${dir} (set CS336_FIXTURES to run them)`);
  }
  describe.skip(name, body);
}

/** Same as describeWithFixtures, for suites that read ../shared/data corpora. */
export function describeWithSharedData(name: string, body: () => void): void {
  const dir = sharedDataDir();
  if (fs.existsSync(dir)) describe(name, body);
  else if (process.env.CS336_REQUIRE_FIXTURES === '1') {
    describe(name, () => {
      it('has the shared corpora', () => {
        throw new Error(`shared corpora not found at ${dir} (set CS336_DATA)`);
      });
    });
  } else {
    console.log(`skipping ${name}: no shared corpora at ${dir}`);
    describe.skip(name, body);
  }
}

export interface NpyArray {
  dtype: '<f4' | '<f8' | '<i8' | '<i4' | '|b1' | '<u2';
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;
}

/** Reads a NumPy .npy v1/v2 file (little-endian, C order, no pickle). */
export function readNpy(file: string): NpyArray {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || fortran === undefined || shapeText === undefined) throw new Error(`${file}: bad .npy header ${header}`);
  if (fortran === 'True') throw new Error(`${file}: Fortran order is not supported`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = headerStart + headerLen;
  const bytes = buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length);
  const count = shape.reduce((a, b) => a * b, 1);
  switch (descr) {
    case '<f4': return { dtype: descr, shape, data: new Float32Array(bytes, 0, count) };
    case '<f8': return { dtype: descr, shape, data: new Float64Array(bytes, 0, count) };
    case '<i8': return { dtype: descr, shape, data: new BigInt64Array(bytes, 0, count) };
    case '<i4': return { dtype: descr, shape, data: new Int32Array(bytes, 0, count) };
    case '<u2': return { dtype: descr, shape, data: new Uint16Array(bytes, 0, count) };
    case '|b1': return { dtype: descr, shape, data: new Uint8Array(bytes, 0, count) };
    default: throw new Error(`${file}: dtype ${descr} is not supported`);
  }
}
