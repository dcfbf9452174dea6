/**
 * `kimi-mcp demo`: the real server, started the way agents start it, driven by the SDK's real
 * client against the bundled Kimi simulator. No key, no network; the replies are simulated, and
 * so is the state: the demo's conversation and ledger go to a temporary folder, never into the
 * user's spending or history.
 *
 * `kimi-mcp demo --serve`: only the simulator, kept running until Ctrl-C, with the variables that
 * point `chat`, `doctor` or an agent at it (the demo key, never the user's; the same temporary
 * state folder, removed on exit).
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

/** The variables that send the default host's calls to `baseURL`, whatever the user's environment says. */
function demoVariables(cli: CliContext, baseURL: string, stateDir: string): Record<string, string> {
  const host = cli.catalog.defaultProvider;
  return {
    KIMI_PROVIDER: host.id,
    [host.key_env[0]!]: DEMO_KEY,
    ...(host.base_url_env ? { [host.base_url_env]: baseURL } : {}),
    // Empty counts as unset: no fallback to a real host with the user's own keys.
    KIMI_FALLBACK: '',
    KIMI_MCP_STATE_DIR: stateDir,
  };
}

/** One variable as the user's shell sets it (PowerShell on Windows, else a POSIX shell). */
function setLine(name: string, value: string): string {
  return process.platform === 'win32' ? `$env:${name} = '${value.replaceAll("'", "''")}'` : `export ${name}='${value.replaceAll("'", "'\\''")}'`;
}

export async function runDemo(cli: CliContext, options: { serve?: boolean } = {}): Promise<number> {
  if (options.serve) return serveSimulator(cli);
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
    say(`Run \`kimi-mcp demo --serve\` to try \`chat\` and your agent against the simulator; set ${host.key_env[0]} and run \`kimi-mcp doctor\` to check a real setup.`);
    return 0;
  } finally {
    await client.close();
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Runs the simulator until SIGINT or SIGTERM, then removes the demo's state folder. */
async function serveSimulator(cli: CliContext): Promise<number> {
  const { startSimulator } = await import('../simulator/kimi-simulator.js');
  // A visible pace, so that streaming shows in the shell and in an agent.
  const sim = await startSimulator({ apiKey: DEMO_KEY, defaultBehaviour: { chunkSize: 6, delayMs: 15 } });
  const stateDir = mkdtempSync(join(tmpdir(), 'kimi-mcp-demo-'));
  const variables = demoVariables(cli, sim.baseURL, stateDir);
  cli.out(
    [
      `A local Kimi simulator is answering at ${sim.baseURL}: no real key, no network; the replies are simulated.`,
      '',
      `In another terminal, set these (${DEMO_KEY} is a demo key, not yours; the state folder keeps the demo's conversations and spending apart from yours):`,
      '',
      ...Object.entries(variables).map(([name, value]) => `  ${setLine(name, value)}`),
      '',
      'then try:',
      '  kimi-mcp doctor',
      '  kimi-mcp chat "Review this loop for off-by-one errors"',
      '',
      'For an agent, put the same variables in the kimi server\'s "env" in its MCP config:',
      `  "env": ${JSON.stringify(variables)}`,
      '',
      'Press Ctrl-C to stop the simulator (its state folder is removed).',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  rmSync(stateDir, { recursive: true, force: true });
  return 0;
}
