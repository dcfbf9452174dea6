/** `files` through a real MCP client: the client's roots (legacy), else the working directory plus KIMI_MCP_ROOTS, decide what the server may read. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BOTH_ERAS, call, closedAfterEach, connect, onRoots, textOf } from './helpers/mcp.js';
import type { Connection } from './helpers/mcp.js';
import { startSimulator } from './helpers/simulator.js';
import type { Simulator } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-files-5d1c0a9e7b3f';
let sim: Simulator;
let project: string;
let other: string;
let outside: string;

function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
  project = tempDir('kimi-project-');
  write(project, {
    '.gitignore': 'dist/\n*.log\n',
    'src/a.ts': 'export const a = 1;\n',
    'src/b.ts': 'export const b = 2;\n',
    'src/a.test.ts': 'test("a", () => {});\n',
    'src/nested/c.ts': 'export const c = 3;\n',
    'dist/out.ts': 'built output\n',
    'debug.log': 'noise\n',
    'src/logo.ts': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]),
  });
  other = tempDir('kimi-other-');
  write(other, { 'notes.md': '# Other repo notes\n' });
  outside = tempDir('kimi-outside-');
  write(outside, { 'secret.ts': 'export const secret = "do not send";\n' });
});
afterAll(() => sim.close());

const open = closedAfterEach();

/** A client that declares roots and answers roots/list with whatever `roots` holds now. */
async function clientWithRoots(roots: { folders: string[] }): Promise<Connection> {
  const c = await connect({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }, { roots: { listChanged: true } });
  onRoots(c.client, () => ({ roots: roots.folders.map((f) => ({ uri: pathToFileURL(f).href, name: f })) }));
  open.push(c);
  return c;
}

const chatRequests = () => sim.requests.filter((r) => r.path === '/v1/chat/completions');
const lastUserMessage = () => {
  const messages = chatRequests().at(-1)!.body!.messages as { role: string; content: string }[];
  return messages.filter((m) => m.role === 'user').at(-1)!.content;
};
type Sent = { files?: { path: string; tokens: number }[]; skipped_files?: { path: string; reason: string }[] };
const sent = (r: CallToolResult) => r.structuredContent as Sent;

