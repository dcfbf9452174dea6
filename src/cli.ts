/**
 * `kimi-mcp` commands (dist/main.mjs). The bare `kimi-mcp` that agents spawn is answered by the
 * small CommonJS launcher (src/cli/launch.ts) before this module is ever loaded.
 * Every failure prints what to do and exits non-zero; nothing crashes.
 */
import { parseArgs } from 'node:util';
import { CatalogError } from './catalog/error.js';
import { UsageError } from './kimi/errors.js';
import { log } from './log.js';
import { serveStdio } from './startup/fast-stdio.js';
import { bundleDir } from './startup/snapshot.js';
import { version } from './version.js';

const USAGE = `kimi-mcp ${version}: Kimi models for coding agents, over MCP or the shell.

Usage:
  kimi-mcp                          run the MCP server on stdio (what agents start)
  kimi-mcp install <agent>          add the server (and skill) to an agent; --print to preview,
                                    --scope user|project, --write-key, --launch node|npx
  kimi-mcp uninstall <agent>        remove it again
      agents: claude-code, claude-desktop, cursor, vscode, codex, gemini-cli, windsurf, openclaw
  kimi-mcp doctor                   check Node, configuration, key, host and model
  kimi-mcp chat "<prompt>"          ask Kimi; the reply streams to stdout (--model, --provider,
                                    --system, --max-tokens, --no-thinking, --image, --json,
                                    --file <path|glob> (repeatable, within the current folder),
                                    --continue <conversation_id>, --yes to confirm a call
                                    above KIMI_CONFIRM_ABOVE_USD without asking)
  kimi-mcp cost [--text T] [--file F ...] [--input-tokens N] [--output-tokens N] [--model M] [--json]
  kimi-mcp usage [--json] [--days N]   spending by day, model and host (from the ledger)
  kimi-mcp demo                     see it work against a local simulator (no key, no network)
  kimi-mcp serve --http [--port N] [--host H]
                                    the same server over Streamable HTTP (default 127.0.0.1:3917)
  kimi-mcp --version | --help

Configuration comes from the environment: the host's key, KIMI_PROVIDER, KIMI_MODEL (see README).`;

const OPTIONS = {
  scope: { type: 'string' },
  print: { type: 'boolean' },
  'write-key': { type: 'boolean' },
  launch: { type: 'string' },
  platform: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  system: { type: 'string' },
  'max-tokens': { type: 'string' },
  thinking: { type: 'boolean' },
  'no-thinking': { type: 'boolean' },
  image: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  text: { type: 'string' },
  file: { type: 'string', multiple: true },
  continue: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'input-tokens': { type: 'string' },
  'output-tokens': { type: 'string' },
  'cached-tokens': { type: 'string' },
  days: { type: 'string' },
  http: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The stdio server, with its first answers from the start-up snapshot when it is valid. */
function stdioServer(): Promise<void> {
  return serveStdio({
    env: process.env,
    distDir: bundleDir(import.meta.url),
    input: process.stdin,
    output: process.stdout,
    startFull: async (env, input, output, chats) => (await import('./mcp/stdio.js')).runStdioServer(env, input, output, chats),
    loadOffline: () => import('./startup/offline.js'),
    loadChat: () => import('./startup/quick-chat.js'),
  });
}

async function main(argv: string[]): Promise<number | undefined> {
  if (argv.length === 0) {
    await stdioServer();
    return undefined; // keeps running until stdin closes
  }
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, target, ...extra] = positionals;
  if (values.version) return void process.stdout.write(`${version}\n`), 0;
  if (values.help || command === 'help' || command === undefined) return void process.stdout.write(`${USAGE}\n`), 0;
  if (extra.length) throw new UsageError(`Unexpected arguments: ${extra.join(' ')}. Quote the prompt: kimi-mcp chat "…"`);

  const { cliContext } = await import('./cli/context.js');
  const cli = await cliContext();
  switch (command) {
    case 'install':
    case 'uninstall': {
      const { runInstall } = await import('./cli/install.js');
      return runInstall(cli, target, { scope: values.scope, print: values.print, writeKey: values['write-key'], launch: values.launch, platform: values.platform }, command === 'uninstall');
    }
    case 'doctor': {
      const { runDoctor } = await import('./cli/doctor.js');
      return runDoctor(cli);
    }
    case 'chat': {
      const { runChatCommand } = await import('./cli/chat.js');
      const thinking = values['no-thinking'] ? false : values.thinking ? true : undefined;
      return runChatCommand(cli, target, {
        model: values.model, provider: values.provider, system: values.system, maxTokens: values['max-tokens'],
        ...(thinking !== undefined ? { thinking } : {}), image: values.image, file: values.file, continue: values.continue, yes: values.yes, json: values.json,
      });
    }
    case 'cost': {
      const { runCostCommand } = await import('./cli/chat.js');
      return runCostCommand(cli, {
        model: values.model, provider: values.provider, inputTokens: values['input-tokens'], outputTokens: values['output-tokens'],
        cachedTokens: values['cached-tokens'], text: values.text ?? target, file: values.file, json: values.json,
      });
    }
    case 'usage': {
      const { runUsageCommand } = await import('./cli/usage.js');
      return runUsageCommand(cli, { json: values.json, days: values.days });
    }
    case 'demo': {
      const { runDemo } = await import('./cli/demo.js');
      return runDemo(cli);
    }
    case 'serve': {
      const { runServe } = await import('./cli/serve.js');
      if (!values.http) {
        await stdioServer();
        return undefined;
      }
      return runServe(cli, { port: values.port, host: values.host });
    }
    default:
      throw new UsageError(`Unknown command "${command}". Run kimi-mcp --help.`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    // Mistakes in the call get their message only (it says what to do); anything else, a trace.
    const badArguments = e instanceof UsageError || (e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS') === true;
    if (badArguments || e instanceof CatalogError) process.stderr.write(`${(e as Error).message}\n`);
    else log(e);
    process.exitCode = badArguments ? 2 : 1;
  },
);
