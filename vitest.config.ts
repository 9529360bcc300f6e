import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * `npm run test:fast`: the tests that need no server and no child process, for the edit loop
 * (about 20 s). `npm test` runs everything, as CI does.
 */
const FAST = process.env.SECRET_SVC_TEST_FAST === '1';
const fastProject: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'fast',
    include: ['test/unit/**/*.test.ts', 'client/test/connection.test.ts', 'test/cli/units.test.ts', 'test/audit/settings.test.ts'],
    // These two start a nats-server or spawn 40,000 key generations in a child process.
    exclude: ['test/unit/keygen-deadlock.test.ts', 'test/unit/revocation-watcher.test.ts'],
  },
};

export default defineConfig({
  // The workspace packages from source, as tsconfig's paths (builds use their dist).
  resolve: {
    // The longer name first: an alias also matches as a prefix.
    alias: {
      '@secret-svc/protocol/internal': source('./protocol/src/internal.ts'),
      '@secret-svc/protocol': source('./protocol/src/index.ts'),
      '@secret-svc/client': source('./client/src/index.ts'),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration files each start their own servers; two at a time suits a 2-core machine.
    maxWorkers: 2,
    // The fuzz test measures the heap after a full collection (test/fuzz/handler.test.ts).
    execArgv: ['--expose-gc'],
    // CI also keeps a JSON summary, from which .ci/run prints one plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
    projects: FAST ? [fastProject] : [
      { extends: true, test: { name: 'all', include: ['test/**/*.test.ts', 'client/test/**/*.test.ts'] } },
      {
        // The integration suite once more, against a 3-master Redis Cluster (see test/helpers/stack.ts).
        extends: true,
        test: {
          name: 'integration on Redis Cluster',
          include: ['test/integration/**/*.test.ts'],
          // These spawn their own standalone workers.
          exclude: ['test/integration/lifecycle.test.ts', 'test/integration/fairness.test.ts'],
          env: { TEST_REDIS_MODE: 'cluster' },
        },
      },
    ],
  },
});
