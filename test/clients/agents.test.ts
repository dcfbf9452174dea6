/** Gemini CLI and Codex read what `kimi-mcp install` writes for them. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProcess } from '../helpers/process.js';
import { CLI, runCli } from '../helpers/run-cli.js';
import { clientBin } from './paths.js';
import { tempDir } from '../helpers/temp.js';


describe('agents that run here', () => {
  it('Gemini CLI connects to the server `kimi-mcp install gemini-cli` configured', async () => {
    const home = tempDir('kimi-gemini-home-');
    const work = tempDir('kimi-gemini-work-');
    expect((await runCli(['install', 'gemini-cli'], { HOME: home })).code).toBe(0);
    // Gemini CLI disables MCP servers in folders the user has not trusted.
    writeFileSync(join(home, '.gemini', 'trustedFolders.json'), JSON.stringify({ [work]: 'TRUST_FOLDER' }));
    const r = await runProcess(clientBin('gemini'), ['mcp', 'list'], { cwd: work, env: { PATH: process.env.PATH, HOME: home }, timeoutMs: 90_000 });
    expect(r.stdout + r.stderr).toMatch(new RegExp(`✓ kimi: \\S+ ${CLI.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(stdio\\) - Connected`));
  });

  it('Codex reads the TOML `kimi-mcp install codex` wrote: key forwarded by name, long tool timeout', async () => {
    const home = tempDir('kimi-codex-home-');
    expect((await runCli(['install', 'codex'], { HOME: home })).code).toBe(0);
    const r = await runProcess(clientBin('codex'), ['mcp', 'list', '--json'], { cwd: home, env: { PATH: process.env.PATH, HOME: home }, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const servers = JSON.parse(r.stdout) as { name: string; enabled: boolean; transport: { command: string; args: string[]; env_vars: string[] }; tool_timeout_sec: number }[];
    expect(servers).toEqual([
      expect.objectContaining({
        name: 'kimi',
        enabled: true,
        transport: expect.objectContaining({ command: process.execPath, args: [CLI], env_vars: ['RUNAPI_KEY'] }),
        tool_timeout_sec: 600,
      }),
    ]);
  });
});
