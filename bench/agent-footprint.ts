/**
 * What the calling agent pays for an explore task over the benchmark tree: the characters of the
 * kimi_agent call and its result (what enters the agent's context), against doing the looking
 * itself and pasting the files Kimi read into kimi_chat (the call with those files inline, and its
 * result). The model is the simulator, scripted as Kimi would explore: grep, read three files,
 * answer; so the figure is the protocol's, not a model's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadCatalog } from '../src/catalog/load.js';
import { createServer } from '../src/mcp/server.js';
import { startSimulator } from '../src/simulator/kimi-simulator.js';

const KEY = 'sk-bench-footprint';
const ANSWER = 'Sessions reconnect through reconnectN(session), which calls session.resume(); the timeout case is marked TODO in the modules that handle it.';

/** The characters an agent's context holds for one call: its arguments as sent and the result's text. */
const charsOf = (args: unknown, result: CallToolResult) => JSON.stringify(args).length + result.content.reduce((n, c) => n + (c.type === 'text' ? c.text.length : 0), 0);

export async function agentFootprint(root: string, files: string[]): Promise<string> {
  const sim = await startSimulator({ apiKey: KEY });
  const cwd = process.cwd();
  process.chdir(root); // the server's folder: a 2025-era client without roots reads there
  try {
    const server = createServer(loadCatalog(cwd), { RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, KIMI_MCP_STATE_DIR: join(root, '.state') });
    const client = new Client({ name: 'footprint', version: '0' });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(b), client.connect(a)]);
    sim.script(
      { toolCalls: [{ name: 'grep', arguments: JSON.stringify({ pattern: 'reconnect', glob: 'src/**/*.ts' }) }] },
      ...files.map((path) => ({ toolCalls: [{ name: 'read', arguments: JSON.stringify({ path }) }] })),
      { content: ANSWER },
    );
    const task = { task: 'How do sessions reconnect, and where is the timeout case handled?' };
    const agent = (await client.callTool({ name: 'kimi_agent', arguments: task })) as CallToolResult;
    const pasted = files.map((f) => `${f}\n\`\`\`ts\n${readFileSync(join(root, f), 'utf8')}\`\`\``).join('\n\n');
    const chatArgs = { prompt: `${task.task}\n\n${pasted}` };
    sim.script({ content: ANSWER });
    const chat = (await client.callTool({ name: 'kimi_chat', arguments: chatArgs })) as CallToolResult;
    await client.close();
    const ours = charsOf(task, agent);
    const theirs = charsOf(chatArgs, chat);
    return [
      `An explore task over the same tree, Kimi scripted to grep once and read ${files.length} files, then answer. Characters entering the calling agent's context (the call's arguments and the result's text; the agent's own searching to find the files is not counted, so the paste side is a floor):`,
      '',
      '| How | Characters |',
      '|---|---|',
      `| \`kimi_agent\` (task in, answer + ${files.length + 1} step lines out) | ${ours.toLocaleString('en')} |`,
      `| the agent pastes the ${files.length} files into \`kimi_chat\` | ${theirs.toLocaleString('en')} (${(theirs / ours).toFixed(1)}×) |`,
    ].join('\n');
  } finally {
    process.chdir(cwd);
    await sim.close();
  }
}
