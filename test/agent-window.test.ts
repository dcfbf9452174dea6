/** kimi_agent near a full context window: the oldest tool outputs give way first, never the task. */
import { describe, expect, it } from 'vitest';
import { fitWindow, requestTokens } from '../src/agent/loop-messages.js';
import type { ChatMessage } from '../src/kimi/messages.js';

const output = (n: number) => `line ${n}: ${'export const value = compute(options);\n'.repeat(200)}`;

function session(): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You explore the project with read-only tools.' },
    { role: 'user', content: 'Why does the HTTP server drop the session on reconnect?' },
  ];
  for (let i = 1; i <= 4; i++) {
    messages.push({ role: 'assistant', content: '', reasoning_content: '', tool_calls: [{ id: `read_${i}`, type: 'function', function: { name: 'read', arguments: `{"path":"src/f${i}.ts"}` } }] });
    messages.push({ role: 'tool', tool_call_id: `read_${i}`, name: 'read', content: output(i) });
  }
  return messages;
}

describe('fitting the window', () => {
  it('shortens the oldest tool outputs first, just enough, and keeps the system prompt, the task and every call', () => {
    const messages = session();
    const full = requestTokens(messages, []);
    const oneOutput = requestTokens(messages, []) - requestTokens(messages.slice(0, -1), []);
    // Room for all but about two outputs.
    expect(fitWindow(messages, [], full - Math.round(1.5 * oneOutput))).toBe(true);
    const tools = messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
    expect(tools.slice(0, 2).every((t) => t.startsWith('[output shortened'))).toBe(true);
    expect(tools.slice(2)).toEqual([output(3), output(4)]);
    expect(messages[0]!.content).toBe('You explore the project with read-only tools.');
    expect(messages[1]!.content).toBe('Why does the HTTP server drop the session on reconnect?');
    expect(messages.filter((m) => m.role === 'assistant').every((m) => Array.isArray(m.tool_calls))).toBe(true);
  });

  it('says so when even without tool outputs the request cannot fit', () => {
    const messages = session();
    expect(fitWindow(messages, [], 50)).toBe(false);
    expect(messages[1]!.content).toBe('Why does the HTTP server drop the session on reconnect?');
  });
});
