/**
 * Resource bounds a hostile caller cannot get past (issue 17, defects 5, 6, 8 and 16's messages
 * part): file sets that can never fit are refused from their sizes before a byte is read, pipes
 * and sockets are skipped without blocking, image downloads stop at the limit and never reach
 * private addresses, and messages items are checked to the chat shape before anything is sent.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, existsSync, linkSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { call, closedAfterEach, connect, textOf } from './helpers/mcp.js';
import type { AnyClient } from './helpers/mcp.js';
import { simulatorForFile } from './helpers/simulator.js';
import { tempDir } from './helpers/temp.js';

const KEY = 'sk-sim-bounds-3e8f1a6c9d2b';
const sim = simulatorForFile({ apiKey: KEY });

const open = closedAfterEach();

async function kimi(env: Record<string, string> = {}): Promise<AnyClient> {
  const c = await connect({ RUNAPI_KEY: KEY, RUNAPI_BASE_URL: sim.baseURL, ...env });
  open.push(c);
  return c.client;
}

const chatRequests = () => sim.requests.filter((r) => r.path === '/v1/chat/completions').length;
type Sent = { files?: { path: string }[]; skipped_files?: { path: string; reason: string }[] };
const sent = (r: CallToolResult) => r.structuredContent as Sent;

/** Bytes this process has read so far (any read(2), page cache included); undefined off Linux. */
function bytesRead(): number | undefined {
  if (!existsSync('/proc/self/io')) return undefined;
  return Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

/** `promise`, or a rejection after `ms`: a call that hangs fails the test instead of the run. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('file sets that can never fit', () => {
  const MB = 1024 * 1024;
  let root: string;
  beforeAll(() => {
    root = tempDir('kimi-bounds-big-');
    mkdirSync(join(root, 'big'));
    // One 2 MB text file under 99 names (hard links): each stats as 2 MB and is a separate file.
    const line = 'export const value = "some ordinary source text";\n';
    const lines = Math.floor((2 * MB - 4096) / line.length);
    writeFileSync(join(root, 'big', 'f000.ts'), line.repeat(lines));
    for (let i = 1; i < 99; i++) linkSync(join(root, 'big', 'f000.ts'), join(root, 'big', `f${String(i).padStart(3, '0')}.ts`));
    writeFileSync(join(root, 'big', 'huge.ts'), line.repeat(lines + 40)); // the largest, still under the 2 MB per-file limit
    // 30 of them (60 MB) pass the check from sizes; counting tokens must stop them.
    mkdirSync(join(root, 'mid'));
    for (let i = 0; i < 30; i++) linkSync(join(root, 'big', 'f000.ts'), join(root, 'mid', `m${String(i).padStart(2, '0')}.ts`));
  });

  it('100 files of 2 MB: kimi_chat refuses from their sizes, names the largest, reads nothing and sends nothing', async () => {
    const client = await kimi({ KIMI_MCP_ROOTS: root });
    const before = chatRequests();
    const readBefore = bytesRead();
    const started = Date.now();
    const r = await call(client, 'kimi_chat', { prompt: 'Review all of it.', files: [`${root}/big/*.ts`] });
    const elapsed = Date.now() - started;
    expect(r.isError).toBe(true);
    const text = textOf(r);
    expect(text).toMatch(/^100 files of 199\.\d MB can never fit kimi-k2\.6's 262144-token window: .* none was read, so nothing was sent/);
    expect(text).toMatch(/Largest files: \S*big\/huge\.ts \(2\.0 MB\)/);
    expect(text).toMatch(/"!" excludes|line range/);
    expect(chatRequests()).toBe(before);
    expect(elapsed).toBeLessThan(3000);
    if (readBefore !== undefined) expect(bytesRead()! - readBefore).toBeLessThan(20 * MB); // 200 MB on disk
  });

  it('30 files of 2 MB, under the size check: counting stops at the window, in both tools, with nothing sent', async () => {
    const client = await kimi({ KIMI_MCP_ROOTS: root });
    const before = chatRequests();
    for (const [tool, args] of [['kimi_chat', { prompt: 'Review.' }], ['estimate_cost', { text: 'Review.' }]] as const) {
      const started = Date.now();
      const r = await call(client, tool, { ...args, files: [`${root}/mid/*.ts`] });
      expect(r.isError, tool).toBe(true);
      // Each file alone is past the window, so one file is estimated, not 60 MB of them.
      expect(textOf(r)).toMatch(/^30 files can never fit kimi-k2\.6's 262144-token window: counting stopped at about \d+ tokens after 1 file, with 29 more not counted, so nothing was sent\. Largest files: \S*mid\/m\d\d\.ts ~\d+ tokens\./);
      expect(Date.now() - started, tool).toBeLessThan(5000);
    }
    expect(chatRequests()).toBe(before);
  });

  it('estimate_cost says the same set can never fit, without reading it', async () => {
    const client = await kimi({ KIMI_MCP_ROOTS: root });
    const readBefore = bytesRead();
    const started = Date.now();
    const r = await call(client, 'estimate_cost', { text: 'Review all of it.', files: [`${root}/big/*.ts`] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/can never fit kimi-k2\.6's 262144-token window/);
    expect(textOf(r)).toContain('huge.ts');
    expect(Date.now() - started).toBeLessThan(3000);
    if (readBefore !== undefined) expect(bytesRead()! - readBefore).toBeLessThan(20 * MB);
  });
});

describe('pipes, sockets and devices in files', () => {
  let root: string;
  const fifos: string[] = [];
  beforeAll(async () => {
    root = tempDir('kimi-bounds-fifo-');
    writeFileSync(join(root, 'ok.ts'), 'export const ok = true;\n');
    for (const name of ['pipe', 'pipe2', 'pipe3', 'pipe4']) {
      fifos.push(join(root, name));
      await promisify(execFile)('mkfifo', [join(root, name)]);
      symlinkSync(join(root, name), join(root, `link-to-${name}.ts`));
    }
  });
  // A reader blocked on a pipe (the code before the fix) is released by a writer opening it.
  afterAll(() => {
    for (const fifo of fifos) {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting: nothing to release
      }
    }
  });

  it('skips a FIFO reached directly, by a glob or through a symlink, and names it in skipped_files', async () => {
    const client = await kimi({ KIMI_MCP_ROOTS: root });
    const r = await within(5000, call(client, 'kimi_chat', { prompt: 'Review.', files: [`${root}/*`, join(root, 'pipe2')] }));
    expect(r.isError).toBeFalsy();
    expect(sent(r).files!.map((f) => f.path)).toEqual([expect.stringMatching(/ok\.ts$/)]);
    // A symlink is shown by its target's path, so each pipe is named once, whichever routes reached it.
    expect(sent(r).skipped_files!.map((s) => [s.path.split('/').at(-1), s.reason])).toEqual(
      ['pipe', 'pipe2', 'pipe3', 'pipe4'].map((name) => [name, 'not a regular file (a pipe)']),
    );
  });

  it('four calls that reach only pipes do not hold up a fifth call', async () => {
    const client = await kimi({ KIMI_MCP_ROOTS: root });
    const pipeCalls = [1, 2, 3, 4].map((i) => call(client, 'kimi_chat', { prompt: 'x', files: [`${root}/link-to-pipe${i === 1 ? '' : i}.*`] }));
    for (const pending of pipeCalls) pending.catch(() => undefined); // still pending if the fifth call times out
    const normal = await within(5000, call(client, 'kimi_chat', { prompt: 'Review.', files: [join(root, 'ok.ts')] }));
    expect(normal.isError).toBeFalsy();
    const refused = await within(5000, Promise.all(pipeCalls));
    for (const r of refused) {
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/No file to send: every match was skipped \(\S*\/pipe\d?: not a regular file \(a pipe\)\)/);
    }
  });
});

describe('image URLs', () => {
  const MB = 1024 * 1024;
  let server: Server;
  let port: number;
  let closedPort: number;
  let bytesServed = 0;
  let requestsServed = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requestsServed++;
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `http://localhost:${port}/endless.png` });
        res.end();
        return;
      }
      // An endless body: a chunk whenever the socket can take one, until the client hangs up.
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(MB, 7);
      const more = (): void => {
        while (!res.destroyed && res.write(chunk)) bytesServed += chunk.length;
        if (!res.destroyed) bytesServed += chunk.length;
      };
      res.on('drain', more);
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('an endless body is cut at the 20 MB limit, quickly', async () => {
    const client = await kimi({ KIMI_MCP_ALLOW_PRIVATE_URLS: '1', KIMI_MCP_IMAGE_HOSTS: '127.0.0.1' });
    const before = chatRequests();
    bytesServed = 0;
    const started = Date.now();
    const r = await within(8000, call(client, 'kimi_chat', { prompt: 'What is this?', images: [`http://127.0.0.1:${port}/endless.png`] }));
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Image http:\/\/127\.0\.0\.1:\d+\/endless\.png is larger than the 20 MB limit/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(bytesServed).toBeLessThan(40 * MB); // the limit plus what the sockets' buffers held
    expect(chatRequests()).toBe(before);
  });

  it('loopback, private, link-local and unique-local URLs are refused by default, with one message whether a port is open or closed', async () => {
    const client = await kimi({ KIMI_MCP_IMAGE_HOSTS: '127.0.0.1,localhost' });
    const before = chatRequests();
    requestsServed = 0;
    const refusal = async (url: string): Promise<string> => {
      const r = await within(5000, call(client, 'kimi_chat', { prompt: 'What is this?', images: [url] }));
      expect(r.isError).toBe(true);
      return textOf(r).replaceAll(url, '<url>');
    };
    const openPort = await refusal(`http://127.0.0.1:${port}/endless.png`);
    expect(openPort).toMatch(/<url> leads to a loopback, private, link-local or unique-local address.*KIMI_MCP_ALLOW_PRIVATE_URLS=1/);
    expect(await refusal(`http://127.0.0.1:${closedPort}/endless.png`)).toBe(openPort);
    for (const url of [
      `http://localhost:${port}/endless.png`,
      'https://10.1.2.3/a.png',
      'https://192.168.0.1/a.png',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/a.png',
      'https://[fd00::1]/a.png',
      'https://[fe80::1]/a.png',
      'https://[::ffff:127.0.0.1]/a.png',
      'https://0.0.0.0/a.png',
    ]) {
      expect(await refusal(url), url).toBe(openPort);
    }
    expect(requestsServed).toBe(0);
    expect(chatRequests()).toBe(before);
  });

  it('plain http only to the hosts in KIMI_MCP_IMAGE_HOSTS, redirects included', async () => {
    const client = await kimi({ KIMI_MCP_ALLOW_PRIVATE_URLS: '1', KIMI_MCP_IMAGE_HOSTS: '127.0.0.1' });
    const before = chatRequests();
    const plain = await call(client, 'kimi_chat', { prompt: 'x', images: [`http://localhost:${port}/endless.png`] });
    expect(textOf(plain)).toMatch(/plain http only to the hosts in KIMI_MCP_IMAGE_HOSTS/);
    requestsServed = 0;
    const redirected = await within(5000, call(client, 'kimi_chat', { prompt: 'x', images: [`http://127.0.0.1:${port}/redirect`] }));
    expect(textOf(redirected)).toMatch(/redirected to http:\/\/localhost:\d+\/endless\.png.*plain http only to the hosts in KIMI_MCP_IMAGE_HOSTS/);
    expect(requestsServed).toBe(1); // the redirect, never its target
    expect(chatRequests()).toBe(before);
  });
});

describe('messages items', () => {
  it('an unknown key, however deep its value, is refused by name with nothing sent', async () => {
    const client = await kimi();
    const before = chatRequests();
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { k: deep };
    const r = await call(client, 'kimi_chat', { messages: [{ role: 'user', content: 'hi', metadata: deep }] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/messages\[0\] has an unknown key "metadata"; a message has role, content/);
    expect(textOf(r)).not.toMatch(/RunAPI|call stack/);
    const shallow = await call(client, 'kimi_chat', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache: true }] }] });
    expect(textOf(shallow)).toMatch(/messages\[0\]\.content\[0\] has an unknown key "cache"/);
    const toolCall = await call(client, 'kimi_chat', {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] },
      ],
    });
    expect(textOf(toolCall)).toMatch(/messages\[1\]\.tool_calls\[0\]\.function\.arguments: .*string/);
    expect(chatRequests()).toBe(before);
  });

  it('estimate_cost checks messages the same way', async () => {
    const client = await kimi();
    const r = await call(client, 'estimate_cost', { messages: [{ role: 'user', content: 'hi', temperature: 2 }] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/messages\[0\] has an unknown key "temperature"/);
  });
});
