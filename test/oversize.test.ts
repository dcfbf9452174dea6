/**
 * A message over the 10 MB limit is refused with its own id wherever the id stands in the line:
 * the SDK's client writes "id" last, after the huge params (issue 17 #9), so an answer with
 * "id": null would leave that client waiting for its timeout.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { idAtEnd, LineSplitter, oversizeAnswer } from '../src/transport/jsonrpc.js';
import { CLI } from './helpers/run-cli.js';

const huge = (id: number | string, idFirst: boolean) => {
  const params = { name: 'kimi_chat', arguments: { prompt: 'x'.repeat(11 * 1024 * 1024) } };
  return JSON.stringify(idFirst ? { jsonrpc: '2.0', id, method: 'tools/call', params } : { method: 'tools/call', params, jsonrpc: '2.0', id });
};

describe('the id of an oversized message', () => {
  it('is read from the end of the line, and only at the top level', () => {
    expect(idAtEnd('…"}]}},"jsonrpc":"2.0","id":5}')).toBe(5);
    expect(idAtEnd('…"id":"a\\"b"}\n')).toBe('a"b');
    expect(idAtEnd('…"id":7,"method":"tools/call"}')).toBe(7);
    // The last member of a nested object is not the message's id.
    expect(idAtEnd('…{"arguments":{"id":3}}')).toBeNull();
    expect(idAtEnd('…"id":7,"params":{}}')).toBeNull();
  });

  it.each([
    ['first', true],
    ['last', false],
  ])('is recovered when it stands %s, however the line arrives in chunks', (_where, idFirst) => {
    const lines = new LineSplitter();
    const text = huge(42, idFirst);
    for (let i = 0; i < text.length; i += 200_000) lines.push(Buffer.from(text.slice(i, i + 200_000)));
    lines.push(Buffer.from('\n'));
    const line = lines.next()!;
    expect('oversize' in line && oversizeAnswer(line).id).toBe(42);
  });

  it.each([
    ['on the start-up path', {}],
    ['on the full server', { KIMI_MCP_FAST_START: '0' }],
  ])('is in the -32600 answer over stdio %s', async (_path, env) => {
    const child = spawn(process.execPath, [CLI], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const answered = new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('"id":"late"') && resolve()));
    child.stdin.write(`${huge('late', false)}\n`);
    await answered;
    child.stdin.end();
    const answer = JSON.parse(out.split('\n')[0]!) as { id: unknown; error: { code: number; message: string } };
    expect(answer.id).toBe('late');
    expect(answer.error.code).toBe(-32600);
    expect(answer.error.message).toContain('the limit is 10.0 MB');
  });
});
