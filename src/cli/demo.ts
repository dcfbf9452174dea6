/**
 * `kimi-mcp demo`: the real server, started the way agents start it, driven by the SDK's real
 * client against the bundled Kimi simulator. No key, no network; the replies are simulated, and
 * so is the state: the demo's conversation and ledger go to a temporary folder, never into the
 * user's spending or history.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliContext } from './context.js';

const DEMO_KEY = 'demo-key-not-secret';
const DEMO_REPLY =
  'Simulated Kimi review: the loop reads items[i + 1] on its last pass, one past the end. ' +
  'Iterate to items.length - 1, or compare with the previous item instead. ' +
  'The rest of the function is fine: it is linear, allocates once, and handles the empty list.';

export async function runDemo(cli: CliContext): Promise<number> {
  const [{ Client }, { StdioClientTransport, getDefaultEnvironment }, { startSimulator }] = await Promise.all([
    import('@modelcontextprotocol/client'),
    import('@modelcontextprotocol/client/stdio'),
    import('../simulator/kimi-simulator.js'),
  ]);
  const say = (text: string) => cli.out(`${text}\n`);
  say('kimi-mcp demo. Replies come from a local Kimi simulator on 127.0.0.1, not from Kimi: no key or network is used.\n');
  const sim = await startSimulator({ apiKey: DEMO_KEY });
  // Point the default host at the simulator, through the variables the catalog names for it.
  const host = cli.catalog.defaultProvider;
  const upstream = { [host.key_env[0]!]: DEMO_KEY, ...(host.base_url_env ? { [host.base_url_env]: sim.baseURL } : {}) };
  const stateDir = mkdtempSync(join(tmpdir(), 'kimi-mcp-demo-'));
  const client = new Client({ name: 'kimi-mcp-demo', version: '1.0.0' });
  try {
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [process.argv[1] ?? ''],
        env: { ...getDefaultEnvironment(), ...upstream, KIMI_MCP_STATE_DIR: stateDir },
        stderr: 'ignore',
      }),
    );
    const { tools } = await client.listTools();
    say(`1. The server offers ${tools.length} tools: ${tools.map((t) => t.name).join(', ')}.\n`);

    const models = await client.callTool({ name: 'list_models', arguments: {} });
    say(`2. list_models\n${(models.content as { text: string }[])[0]?.text}\n`);

    const prompt = 'Review this function for off-by-one errors: for (let i = 0; i < items.length; i++) diff(items[i], items[i + 1]);';
    const cost = await client.callTool({ name: 'estimate_cost', arguments: { text: prompt, output_tokens: 400 } });
    say(`3. estimate_cost before asking\n${(cost.content as { text: string }[])[0]?.text}\n`);

    say('4. kimi_stream, showing each progress message as it arrives:');
    sim.script({ content: DEMO_REPLY, reasoning: 'Check the loop bounds first.', chunkSize: 6, delayMs: 20 });
    const answer = await client.callTool({ name: 'kimi_stream', arguments: { prompt } }, { onprogress: (p) => say(`   progress ${p.progress}: ${p.message ?? ''}`) });
    say(`\n   result:\n${(answer.content as { text: string }[])[0]?.text.replace(/^/gm, '   ')}\n`);
    say(`Set ${host.key_env[0]} and run \`kimi-mcp doctor\` to check a real setup.`);
    return 0;
  } finally {
    await client.close();
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
