/** Claude Code itself: its health check after `kimi-mcp install`, the plugin, and its validator. */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/mcp.js';
import { runProcess } from '../helpers/process.js';
import { runCli } from '../helpers/run-cli.js';
import { clientBin } from './paths.js';
import { tempDir } from '../helpers/temp.js';


/** No login, no telemetry, no network: what `claude mcp list` and `plugin validate` need. */
function claude(args: string[], home: string, cwd: string) {
  return runProcess(clientBin('claude'), args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1' },
    timeoutMs: 90_000,
  });
}

describe('Claude Code', () => {
  it('shows the server Connected after `kimi-mcp install claude-code` (claude mcp list exits 0 either way)', async () => {
    const home = tempDir('kimi-cc-home-');
    const installed = await runCli(['install', 'claude-code'], { HOME: home });
    expect(installed.code, installed.stderr).toBe(0);
    const r = await claude(['mcp', 'list'], home, tempDir('kimi-cc-cwd-'));
    expect(r.stdout).toMatch(/^kimi: .*dist\/cli\.js - ✔ Connected$/m);
  });

  it('loads the plugin with --plugin-dir and connects its pinned npx server', async () => {
    // The plugin starts `npx -y kimi-mcp@<version>`; npx finds that exact version installed in the
    // working folder, so the real launch command runs without a registry.
    const project = tempDir('kimi-cc-plugin-');
    const packed = await runProcess('npm', ['pack', '--ignore-scripts', '--pack-destination', project], { cwd: ROOT, env: process.env as Record<string, string> });
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'))!;
    writeFileSync(join(project, 'package.json'), '{"private":true}\n');
    const installed = await runProcess('npm', ['install', '--no-audit', '--no-fund', '--offline', `./${tarball}`], { cwd: project, env: process.env as Record<string, string> });
    expect(installed.code, installed.stderr).toBe(0);
    const r = await claude(['--plugin-dir', ROOT, 'mcp', 'list'], tempDir('kimi-cc-home-'), project);
    expect(r.stdout).toMatch(/^plugin:kimi:kimi: npx -y kimi-mcp@[\d.]+ - ✔ Connected$/m);
  });

  it('validates the marketplace, the plugin and its skill with --strict', async () => {
    const home = tempDir('kimi-cc-home-');
    const market = await claude(['plugin', 'validate', '.', '--strict'], home, ROOT);
    expect(market.code, market.stdout + market.stderr).toBe(0);
    expect(market.stdout).toMatch(/✔ Validation passed/);
    // The plugin's skill (SKILL.md at the root, "skills": ["./"]) is part of what was validated.
    expect(market.stdout).toMatch(/skills: kimi:kimi/);
    // So are the slash commands (commands/*.md), each as /kimi:<name>; the Gemini CLI TOMLs beside them are not read.
    const commands = [...market.stdout.matchAll(/commands: (\S+)/g)].map((m) => m[1]).sort();
    expect(commands).toEqual(['kimi:adversarial-review', 'kimi:ask', 'kimi:cancel', 'kimi:rescue', 'kimi:result', 'kimi:review', 'kimi:status']);
    const plugin = await claude(['plugin', 'validate', '.claude-plugin/plugin.json', '--strict'], home, ROOT);
    expect(plugin.code, plugin.stdout + plugin.stderr).toBe(0);
  });
});
