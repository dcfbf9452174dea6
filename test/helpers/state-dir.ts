/**
 * vitest globalSetup: every conversation a test makes goes to a state folder of this run
 * (KIMI_MCP_STATE_DIR, set for the workers in vitest.config.ts), never the user's own, and the
 * folder is removed afterwards.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Computed in the main vitest process (config and globalSetup share its pid). */
export const RUN_STATE_DIR = join(tmpdir(), `kimi-mcp-test-state-${process.pid}`);

export default function setup(): () => void {
  return () => rmSync(RUN_STATE_DIR, { recursive: true, force: true });
}
