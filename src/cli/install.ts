/** `kimi-mcp install <agent>` / `uninstall <agent>`. */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolveHost } from '../kimi/config.js';
import { UsageError } from '../kimi/errors.js';
import { AGENTS, findAgent } from '../install/agents.js';
import type { InstallContext, Launch, Scope } from '../install/agents.js';
import { applyPlan, describePlan, planInstall, planUninstall } from '../install/install.js';
import { hookScript, installGitHook, parseHookName, uninstallGitHook } from '../install/git-hook.js';
import { parseFailOn } from './review-format.js';
import { scrub } from '../log.js';
import { version } from '../version.js';
import type { CliContext } from './context.js';

export interface InstallOptions {
  scope?: string;
  print?: boolean;
  writeKey?: boolean;
  launch?: string;
  platform?: string;
  /** git-hook: which hook, the gate's severity, and whether a review that cannot run blocks. */
  hook?: string;
  failOn?: string;
  strict?: boolean;
}

/**
 * How the agent should start us. A copy that npx put in its cache can vanish, so it is launched
 * through a pinned `npx -y kimi-mcp@<version>`; an installed copy runs directly with this Node
 * (much faster to start). Windows cannot spawn npx.cmd without a shell: `cmd /c npx`.
 */
export function launchCommand(cliPath: string, platform: NodeJS.Platform, mode: string | undefined, nodePath: string): Launch {
  const viaNpx = mode === 'npx' || (mode === undefined && /[\\/]_npx[\\/]/.test(cliPath));
  if (mode !== undefined && mode !== 'npx' && mode !== 'node') throw new UsageError(`--launch takes node or npx, not "${mode}".`);
  if (!viaNpx) return { command: nodePath, args: [cliPath] };
  const npx = ['npx', '-y', `kimi-mcp@${version}`];
  return platform === 'win32' ? { command: 'cmd', args: ['/c', ...npx] } : { command: npx[0]!, args: npx.slice(1) };
}

/** This binary's real file (not the node_modules/.bin link that started it), for the config. */
function binaryPath(): string {
  const invoked = process.argv[1] ?? '';
  try {
    return realpathSync(invoked);
  } catch {
    return invoked;
  }
}

function installContext(cli: CliContext, options: InstallOptions): InstallContext {
  const provider = cli.settings.provider;
  const [keyVar] = provider.key_env;
  const settings: Record<string, string> = {};
  if (!provider.default) settings.KIMI_PROVIDER = provider.id;
  if (provider.base_url_env && cli.env[provider.base_url_env] && !provider.base_url) settings[provider.base_url_env] = cli.env[provider.base_url_env]!;
  let keyValue: string | undefined;
  if (options.writeKey) {
    keyValue = resolveHost(provider, cli.env).apiKey;
    if (!keyValue) throw new UsageError(`--write-key needs the key in this shell: set ${keyVar} and run again.`);
  }
  const platform = (options.platform ?? process.platform) as NodeJS.Platform;
  return {
    home: homedir(),
    cwd: process.cwd(),
    platform,
    env: cli.env,
    launch: launchCommand(binaryPath(), platform, options.launch, process.execPath),
    keyVar: keyVar!,
    settings,
    ...(keyValue ? { keyValue } : {}),
  };
}

/** `install git-hook`: the review gate in this repository's hooks, started as an agent would start us. */
async function runGitHook(cli: CliContext, options: InstallOptions, uninstall: boolean): Promise<number> {
  const hook = parseHookName(options.hook);
  const settings = {
    hook,
    // The default is a gate that gates; `kimi-mcp review` alone defaults to none.
    failOn: parseFailOn(options.failOn ?? 'high'),
    strict: options.strict ?? false,
    // git runs hooks with sh on every platform (Git for Windows brings its own), hence 'linux'.
    launch: launchCommand(binaryPath(), 'linux', options.launch, process.execPath),
  };
  if (options.print && !uninstall) {
    cli.out(hookScript(settings));
    return 0;
  }
  const done = uninstall ? await uninstallGitHook({ cwd: process.cwd(), hook }) : await installGitHook({ cwd: process.cwd(), ...settings });
  cli.out(`${done.join('\n')}\n`);
  return 0;
}

export function runInstall(cli: CliContext, agentId: string | undefined, options: InstallOptions, uninstall: boolean): number | Promise<number> {
  if (agentId === 'git-hook') return runGitHook(cli, options, uninstall);
  const agent = agentId ? findAgent(agentId) : undefined;
  if (!agent) {
    throw new UsageError(`${agentId ? `Unknown agent "${agentId}". ` : ''}Name one of: ${AGENTS.map((a) => a.id).join(', ')} (or git-hook, for the review gate).`);
  }
  const scope = (options.scope ?? agent.scopes[0]) as Scope;
  const ctx = installContext(cli, options);
  const plan = uninstall ? planUninstall(agent, ctx, scope) : planInstall(agent, ctx, scope, cli.catalog.root);
  if (options.print) {
    // The preview is the file as it will be written, but a key written with --write-key is shown
    // redacted: it belongs in the file, not on a terminal or in a pasted transcript.
    cli.out(`${scrub(describePlan(plan, uninstall))}\n`);
    return 0;
  }
  const done = applyPlan(plan);
  cli.out(`${done.length ? done.join('\n') : `nothing to change for ${agent.title}`}\n`);
  if (!uninstall) cli.out(`${plan.notes.join('\n')}\n`);
  return 0;
}
