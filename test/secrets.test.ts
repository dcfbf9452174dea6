/**
 * Keys and URL credentials never reach what the CLI prints, whoever echoes them: hosts that put
 * the caller's key in their error bodies and headers (the simulator's leakKeyInErrors and
 * echoKeyInHeader), for the chosen host, a fallback host doctor merely checks, and the exact
 * token-count endpoint; a model that repeats the key (sent to it in a file), split across stream
 * chunks; and base URLs that carry a password or a `?key=` query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSecret } from '../src/log.js';
import { PROGRESS_INTERVAL_MS, ProgressReporter } from '../src/mcp/progress.js';
import { expectNoCanary, makeCanary } from './helpers/canary.js';
import type { Source } from './helpers/canary.js';
import { runCli } from './helpers/run-cli.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import type { ProcessRun } from './helpers/process.js';

let main: Simulator;
let fallback: Simulator;
beforeAll(async () => {
  // Each host accepts another key, so every call made with a canary is a 401 that echoes it.
  [main, fallback] = await Promise.all([
    startSimulator({ apiKey: 'sk-accepted-main', leakKeyInErrors: 'all', echoKeyInHeader: true }),
    startSimulator({ apiKey: 'sk-accepted-fallback', leakKeyInErrors: 'all', echoKeyInHeader: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([main.close(), fallback.close()]);
});

const printed = (run: ProcessRun): Source[] => [
  { name: 'stdout', text: run.stdout },
  { name: 'stderr', text: run.stderr },
];

describe('keys echoed by a host', () => {
  it('doctor shows neither the main nor the fallback host key, though both hosts echo them', async () => {
    const mainKey = makeCanary();
    const fallbackKey = makeCanary();
    const run = await runCli(['doctor'], {
      RUNAPI_KEY: mainKey,
      RUNAPI_BASE_URL: main.baseURL,
      KIMI_FALLBACK: 'moonshot',
      MOONSHOT_API_KEY: fallbackKey,
      MOONSHOT_BASE_URL: fallback.baseURL,
    });
    expect(run.code).toBe(1);
    // Both hosts were asked and both refusals are reported, with the host's words minus the key.
    expect(run.stdout).toMatch(/host runapi[^\n]*\n[\s\S]*401 incorrect_api_key_error: Incorrect API key provided: \[redacted\]/);
    expect(run.stdout).toMatch(/fallback host moonshot[\s\S]*Moonshot[^\n]*401 incorrect_api_key_error: Incorrect API key provided: \[redacted\]/);
    expectNoCanary(mainKey, printed(run));
    expectNoCanary(fallbackKey, printed(run));
  });

  it('cost does not show the key the exact-count endpoint echoes, and falls back to the estimate', async () => {
    const key = makeCanary();
    const run = await runCli(['cost', '--provider', 'moonshot', '--text', 'How many tokens is this?'], { MOONSHOT_API_KEY: key, MOONSHOT_BASE_URL: main.baseURL });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/tokens \(estimate\)/);
    expect(run.stdout).toMatch(/note: Exact count failed, so the offline estimate is used: .*401 incorrect_api_key_error: Incorrect API key provided: \[redacted\]/);
    expectNoCanary(key, printed(run));

    const json = await runCli(['cost', '--provider', 'moonshot', '--text', 'How many tokens is this?', '--json'], { MOONSHOT_API_KEY: key, MOONSHOT_BASE_URL: main.baseURL });
    expect(JSON.parse(json.stdout).counted_by).toBe('estimate');
    expectNoCanary(key, printed(json));
  });
});

describe('credentials in a base URL', () => {
  const hostPort = () => new URL(main.baseURL).host;

  it('a password in the base URL is refused with the fix, masked, and nothing is sent', async () => {
    const secret = makeCanary();
    const env = { KIMI_PROVIDER: 'custom', KIMI_BASE_URL: `http://kimi-user:${secret}@${hostPort()}/v1` };
    const sent = main.requests.length;
    const doctor = await runCli(['doctor'], env);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/✘ base URL\n\s+→ KIMI_BASE_URL has a user name or password in it \(…@\); requests cannot carry them that way\. Remove them from the URL and put the key in KIMI_API_KEY\./);
    expectNoCanary(secret, printed(doctor));

    const chat = await runCli(['chat', 'hello'], env);
    expect(chat.code).toBe(2);
    expect(chat.stderr).toMatch(/KIMI_BASE_URL has a user name or password in it/);
    expectNoCanary(secret, printed(chat));
    expect(main.requests.length).toBe(sent);
  });

  it('a ?key= in the base URL is sent with each request but masked in doctor and in errors', async () => {
    const secret = makeCanary();
    const env = { KIMI_PROVIDER: 'custom', KIMI_BASE_URL: `${main.baseURL}?api-version=1&key=${secret}` };
    const doctor = await runCli(['doctor'], env);
    expect(doctor.stdout).toMatch(/host custom \(http:\/\/[^)]*\?api-version=1&key=\[redacted\]\)/);
    expectNoCanary(secret, printed(doctor));

    for (const args of [['chat', 'hello'], ['chat', 'hello', '--json']]) {
      const chat = await runCli(args, env);
      expect(chat.code).toBe(1);
      // The host refused the call (no key), and its error names the base URL, masked.
      expect(chat.stdout + chat.stderr).toMatch(/\?api-version=1&key=\[redacted\]\) answered 401/);
      expectNoCanary(secret, printed(chat));
    }
    // The query went on the request, not into its path.
    expect(main.requests.at(-1)!.path).toBe('/v1/chat/completions');
  });
});

/** Any run of 8 characters of the key's random part: a cut key leaks as surely as a whole one. */
function expectNoPieceOf(key: string, text: string): void {
  const secret = key.replace(/^sk-canary-/, '');
  for (let i = 0; i + 8 <= secret.length; i++) expect(text, `part of the key (${secret.slice(i, i + 8)}) shown`).not.toContain(secret.slice(i, i + 8));
}

