import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { RUN_STATE_DIR } from './test/helpers/state-dir.js';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  define: { __KIMI_MCP_VERSION__: JSON.stringify(version) },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single one on a 2-core machine. Most
    // files wait on spawned servers and sockets, so two at once halve the run (230 s → 137 s).
    maxWorkers: 2,
    // Real MCP clients (Inspector, mcporter, Claude Code, the conformance suite) from a cache.
    globalSetup: ['test/clients/setup.ts', 'test/helpers/state-dir.ts'],
    // Conversations written by tests (in-process and spawned servers) stay out of the user's state folder.
    env: { KIMI_MCP_STATE_DIR: RUN_STATE_DIR },
  },
});
