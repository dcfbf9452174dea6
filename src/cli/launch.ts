/**
 * dist/cli.js, the `kimi-mcp` binary: a small CommonJS file (CommonJS starts a few ms faster
 * than an ES module). Bare `kimi-mcp`, what agents spawn, is the stdio server, answered from the
 * start-up snapshot until a request needs the full server (dist/server.mjs). `cost` and `chat`
 * run from dist/shell.js while they can; every other command is the full CLI (dist/main.mjs).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log } from '../log.js';
import { requireBundle } from '../startup/bundles.js';
import { serveStdio } from '../startup/fast-stdio.js';

const load = (file: string) => import(pathToFileURL(join(__dirname, file)).href);

function fail(e: unknown): never {
  // A broken skill file is the user's to fix: its message names file and field.
  if (e instanceof Error && e.name === 'CatalogError') process.stderr.write(`${e.message}\n`);
  else log(e);
  process.exit(1);
}

if (process.argv.length > 2) {
  // `cost` and `chat` in CommonJS when they can be (dist/shell.js), everything else in the full CLI.
  const shell = ['cost', 'chat'].includes(process.argv[2]!) && (requireBundle(join(__dirname, 'shell.js')) as typeof import('./shell.js'));
  if (!shell || !shell.runShellCommand(process.argv.slice(2), __dirname)) void load('main.mjs').catch(fail);
} else {
  serveStdio({
    env: process.env,
    distDir: __dirname,
    input: process.stdin,
    output: process.stdout,
    startFull: async (env, input, output, handOver) => {
      const { runStdioServer } = (await load('server.mjs')) as typeof import('../mcp/stdio.js');
      await runStdioServer(env, input, output, handOver);
    },
    // CommonJS, so loading them does not start the ES module loader.
    loadOffline: async () => requireBundle(join(__dirname, 'offline.js')) as typeof import('../startup/offline.js'),
    loadChat: async () => requireBundle(join(__dirname, 'chat.js')) as typeof import('../startup/quick-chat.js'),
    loadEdited: async () => requireBundle(join(__dirname, 'edited.js')) as typeof import('../startup/edited-skill.js'),
    onFatal: fail,
  }).catch(fail);
}
