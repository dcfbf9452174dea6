/**
 * The kimi plugin's Claude Code Stop hook (hooks/hooks.json): when Claude is about to stop, Kimi
 * reviews the uncommitted changes (`kimi-mcp review --target working`) and findings at or above
 * the level in KIMI_MCP_REVIEW_GATE send Claude back to address them. Off unless that variable
 * names a severity; nothing is run, nothing is sent.
 *
 * Claude Code's hook contract, as its 2.1.330 binary and the hooks reference have it: the hook
 * reads JSON on stdin ({session_id, transcript_path, cwd, hook_event_name: "Stop",
 * stop_hook_active, last_assistant_message}); printing {"decision":"block","reason":"…"} on
 * stdout and exiting 0 keeps Claude working, with the reason as its next instruction; any other
 * exit 0 lets it stop. stop_hook_active is true while Claude is already continuing because a
 * Stop hook blocked, so we let it stop then: one review round per turn, never a loop.
 * The hook never blocks on its own failure (no key, no network, no git): Claude stops, and the
 * reason goes to stderr, which Claude Code shows in its hook log.
 *
 * Plain JavaScript, not built: a plugin installed from the marketplace is the repository without
 * dist/, so kimi-mcp itself comes from the plugin's dist/ when there is one, else from the same
 * pinned `npx -y kimi-mcp@<version>` the plugin's MCP server uses (.mcp.json).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LEVELS = ['critical', 'high', 'medium', 'low'];
const OFF = ['', 'off', 'none', '0', 'false'];
/** Claude Code gives the hook 600 s (hooks.json); we answer before it gives up on us. */
const REVIEW_TIMEOUT_MS = 580_000;

const warn = (message) => process.stderr.write(`kimi-mcp review gate: ${message}\n`);

async function readInput() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return {};
  }
}

/** kimi-mcp as the plugin ships it: its own build, else the pinned package through npx. */
function kimiCommand(root) {
  const cli = join(root, 'dist', 'cli.js');
  if (existsSync(cli)) return [process.execPath, cli];
  const { version } = JSON.parse(readFileSync(join(root, '.claude-plugin', 'plugin.json'), 'utf8'));
  const npx = ['npx', '-y', `kimi-mcp@${version}`];
  // Windows cannot start npx.cmd without a shell; cmd /c with our fixed arguments only.
  return process.platform === 'win32' ? ['cmd', '/c', ...npx] : npx;
}

/** The environment kimi-mcp gets: ours, plus the key the user gave the plugin (as .mcp.json passes it). */
function reviewEnv() {
  const env = { ...process.env };
  if (!env.RUNAPI_TOKEN && env.CLAUDE_PLUGIN_OPTION_RUNAPI_KEY) env.RUNAPI_TOKEN = env.CLAUDE_PLUGIN_OPTION_RUNAPI_KEY;
  return env;
}

function review(command, level, cwd) {
  const [program, ...args] = command;
  return new Promise((resolve) => {
    execFile(
      program,
      // --skip-unchanged: a tree left as it was when its review passed is not paid for again.
      [...args, 'review', '--target', 'working', '--fail-on', level, '--skip-unchanged'],
      { cwd, env: reviewEnv(), timeout: REVIEW_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr, error }),
    );
  });
}

async function main() {
  const level = (process.env.KIMI_MCP_REVIEW_GATE ?? '').trim().toLowerCase();
  if (!LEVELS.includes(level)) {
    if (!OFF.includes(level)) warn(`KIMI_MCP_REVIEW_GATE="${process.env.KIMI_MCP_REVIEW_GATE}" is not one of ${LEVELS.join(', ')}; the gate is off.`);
    return;
  }
  const input = await readInput();
  if (input.stop_hook_active === true) return; // Claude is already addressing an earlier round
  const root = process.env.CLAUDE_PLUGIN_ROOT || join(dirname(fileURLToPath(import.meta.url)), '..');
  const cwd = typeof input.cwd === 'string' && input.cwd ? input.cwd : process.cwd();
  const result = await review(kimiCommand(root), level, cwd);
  if (result.code === 1 && result.stdout.trim()) {
    const reason = `Kimi reviewed the uncommitted changes and found issues at or above "${level}" (KIMI_MCP_REVIEW_GATE). Address each one, or say why it does not apply, before you finish:\n\n${result.stdout.trim()}`;
    process.stdout.write(`${JSON.stringify({ decision: 'block', reason })}\n`);
    return;
  }
  if (result.code !== 0) warn(`the review could not run (${result.error?.killed ? 'timed out' : `exit ${result.code}`}); not blocking.\n${result.stderr.trim()}`);
}

main().catch((e) => warn(`failed (${e instanceof Error ? e.message : String(e)}); not blocking.`));
