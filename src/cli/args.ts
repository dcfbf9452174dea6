/**
 * The command line, shared by the full CLI (src/cli.ts) and the launcher's quick path for
 * `cost` and `chat` (src/cli/shell.ts): usage, options, what each command is given, and how an
 * outcome ends the process.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../kimi/errors.js';
import { log, scrub } from '../log.js';
import { version } from '../version.js';
import type { AgentCommandOptions } from './agent.js';
import type { ChatOptions, CostOptions } from './chat.js';
import type { ReviewCommandOptions } from './review.js';

export const USAGE = `kimi-mcp ${version}: Kimi models for coding agents, over MCP or the shell.

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
  kimi-mcp agent "<task>"          Kimi explores the current folder (plus KIMI_MCP_ROOTS) with
                                    read-only tools and answers; it never writes or runs anything.
                                    --mode propose: its changes come back as a patch on stdout
                                    (--patch-only: just the patch, for git apply). --file, --model,
                                    --max-steps N (default 25, at most 100), --max-cost-usd X,
                                    --continue <conversation_id>, --json, --yes
  kimi-mcp review                   Kimi reviews a git change in the current folder; findings most
                                    severe first on stdout. --target working (default: uncommitted)
                                    |staged|branch|commit:<ref>, --base <ref>, --focus "<words>",
                                    --file <path> (repeatable), --model, --adversarial, --yes,
                                    --json, --format text|github (annotations), --fail-on
                                    critical|high|medium|low|none (default none). Exit 0: passed
                                    (or no changes), 1: a finding at or above --fail-on,
                                    2: the review could not run (no key, git missing, upstream).
                                    --skip-unchanged: pass at once when this change already
                                    passed at this --fail-on (one paid review per change).
  kimi-mcp install git-hook         review before each commit (--hook pre-commit, the default:
                                    staged) or push (--hook pre-push: branch); --fail-on (default
                                    high); an existing hook runs first; --strict blocks when the
                                    review cannot run; --print shows the script. kimi-mcp
                                    uninstall git-hook puts the earlier hook back.
  kimi-mcp cost [--text T] [--file F ...] [--input-tokens N] [--output-tokens N] [--model M] [--json]
  kimi-mcp usage [--json] [--days N]   spending by day, model and host (from the ledger)
  kimi-mcp jobs [--json]            background jobs started by agents in this folder, newest first
  kimi-mcp job <id> [--json]        one job's result, or its state and what arrived so far;
                                    exit 0 done, 1 failed/cancelled/interrupted, 3 still running
  kimi-mcp demo                     see it work against a local simulator (no key, no network)
  kimi-mcp demo --serve             keep the simulator running (until Ctrl-C) and print the
                                    variables that point chat, doctor or an agent at it
  kimi-mcp serve --http [--port N] [--host H]
                                    the same server over Streamable HTTP (default 127.0.0.1:3917)
  kimi-mcp --version | --help

Configuration comes from the environment: the host's key, KIMI_PROVIDER, KIMI_MODEL (see README).`;

export const OPTIONS = {
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
  mode: { type: 'string' },
  target: { type: 'string' },
  base: { type: 'string' },
  focus: { type: 'string' },
  adversarial: { type: 'boolean' },
  'fail-on': { type: 'string' },
  format: { type: 'string' },
  hook: { type: 'string' },
  strict: { type: 'boolean' },
  'skip-unchanged': { type: 'boolean' },
  'max-steps': { type: 'string' },
  'max-cost-usd': { type: 'string' },
  'patch-only': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  'input-tokens': { type: 'string' },
  'output-tokens': { type: 'string' },
  'cached-tokens': { type: 'string' },
  days: { type: 'string' },
  http: { type: 'boolean' },
  serve: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseCommandLine(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, target, ...extra] = positionals;
  return { values, command, target, extra };
}

export type CommandLine = ReturnType<typeof parseCommandLine>;

export function chatOptions({ values }: CommandLine): ChatOptions {
  const thinking = values['no-thinking'] ? false : values.thinking ? true : undefined;
  return {
    model: values.model, provider: values.provider, system: values.system, maxTokens: values['max-tokens'],
    ...(thinking !== undefined ? { thinking } : {}), image: values.image, file: values.file, continue: values.continue, yes: values.yes, json: values.json,
  };
}

export function agentOptions({ values }: CommandLine): AgentCommandOptions {
  return {
    mode: values.mode, file: values.file, model: values.model, maxSteps: values['max-steps'], maxCostUsd: values['max-cost-usd'],
    continue: values.continue, yes: values.yes, json: values.json, patchOnly: values['patch-only'],
  };
}

export function reviewOptions({ values }: CommandLine): ReviewCommandOptions {
  return {
    target: values.target, base: values.base, focus: values.focus, file: values.file, model: values.model, adversarial: values.adversarial,
    failOn: values['fail-on'], json: values.json, format: values.format, yes: values.yes, skipUnchanged: values['skip-unchanged'],
  };
}

export function costOptions({ values, target }: CommandLine): CostOptions {
  return {
    model: values.model, provider: values.provider, inputTokens: values['input-tokens'], outputTokens: values['output-tokens'],
    cachedTokens: values['cached-tokens'], text: values.text ?? target, file: values.file, json: values.json,
  };
}

/**
 * Ends the process as the command's outcome says: its exit code, or a failure's message and code
 * (`failed`, 1 unless the command documents another: `review` keeps 1 for "findings").
 */
export function exitWith(outcome: Promise<number | undefined>, failed = 1): void {
  outcome.then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (e: unknown) => {
      // Mistakes in the call get their message only (it says what to do); anything else, a trace.
      const badArguments = e instanceof UsageError || (e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS') === true;
      if (badArguments || (e as Error)?.name === 'CatalogError') process.stderr.write(scrub(`${(e as Error).message}\n`));
      else log(e);
      process.exitCode = badArguments ? 2 : failed;
    },
  );
}
