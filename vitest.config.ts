import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
    // Real MCP clients (Inspector, mcporter, Claude Code, the conformance suite) from a cache.
    globalSetup: ['test/clients/setup.ts'],
  },
});
