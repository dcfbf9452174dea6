/**
 * KIMI_MCP_TOOLS: the tools a user chose to expose (names separated by commas or spaces), so an
 * agent that needs only the consult tools pays for only their schemas on every turn. The
 * start-up path's snapshot lists every tool, so it stands aside when this is set.
 */
import { readVar } from '../env.js';
import type { Env } from '../env.js';
import type { KimiTool } from './tool.js';

export interface Selection {
  tools: KimiTool[];
  /** Names that are not tools, said once at start-up; they never hide every tool. */
  problems: string[];
}

/** Without kimi_job a job_id could never be read back, so the tools lose `background` too. */
function foregroundOnly(tool: KimiTool): KimiTool {
  return tool.background ? { ...tool, background: undefined, input: tool.input.omit({ background: true }) } : tool;
}

export function selectTools(env: Env, all: readonly KimiTool[]): Selection {
  const raw = readVar(env, 'KIMI_MCP_TOOLS').value;
  if (raw === undefined) return { tools: [...all], problems: [] };
  const asked = new Set(raw.split(/[\s,]+/).filter(Boolean));
  const known = all.map((t) => t.name);
  const unknown = [...asked].filter((name) => !known.includes(name));
  const chosen = all.filter((t) => asked.has(t.name));
  const problems = unknown.length ? [`KIMI_MCP_TOOLS names ${unknown.map((n) => JSON.stringify(n)).join(', ')}, which ${unknown.length > 1 ? 'are not tools' : 'is not a tool'}; the tools are: ${known.join(', ')}.`] : [];
  if (!chosen.length) return { tools: [...all], problems: [...problems, 'KIMI_MCP_TOOLS names no tool, so every tool is offered.'] };
  return { tools: asked.has('kimi_job') ? chosen : chosen.map(foregroundOnly), problems };
}