// Roots are a legacy-era feature (2026-07-28 has none): the client's roots, and following their
// change (notifications/roots/list_changed), are tested on legacy connections only. What every
// era shares, confinement to the working directory plus KIMI_MCP_ROOTS, is tested below for both.
describe('files over MCP, from the client\'s roots (legacy)', () => {
  it("reads a glob inside the client's root: .gitignore'd and excluded files left out, binaries reported, paths relative", async () => {
    const { client } = await clientWithRoots({ folders: [project] });
    const r = await call(client, 'kimi_chat', { prompt: 'Review these.', files: ['src/**/*.ts', '**/*.ts', '!**/*.test.ts'] });
    expect(r.isError).toBeFalsy();
    expect(sent(r).files!.map((f) => f.path)).toEqual(['src/a.ts', 'src/b.ts', 'src/nested/c.ts']);
    expect(sent(r).files!.every((f) => f.tokens > 0)).toBe(true);
    expect(sent(r).skipped_files).toEqual([{ path: 'src/logo.ts', reason: 'binary' }]);
    const user = lastUserMessage();
    expect(user).toContain('export const a = 1;');
    expect(user).not.toContain('built output');
    expect(user).not.toContain('test("a"');
    // Files first, in order, then the agent's own words.
    expect(user.indexOf('src/a.ts')).toBeLessThan(user.indexOf('src/b.ts'));
    expect(user.indexOf('src/nested/c.ts')).toBeLessThan(user.indexOf('Review these.'));
    expect(textOf(r)).toMatch(/Files \(3, ~\d+ tokens\): src\/a\.ts ~\d+/);
  });

  it('refuses a path outside the roots, naming them, with no upstream request', async () => {
    const { client } = await clientWithRoots({ folders: [project] });
    const before = chatRequests().length;
    for (const files of [[join(outside, 'secret.ts')], [`../${basename(outside)}/secret.ts`], [pathToFileURL(join(outside, 'secret.ts')).href]]) {
      const r = await call(client, 'kimi_chat', { prompt: 'hi', files });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(project);
      expect(textOf(r)).not.toContain('do not send');
    }
    expect(chatRequests().length).toBe(before);
  });

  it('fails closed when the client declares roots but gives no usable list: refused saying why, nothing sent', async () => {
    const before = chatRequests().length;
    const failing = await connect({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL }, { roots: {} });
    open.push(failing);
    onRoots(failing.client, () => {
      throw new Error('roots unavailable');
    });
    // A file in the server's own working directory: it must not be read on the client's behalf.
    const own = await call(failing.client, 'kimi_chat', { prompt: 'hi', files: ['package.json'] });
    expect(own.isError).toBe(true);
    expect(textOf(own)).toMatch(/^Not sent: the client declares roots but did not list them/);
    const remote = await clientWithRoots({ folders: [] });
    onRoots(remote.client, () => ({ roots: [{ uri: 'file://remotehost/srv/repo', name: 'remote' }] }));
    const r = await call(remote.client, 'kimi_chat', { prompt: 'hi', files: ['package.json'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain("Not sent: the client's roots name no folder on this machine (file://remotehost/srv/repo)");
    expect(chatRequests().length).toBe(before);
  });

  it('follows a roots change the client announces', async () => {
    const roots = { folders: [project] };
    const { client } = await clientWithRoots(roots);
    expect((await call(client, 'kimi_chat', { prompt: 'hi', files: [join(other, 'notes.md')] })).isError).toBe(true);
    roots.folders = [other];
    await client.sendRootsListChanged();
    const r = await call(client, 'kimi_chat', { prompt: 'hi', files: ['notes.md'] });
    expect(r.isError).toBeFalsy();
    expect(sent(r).files!.map((f) => f.path)).toEqual(['notes.md']);
    expect(lastUserMessage()).toContain('# Other repo notes');
    // The old root is no longer allowed.
    expect((await call(client, 'kimi_chat', { prompt: 'hi', files: [join(project, 'src/a.ts')] })).isError).toBe(true);
  });

  it('sends a line range numbered, so the answer can cite lines', async () => {
    const { client } = await clientWithRoots({ folders: [project] });
    write(project, { 'src/long.ts': Array.from({ length: 50 }, (_, i) => `const line${i + 1} = ${i + 1};`).join('\n') });
    const r = await call(client, 'kimi_chat', { prompt: 'hi', files: ['src/long.ts:10-12'] });
    expect(r.isError).toBeFalsy();
    const user = lastUserMessage();
    expect(user).toMatch(/10\D+const line10 = 10;/);
    expect(user).toMatch(/12\D+const line12 = 12;/);
    expect(user).not.toContain('const line13');
    expect(user).not.toContain('const line9 ');
  });

  it('refuses a set too large for the window, listing the largest files, with no upstream request', async () => {
    const { client } = await clientWithRoots({ folders: [project] });
    const words = (seed: string) => Array.from({ length: 180_000 }, (_, i) => `${seed}${i % 997}`).join(' ');
    write(project, { 'big/one.txt': words('alpha'), 'big/two.txt': words('beta'), 'big/three.txt': words('gamma') });
    const before = chatRequests().length;
    const r = await call(client, 'kimi_chat', { prompt: 'Summarise.', files: ['big/*.txt'] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/can never fit kimi-k2\.6's 262144-token window/);
    expect(textOf(r)).toMatch(/Largest files: big\/\w+\.txt ~\d+/);
    expect(chatRequests().length).toBe(before);
    // estimate_cost says the same of the set, sending nothing.
    const e = await call(client, 'estimate_cost', { files: ['big/*.txt'], output_tokens: 1000 });
    expect(e.isError).toBe(true);
    expect(textOf(e)).toMatch(/3 files can never fit kimi-k2\.6's 262144-token window.*Largest files: big\/\w+\.txt ~\d+/);
    expect(chatRequests().length).toBe(before);
  });

  it('confines image paths to the roots as well', async () => {
    const { client } = await clientWithRoots({ folders: [project] });
    write(outside, { 'pic.png': Buffer.from('89504e470d0a1a0a', 'hex') });
    const before = chatRequests().length;
    const r = await call(client, 'kimi_chat', { prompt: 'What is this?', images: [join(outside, 'pic.png')] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain(project);
    expect(chatRequests().length).toBe(before);
  });
});

describe.each(BOTH_ERAS)('files over MCP without client roots (%s)', (era) => {
  async function kimi(extraEnv: Record<string, string> = {}, capabilities = {}): Promise<Connection> {
    const c = await connect({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, ...extraEnv }, capabilities, era);
    open.push(c);
    return c;
  }

  it('allows the working directory plus KIMI_MCP_ROOTS', async () => {
    const { client } = await kimi({ KIMI_MCP_ROOTS: other });
    const r = await call(client, 'kimi_chat', { prompt: 'hi', files: [join(other, 'notes.md'), 'package.json'] });
    expect(r.isError).toBeFalsy();
    expect(sent(r).files!.map((f) => f.path)).toEqual([`${basename(other)}/notes.md`, 'package.json']);
    expect(lastUserMessage()).toContain('# Other repo notes');
  });

  it('refuses a path outside them, naming the allowed folders, with no upstream request', async () => {
    const { client } = await kimi({ KIMI_MCP_ROOTS: other });
    const before = chatRequests().length;
    for (const files of [[join(outside, 'secret.ts')], [`../${basename(outside)}/secret.ts`], [pathToFileURL(join(outside, 'secret.ts')).href], [join(project, 'src/a.ts')]]) {
      const r = await call(client, 'kimi_chat', { prompt: 'hi', files });
      expect(r.isError, JSON.stringify(files)).toBe(true);
      expect(textOf(r)).toContain(other);
      expect(textOf(r)).toContain(process.cwd());
      expect(textOf(r)).not.toContain('do not send');
    }
    // Images are confined the same way.
    write(outside, { 'pic.png': Buffer.from('89504e470d0a1a0a', 'hex') });
    const image = await call(client, 'kimi_chat', { prompt: 'What is this?', images: [join(outside, 'pic.png')] });
    expect(image.isError).toBe(true);
    expect(textOf(image)).toContain(other);
    expect(chatRequests().length).toBe(before);
  });

  if (era !== 'legacy') {
    it('ignores roots a 2026-07-28 client declares: it is never asked, and the working directory plus KIMI_MCP_ROOTS apply', async () => {
      let asked = 0;
      const { client } = await kimi({ KIMI_MCP_ROOTS: other }, { roots: { listChanged: true } });
      (client as ModernClient).setRequestHandler('roots/list', () => {
        asked++;
        return { roots: [{ uri: pathToFileURL(project).href, name: 'project' }] };
      });
      const before = chatRequests().length;
      const refused = await call(client, 'kimi_chat', { prompt: 'hi', files: [join(project, 'src/a.ts')] });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toContain(other);
      expect(chatRequests().length).toBe(before);
      const r = await call(client, 'kimi_chat', { prompt: 'hi', files: [join(other, 'notes.md')] });
      expect(r.isError).toBeFalsy();
      expect(asked).toBe(0);
    });
  }
});