describe('a key the model repeats', () => {
  it('chat prints the reply with the key masked, even when the stream splits the key', async () => {
    const key = makeCanary();
    const sim = await startSimulator({ apiKey: key });
    try {
      const reply = `Your .env has RUNAPI_KEY=${key}; rotate it.`;
      const env = { RUNAPI_KEY: key, RUNAPI_BASE_URL: sim.baseURL };
      sim.script({ content: reply, chunkSize: 7 });
      const run = await runCli(['chat', 'check my .env'], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('Your .env has RUNAPI_KEY=[redacted]; rotate it.\n');
      expectNoCanary(key, printed(run));
      sim.script({ content: reply, chunkSize: 7 });
      const json = await runCli(['chat', 'check my .env', '--json'], env);
      expect(JSON.parse(json.stdout).text).toBe('Your .env has RUNAPI_KEY=[redacted]; rotate it.');
      expectNoCanary(key, printed(json));
    } finally {
      await sim.close();
    }
  });

  it('kimi_stream progress shows no part of it: not a key still arriving, nor one the tail cuts', async () => {
    const key = makeCanary();
    registerSecret(key);
    const sent: string[] = [];
    const progress = new ProgressReporter(async (m) => void sent.push(m), 'kimi-k3', true, 10_000);
    const arriving = `The key is ${key.slice(0, 22)}`;
    const cutByTail = `${'a'.repeat(60)} ${key} ${'b'.repeat(180)}`;
    for (const text of [arriving, cutByTail]) {
      await progress.update(text, '');
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_INTERVAL_MS + 10));
    }
    await progress.finish();
    expect(sent).toHaveLength(3);
    expect(sent[1]).toBe('The key is');
    for (const message of sent) expectNoPieceOf(key, message);
  });
});
