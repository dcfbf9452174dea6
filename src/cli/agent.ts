/**
 * `kimi-mcp agent "<task>"`: kimi_agent from the shell, with the same loop and rules. Each step
 * goes to stderr as it happens; the answer, then the patch (mode propose), go to stdout, so
 * `--patch-only` can be piped straight into `git apply`. Kimi reads the current folder plus
 * KIMI_MCP_ROOTS and never writes anything.
 */
import { runAgent } from '../agent/loop.js';
import type { AgentRequest } from '../agent/loop.js';
import { describeRead } from '../agent/files-read.js';
import { costWords } from '../kimi/cost.js';
import { UsageError } from '../kimi/errors.js';
import { readStdin, shellCall, shellFolders, terminalConfirm } from './chat.js';
import type { CliContext } from './context.js';

export interface AgentCommandOptions {
  mode?: string;
  file?: string[];
  model?: string;
  maxSteps?: string;
  maxCostUsd?: string;
  continue?: string;
  yes?: boolean;
  json?: boolean;
  /** Only the patch on stdout (the answer goes to stderr): `kimi-mcp agent --mode propose … --patch-only | git apply`. */
  patchOnly?: boolean;
}

function numberOption(value: string | undefined, flag: string, whole: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (whole && !Number.isInteger(n))) throw new UsageError(`${flag} takes ${whole ? 'a whole number' : 'a number'}, not "${value}".`);
  return n;
}

function mode(value: string | undefined): AgentRequest['mode'] {
  if (value === undefined || value === 'explore' || value === 'propose') return value;
  throw new UsageError(`--mode takes explore or propose, not "${value}".`);
}

async function taskFrom(arg: string | undefined): Promise<string> {
  if (arg !== undefined && arg !== '-') return arg;
  if (process.stdin.isTTY) throw new UsageError('Give a task: kimi-mcp agent "why does the server drop the session on reconnect?" (or pipe it in).');
  return readStdin();
}

export async function runAgentCommand(cli: CliContext, taskArg: string | undefined, options: AgentCommandOptions): Promise<number> {
  const maxSteps = numberOption(options.maxSteps, '--max-steps', true);
  const maxCost = numberOption(options.maxCostUsd, '--max-cost-usd', false);
  const agentMode = mode(options.mode);
  if (options.patchOnly && agentMode !== 'propose') throw new UsageError('--patch-only needs --mode propose: only a proposal has a patch.');
  const request: AgentRequest = {
    task: await taskFrom(taskArg),
    ...(agentMode ? { mode: agentMode } : {}),
    ...(options.file?.length ? { files: options.file } : {}),
    ...(options.model !== undefined ? { model: options.model } : {}),
    ...(maxSteps !== undefined ? { max_steps: maxSteps } : {}),
    ...(maxCost !== undefined ? { max_cost_usd: maxCost } : {}),
    ...(options.continue !== undefined ? { conversation_id: options.continue } : {}),
  };
  // Ctrl-C stops the loop; the work so far is printed and kept in the conversation.
  const { ctx, signal, started, done } = shellCall(cli);
  try {
    const confirm = terminalConfirm(options.yes);
    const result = await runAgent(ctx, request, {
      signal,
      roots: shellFolders(cli.env),
      ...(confirm ? { confirm } : {}),
      onStep: (line) => cli.err(`[kimi] ${line}\n`),
    });
    if (options.json) cli.out(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const answerTo = options.patchOnly ? cli.err : cli.out;
      answerTo(`${result.answer.trimEnd()}\n`);
      if (result.patch) cli.out(options.patchOnly ? result.patch : `\n${result.patch}`);
    }
    if (result.files_read.length) cli.err(`[kimi] files read: ${result.files_read.map(describeRead).join('; ')}\n`);
    if (result.patch === '') cli.err('[kimi] no change proposed (empty patch)\n');
    else if (result.patch) cli.err(`[kimi] patch for ${result.changed_files!.join(', ')}: nothing was written; review it, then apply it with git apply\n`);
    for (const note of result.notes) cli.err(`[kimi] ${note}\n`);
    const tokens = result.usage ? `${result.usage.prompt_tokens} in + ${result.usage.completion_tokens} out tokens, ` : '';
    const cost = result.cost ? costWords(result.cost) : 'no usage reported';
    const conversation = result.conversation_id ? `; continue with --continue ${result.conversation_id}` : '';
    cli.err(`[kimi] ${result.model} on ${result.provider}: ${result.steps.length} tool call(s), stopped: ${result.stopped}, ${tokens}${cost}, ${((Date.now() - started) / 1000).toFixed(1)} s${conversation}\n`);
    return result.stopped === 'cancelled' ? 130 : result.stopped === 'failed' ? 1 : 0;
  } finally {
    done();
  }
}
