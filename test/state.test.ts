/** The state folder, crash- and concurrency-safe JSONL files, and stored conversations. */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConversationStore, transcript } from '../src/state/conversations.js';
import type { Turn } from '../src/state/conversations.js';
import { stateDir } from '../src/state/dir.js';
import { appendRecord, readRecords } from '../src/state/jsonl.js';
import { tempDir } from './helpers/temp.js';
import { runTogether } from './helpers/together.js';
import { underUmask } from './helpers/umask.js';

const temp = () => tempDir('kimi-state-unit-');
underUmask();

const mode = (path: string) => statSync(path).mode & 0o777;
const turn = (text: string, extra: Partial<Turn> = {}): Turn => ({
  at: '2025-01-02T03:04:05.000Z', model: 'kimi-k2.6', provider: 'runapi',
  messages: [{ role: 'user', content: text }], reply: { content: `re: ${text}` }, ...extra,
});

describe('stateDir', () => {
  const home = '/home/ada';
  it('KIMI_MCP_STATE_DIR wins on every platform', () => {
    expect(stateDir({ KIMI_MCP_STATE_DIR: '/srv/kimi', XDG_STATE_HOME: '/x' }, 'linux', home)).toBe('/srv/kimi');
    expect(stateDir({ KIMI_MCP_STATE_DIR: 'D:\\kimi', LOCALAPPDATA: 'C:\\L' }, 'win32', 'C:\\Users\\ada')).toBe('D:\\kimi');
  });
  it('an unexpanded placeholder or an empty value counts as unset', () => {
    for (const value of ['${KIMI_MCP_STATE_DIR}', '$KIMI_MCP_STATE_DIR', '', '  ']) {
      expect(stateDir({ KIMI_MCP_STATE_DIR: value }, 'linux', home)).toBe('/home/ada/.local/state/kimi-mcp');
    }
  });
  it('XDG_STATE_HOME when absolute, ignored when relative (as the XDG spec says)', () => {
    expect(stateDir({ XDG_STATE_HOME: '/var/state' }, 'linux', home)).toBe('/var/state/kimi-mcp');
    expect(stateDir({ XDG_STATE_HOME: 'rel/state' }, 'darwin', home)).toBe('/home/ada/.local/state/kimi-mcp');
  });
  it('defaults to ~/.local/state/kimi-mcp on Linux and macOS', () => {
    expect(stateDir({}, 'linux', home)).toBe('/home/ada/.local/state/kimi-mcp');
    expect(stateDir({}, 'darwin', '/Users/ada')).toBe('/Users/ada/.local/state/kimi-mcp');
  });
  it('Windows: %LOCALAPPDATA%\\kimi-mcp, else <home>\\AppData\\Local\\kimi-mcp; XDG is not consulted', () => {
    expect(stateDir({ LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local', XDG_STATE_HOME: '/x' }, 'win32', 'C:\\Users\\ada')).toBe('C:\\Users\\ada\\AppData\\Local\\kimi-mcp');
    expect(stateDir({}, 'win32', 'C:\\Users\\ada')).toBe('C:\\Users\\ada\\AppData\\Local\\kimi-mcp');
  });
});

describe('jsonl', () => {
  it('creates missing folders 0700 and the file 0600, one line per record', async () => {
    const root = temp();
    const file = join(root, 'a', 'b', 'log.jsonl');
    await appendRecord(file, { n: 1, text: 'line\nbreak' });
    await appendRecord(file, [2]);
    expect(mode(join(root, 'a'))).toBe(0o700);
    expect(mode(join(root, 'a', 'b'))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(3);
    expect(await readRecords(file)).toEqual({ records: [{ n: 1, text: 'line\nbreak' }, [2]], torn: 0 });
  });

  it('sets the folder mode exactly even under a umask that would strip it', async () => {
    process.umask(0o277);
    const dir = join(temp(), 'strict');
    await appendRecord(join(dir, 'f.jsonl'), {});
    expect(mode(dir)).toBe(0o700);
  });

  it('a torn last line is skipped and counted, and the next append starts a line of its own', async () => {
    const file = join(temp(), 'torn.jsonl');
    await appendRecord(file, { n: 1 });
    appendFileSync(file, '{"n":2,"text":"cut sho'); // a crash mid-write
    expect(await readRecords(file)).toEqual({ records: [{ n: 1 }], torn: 1 });
    await appendRecord(file, { n: 3 });
    await appendRecord(file, { n: 4 });
    expect(await readRecords(file)).toEqual({ records: [{ n: 1 }, { n: 3 }, { n: 4 }], torn: 1 });
  });

  it('a last line that lost only its newline still counts, and stays separate from the next', async () => {
    const file = join(temp(), 'nonl.jsonl');
    writeFileSync(file, '{"n":1}');
    await appendRecord(file, { n: 2 });
    expect(await readRecords(file)).toEqual({ records: [{ n: 1 }, { n: 2 }], torn: 0 });
  });

  it('a record with no JSON form fails before touching the file', async () => {
    const file = join(temp(), 'bad.jsonl');
    await appendRecord(file, { n: 1 });
    await expect(appendRecord(file, { n: 1n })).rejects.toThrow(TypeError);
    await expect(appendRecord(file, undefined)).rejects.toThrow(/no JSON form/);
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n');
  });

  it('a missing file rejects with ENOENT', async () => {
    await expect(readRecords(join(temp(), 'none.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('many appends in flight at once in one process all land whole', async () => {
    const file = join(temp(), 'many.jsonl');
    await Promise.all(Array.from({ length: 100 }, (_, i) => appendRecord(file, { i, pad: 'y'.repeat(5000) })));
    const { records, torn } = await readRecords<{ i: number }>(file);
    expect(torn).toBe(0);
    expect(records.map((r) => r.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('ConversationStore', () => {
  const id = () => ConversationStore.newId();

  it('newId is a fresh lowercase UUID', () => {
    const ids = new Set(Array.from({ length: 100 }, id));
    expect(ids.size).toBe(100);
    for (const i of ids) expect(i).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('appends turns to <folder>/<id>.jsonl (0600 in a 0700 folder) and loads them as stored', async () => {
    const folder = join(temp(), 'state', 'conversations');
    const store = new ConversationStore(folder);
    const c = id();
    const first = turn('one', { messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: [{ type: 'text', text: 'one' }], name: 'ada' }] });
    const second = turn('two', { partial: true, reply: { content: 'half', reasoning: 'hmm' } });
    await store.append(c, first);
    await store.append(c, second);
    expect(mode(folder)).toBe(0o700);
    expect(mode(join(folder, '..'))).toBe(0o700);
    expect(mode(join(folder, `${c}.jsonl`))).toBe(0o600);
    expect(readFileSync(join(folder, `${c}.jsonl`), 'utf8').split('\n')[0]).toMatch(/^\{"v":1,/);
    expect(await store.load(c)).toEqual({ turns: [first, second], torn: 0 });
  });

  it('refuses ids that are not conversation ids, before any path is built', async () => {
    const root = temp();
    const folder = join(root, 'conversations');
    const store = new ConversationStore(folder);
    const good = id();
    const bad = ['../../etc/passwd', 'a/b', '', 'x'.repeat(100_000), `${good}\0`, `\0${good}`, good.toUpperCase(), `${good}\n`, `${good}.jsonl`, `../${good}`, `${good.slice(0, -1)}/`];
    for (const b of bad) {
      await expect(store.load(b)).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/is not a conversation id; pass the conversation_id/) });
      await expect(store.append(b, turn('x'))).rejects.toMatchObject({ name: 'UsageError' });
    }
    // The message stays short even for a huge id.
    await store.load('x'.repeat(100_000)).catch((e: Error) => expect(e.message.length).toBeLessThan(250));
    expect(existsSync(folder)).toBe(false);
  });

  it('an unknown id is a UsageError that mentions expiry', async () => {
    const store = new ConversationStore(temp());
    await expect(store.load(id())).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/^No conversation .*KIMI_MCP_KEEP_DAYS/) });
  });

  it('skips and counts a torn line and lines that are not turns; appending after them still works', async () => {
    const folder = temp();
    const store = new ConversationStore(folder);
    const c = id();
    await store.append(c, turn('one'));
    appendFileSync(join(folder, `${c}.jsonl`), '{"v":1,"at":"2025-01-0'); // a crash mid-write
    await store.append(c, turn('two'));
    appendFileSync(join(folder, `${c}.jsonl`), '{"v":1,"note":"not a turn"}\n');
    const { turns, torn } = await store.load(c);
    expect(turns.map((t) => t.reply.content)).toEqual(['re: one', 're: two']);
    expect(torn).toBe(2);
  });

  it('lists conversations newest first, at most limit, ignoring other files', async () => {
    const folder = temp();
    const store = new ConversationStore(folder);
    expect(await new ConversationStore(join(folder, 'missing')).list()).toEqual([]);
    const ids = [id(), id(), id()];
    for (const [i, c] of ids.entries()) {
      await store.append(c, turn(String(i)));
      const t = new Date(Date.UTC(2025, 0, 1 + i));
      utimesSync(join(folder, `${c}.jsonl`), t, t);
    }
    writeFileSync(join(folder, 'notes.txt'), '');
    writeFileSync(join(folder, 'not-an-id.jsonl'), '');
    expect(await store.list()).toEqual([
      { id: ids[2], updated: '2025-01-03T00:00:00.000Z' },
      { id: ids[1], updated: '2025-01-02T00:00:00.000Z' },
      { id: ids[0], updated: '2025-01-01T00:00:00.000Z' },
    ]);
    expect((await store.list(2)).map((c) => c.id)).toEqual([ids[2], ids[1]]);
  });

  it('removeOlderThan removes only conversations untouched for more than `days` days', async () => {
    const folder = temp();
    const store = new ConversationStore(folder);
    const now = Date.now();
    const [old, recent, fresh] = [id(), id(), id()];
    for (const c of [old, recent, fresh]) await store.append(c, turn(c));
    const age = (c: string, days: number) => utimesSync(join(folder, `${c}.jsonl`), new Date(now - days * 86_400_000), new Date(now - days * 86_400_000));
    age(old, 10);
    age(recent, 6.99);
    const stranger = join(folder, 'keep-me.jsonl');
    writeFileSync(stranger, '');
    utimesSync(stranger, new Date(0), new Date(0));
    expect(await store.removeOlderThan(0, now)).toBe(0);
    expect(await store.removeOlderThan(-1, now)).toBe(0);
    expect(await store.removeOlderThan(7, now)).toBe(1);
    expect([old, recent, fresh].map((c) => existsSync(join(folder, `${c}.jsonl`)))).toEqual([false, true, true]);
    expect(existsSync(stranger)).toBe(true);
    expect(await store.removeOlderThan(1, now)).toBe(1);
    expect(await store.load(fresh)).toMatchObject({ torn: 0 });
  });

  it('removeOlderThan never throws: a missing folder is 0, an unreadable one is logged', async () => {
    const root = temp();
    expect(await new ConversationStore(join(root, 'missing')).removeOlderThan(1)).toBe(0);
    writeFileSync(join(root, 'file'), '');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await new ConversationStore(join(root, 'file')).removeOlderThan(1)).toBe(0);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/could not prune conversations.*ENOTDIR/s);
    } finally {
      stderr.mockRestore();
    }
  });
});

describe('two processes appending to the same conversation at once', () => {
  it('keeps every turn from both, every line whole (2 × 200 turns of ~20 KB)', async () => {
    const folder = join(temp(), 'conversations');
    mkdirSync(folder);
    const c = ConversationStore.newId();
    const exits = await runTogether('src/state/conversations.ts', `
      const [folder, id] = args;
      const store = new module.ConversationStore(folder);
      const pad = tag.repeat(20_000);
      for (let i = 0; i < 200; i++) {
        await store.append(id, { at: new Date().toISOString(), model: 'kimi-k2.6', provider: 'runapi', messages: [{ role: 'user', content: tag + ' ' + i + ' ' + pad }], reply: { content: tag + '-' + i } });
      }`, [folder, c]);
    expect(exits).toEqual([0, 0]);

    const text = readFileSync(join(folder, `${c}.jsonl`), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    // Empty lines are allowed: an append that saw the other's write in progress starts with "\n".
    const lines = text.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(400);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const { turns, torn } = await new ConversationStore(folder).load(c);
    expect(torn).toBe(0);
    const replies = new Set(turns.map((t) => t.reply.content));
    for (const tag of ['A', 'B']) for (let i = 0; i < 200; i++) expect(replies.has(`${tag}-${i}`)).toBe(true);
    for (const t of turns) expect(t.messages[0]!.content).toBe(`${t.reply.content.replace('-', ' ')} ${t.reply.content[0]!.repeat(20_000)}`);
  }, 60_000);
});

describe('transcript', () => {
  it('shows each turn with time, model@provider, messages and reply, partial turns marked', () => {
    const turns: Turn[] = [
      turn('x', { messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: [{ type: 'text', text: '# Not a heading\nsee ```code```' }, { type: 'image_url', image_url: { url: 'data:…' } }] }], reply: { content: 'First.', reasoning: 'secret thoughts' } }),
      turn('Go on.', { at: '2025-01-02T04:00:00.000Z', model: 'kimi-k2.5', provider: 'moonshot', partial: true, reply: { content: 'Half' } }),
    ];
    const md = transcript('0b8e2c2a-6f1e-4d7a-9c3b-1a2b3c4d5e6f', turns);
    expect(md).toMatch(/^# Kimi conversation 0b8e2c2a-6f1e-4d7a-9c3b-1a2b3c4d5e6f\n/);
    expect(md).toContain('## Turn 1: 2025-01-02T03:04:05.000Z, kimi-k2.6@runapi');
    expect(md).toContain('## Turn 2: 2025-01-02T04:00:00.000Z, kimi-k2.5@moonshot');
    expect(md).toContain('**System**\n\n> Be terse.');
    expect(md).toContain('> # Not a heading\n> see ```code```\n>\n> [image_url]');
    expect(md).toContain('**Kimi**\n\n> First.');
    expect(md).toContain('**Kimi** (partial: the stream broke, this is what arrived)\n\n> Half');
    expect(md).not.toMatch(/^# Not a heading/m);
    expect(transcript('0b8e2c2a-6f1e-4d7a-9c3b-1a2b3c4d5e6f', [])).toContain('0 turn(s).');
  });
});
