/**
 * The `/kimi:*` commands as MCP prompts, for clients that show a server's prompts as slash
 * commands: prompts/list and prompts/get through real clients in both protocol eras, and over
 * stdio from the built binary, where the start-up path must announce prompts and hand them over.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/definitions.js';
import { connect, ERAS, protocolError, ROOT } from './helpers/mcp.js';
import type { AnyClient, Connection, Era } from './helpers/mcp.js';
import { byId, envelope, exchange, MODERN } from './raw-session.js';
import type { Message } from './raw-session.js';

const NAMES = ['review', 'adversarial-review', 'ask', 'rescue', 'status', 'result', 'cancel'];

/** What the user gets from the plugin's command file for the same arguments. */
function commandFileBody(name: string, args: string): string {
  const file = readFileSync(join(ROOT, 'commands', `${name}.md`), 'utf8');
  return file.replace(/^---\n[\s\S]*?\n---\n\n/, '').replaceAll('$ARGUMENTS', args);
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (e) {
    return protocolError(e);
  }
  throw new Error('the request was answered, not refused');
}

const getPrompt = (client: AnyClient, name: string, args?: Record<string, string>) => client.getPrompt({ name, ...(args ? { arguments: args } : {}) });

describe.each(ERAS)('MCP prompts (%s)', (era: Era) => {
  let c: Connection;
  beforeAll(async () => {
    c = await connect({}, {}, era);
  });
  afterAll(() => c.close());

  it('lists the seven commands with their descriptions and arguments', async () => {
    const { prompts } = await c.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(NAMES);
    const ask = prompts.find((p) => p.name === 'ask')!;
    expect(ask.title).toBe('/kimi:ask');
    expect(ask.description).toMatch(/Kimi/);
    expect(ask.arguments).toEqual([{ name: 'question', description: 'what to ask Kimi', required: true }]);
    expect(prompts.find((p) => p.name === 'review')!.arguments!.map((a) => [a.name, a.required])).toEqual([
      ['target', false],
      ['files', false],
      ['focus', false],
    ]);
    expect(prompts.find((p) => p.name === 'status')!.arguments!.map((a) => a.name)).toEqual(['job_id']);
  });

  it('substitutes the arguments into the same text the command file gives', async () => {
    const review = await getPrompt(c.client, 'review', { target: 'staged', focus: 'the retry logic' });
    const text = (review.messages[0]!.content as { text: string }).text;
    expect(review.messages[0]!.role).toBe('user');
    expect(text).toContain('Arguments: "staged the retry logic"');
    expect(text).toContain('kimi_review');
    expect(text).toBe(commandFileBody('review', 'staged the retry logic'));

    const adversarial = await getPrompt(c.client, 'adversarial-review', {});
    const adversarialText = (adversarial.messages[0]!.content as { text: string }).text;
    expect(adversarialText).toContain('Arguments: ""');
    expect(adversarialText).toContain('Call kimi_review with adversarial: true.');

    const rescue = await getPrompt(c.client, 'rescue', { task: 'the flaky upload test' });
    const rescueText = (rescue.messages[0]!.content as { text: string }).text;
    expect(rescueText).toContain('Task: "the flaky upload test"');
    expect(rescueText).toMatch(/kimi_agent with background: true/);
    expect(rescueText).toMatch(/kimi_job with action "result"/);

    const status = await getPrompt(c.client, 'status', { job_id: 'job-123' });
    expect((status.messages[0]!.content as { text: string }).text).toBe(commandFileBody('status', 'job-123'));
  });

  it('refuses an unknown prompt, a missing required argument and an unknown argument, saying what to pass', async () => {
    const unknown = await refusal(getPrompt(c.client, 'nope'));
    expect(unknown?.code).toBe(-32602);
    expect(unknown?.message).toMatch(/Prompt nope not found/);

    const missing = await refusal(getPrompt(c.client, 'ask', {}));
    expect(missing?.code).toBe(-32602);
    expect(missing?.message).toMatch(/question is required: what to ask Kimi/);

    const wrong = await refusal(getPrompt(c.client, 'review', { focus_area: 'x' }));
    expect(wrong?.code).toBe(-32602);
    expect(wrong?.message).toMatch(/review takes only target, files, focus/);
  });
});

describe('MCP prompts over stdio (dist/cli.js, run `node scripts/build.mjs` first)', () => {
  const legacyOpening = [
    { id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } },
    { method: 'notifications/initialized' },
  ];
  const modernOpening = [{ id: 1, method: 'server/discover', params: { _meta: envelope() } }];
  const calls = (params: (p: Record<string, unknown>) => Record<string, unknown>) => [
    { id: 2, method: 'tools/list', params: params({}) },
    { id: 3, method: 'prompts/list', params: params({}) },
    { id: 4, method: 'prompts/get', params: params({ name: 'ask', arguments: { question: 'Why is the sky blue?' } }) },
  ];
  const cases = [
    { era: 'legacy', messages: [...legacyOpening, ...calls((p) => p)] },
    { era: MODERN, messages: [...modernOpening, ...calls((p) => ({ ...p, _meta: envelope() }))] },
  ];

  it.each(cases)('announces prompts from the start-up snapshot and answers prompts/* after the hand-over ($era)', async ({ messages }) => {
    const [fast, full] = await Promise.all([exchange(messages), exchange(messages, { env: { KIMI_MCP_FAST_START: '0' } })]);
    expect(fast.code, fast.stderr).toBe(0);
    const answers = byId(fast.messages);
    const opening = answers.get(1)!.result as { capabilities: Record<string, unknown> };
    expect(opening.capabilities.prompts, 'the snapshot predates the prompts: run node scripts/build.mjs').toBeDefined();
    const listed = (answers.get(3)!.result as { prompts: { name: string }[] }).prompts.map((p) => p.name);
    expect(listed).toEqual(COMMANDS.map((command) => command.name));
    const text = ((answers.get(4) as Message).result as { messages: { content: { text: string } }[] }).messages[0]!.content.text;
    expect(text).toContain('Ask Kimi: "Why is the sky blue?"');
    // Whatever path the process is on, a client cannot tell.
    const fullAnswers = byId(full.messages);
    for (const id of [1, 3, 4]) expect(answers.get(id)).toEqual(fullAnswers.get(id));
  });
});
