import { defineConfig } from 'vitest/config';

// Tests import the built runtime from dist/ (built by `npm test`'s pretest step), the
// same files the worker threads load, so the main thread and the workers always run
// one build of the code. The global setup rebuilds when dist/ is not the build of the
// current sources (a direct `npx vitest run` after an edit).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Cross-thread tests measure nothing, but they park and wake threads; on a 2-vCPU
    // machine running files one at a time keeps them from starving each other.
    fileParallelism: false,
    pool: 'forks',
  },
});
