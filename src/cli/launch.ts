/**
 * dist/cli.js, the `kimi-mcp` binary: a small CommonJS file (CommonJS starts a few ms faster
 * than an ES module). Bare `kimi-mcp`, what agents spawn, is the stdio server, answered from the
 * start-up snapshot until a request needs the full server (dist/server.mjs); every command is
 * the full CLI (dist/main.mjs).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serveStdio } from '../startup/fast-stdio.js';
import type { FullServer } from '../startup/fast-stdio.js';

const load = (file: string) => import(pathToFileURL(join(__dirname, file)).href);

function fail(e: unknown): never {
  // A broken skill file is the user's to fix: its message names file and field.
  process.stderr.write(`${e instanceof Error && e.name === 'CatalogError' ? e.message : `[kimi-mcp] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`}\n`);
  process.exit(1);
}

if (process.argv.length > 2) void load('main.mjs').catch(fail);
else {
  serveStdio({
    env: process.env,
    distDir: __dirname,
    input: process.stdin,
    output: process.stdout,
    loadFull: () => load('server.mjs') as Promise<FullServer>,
  }).catch(fail);
}
