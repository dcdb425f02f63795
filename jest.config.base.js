// Shared jest setup: ts-jest in native ESM mode (run with --experimental-vm-modules).
// Workspace imports (@cs336/x, @cs336/x/sub) map to the sibling package's TypeScript source, so a test
// never depends on another package's stale dist/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));

export function jestConfig(packageDir) {
  return {
    rootDir: packageDir,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    moduleNameMapper: {
      '^@cs336/trainer$': path.join(root, 'apps/trainer/src/index.ts'),
      '^@cs336/([a-z-]+)$': path.join(root, 'packages/$1/src/index.ts'),
      '^@cs336/([a-z-]+)/([a-z-]+)$': path.join(root, 'packages/$1/src/$2.ts'), // subpath exports (@cs336/bpe/pretokenize)
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: path.join(packageDir, 'tsconfig.json') }],
    },
    testTimeout: 120_000,
    maxWorkers: process.env.CI ? 2 : '50%',
    reporters: ['default', [path.join(root, 'scripts/jest-summary-reporter.cjs'), {}]],
  };
}
