/**
 * Kimi's tools in a `kimi_agent` run, and one call of one of them as the loop makes it: the
 * arguments parsed from the model's JSON, the tool run, and every refusal turned into a result
 * Kimi can act on (the loop sends it back and goes on). All of them only read; `edit` and
 * `write` change the in-memory overlay.
 */
import { UsageError } from '../../errors.js';
import type { AgentMode, AgentTool, ToolRun } from '../tool.js';
import { quoted } from '../tool.js';
import type { Workspace } from '../workspace.js';
import { editTool } from './edit.js';
import { grepTool } from './grep.js';
import { listTool } from './list.js';
import { readTool } from './read.js';
import { writeTool } from './write.js';

export const AGENT_TOOLS: readonly AgentTool[] = [listTool, readTool, grepTool, editTool, writeTool];

export function toolsFor(mode: AgentMode): AgentTool[] {
  return AGENT_TOOLS.filter((tool) => tool.modes.includes(mode));
}

export interface ToolCallResult extends ToolRun {
  /** The output is a refusal or an error, not the tool's work. */
  error: boolean;
}

/** What a call was about, for the step line of a refused call: its path or pattern. */
function subject(args: unknown): string {
  if (!args || typeof args !== 'object') return '';
  const { path, pattern } = args as { path?: unknown; pattern?: unknown };
  return typeof pattern === 'string' ? ` ${quoted(pattern)}` : typeof path === 'string' ? ` ${quoted(path).slice(1, -1)}` : '';
}

/** The first sentence of a refusal, short enough for a step line. */
function firstSentence(message: string): string {
  const sentence = message.split(/(?<=\.)\s/)[0]!;
  return sentence.length > STEP_REASON_CHARS ? `${sentence.slice(0, STEP_REASON_CHARS)}…` : sentence;
}
const STEP_REASON_CHARS = 100;

/**
 * One tool call from the model: `name` and its JSON `argumentsJson` as streamed. Unknown tools,
 * tools of another mode, malformed JSON, bad arguments and refusals come back as error results;
 * only a fault of our own (a bug) is thrown.
 */
export async function callTool(name: string, argumentsJson: string, workspace: Workspace, mode: AgentMode): Promise<ToolCallResult> {
  const tools = toolsFor(mode);
  const tool = tools.find((t) => t.name === name);
  const refused = (message: string, args?: unknown): ToolCallResult => ({ output: `Error: ${message}`, step: `${name}${subject(args)} → error: ${firstSentence(message)}`, error: true });
  if (!tool) {
    const other = AGENT_TOOLS.some((t) => t.name === name) ? ` ${name} is for propose mode only;` : '';
    return refused(`There is no tool ${quoted(name)} in ${mode} mode.${other} Use one of: ${tools.map((t) => t.name).join(', ')}.`);
  }
  let args: unknown;
  try {
    args = argumentsJson.trim() === '' ? {} : JSON.parse(argumentsJson);
  } catch {
    return refused(`The arguments of ${name} are not valid JSON; send one JSON object, e.g. ${JSON.stringify(Object.fromEntries(Object.keys((tool.parameters.properties ?? {}) as object).slice(0, 1).map((k) => [k, '…'])))}.`);
  }
  try {
    return { ...(await tool.run(args, workspace)), error: false };
  } catch (e) {
    if (e instanceof UsageError) return refused(e.message, args);
    throw e;
  }
}
