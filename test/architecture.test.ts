/** The rooms of src/ import downwards only (docs/architecture.md): a wrong-way import fails here, not in review. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/mcp.js';

const SRC = join(ROOT, 'src');
/** What each room may import besides itself and the shared top-level files (log, env, errors, once, version). */
const MAY_IMPORT: Record<string, string[]> = {
  cli: ['http', 'mcp', 'review', 'jobs', 'agent', 'startup', 'install', 'commands', 'kimi', 'catalog', 'state', 'transport', 'simulator'],
  http: ['mcp', 'agent', 'kimi', 'catalog', 'transport'],
  mcp: ['review', 'jobs', 'agent', 'commands', 'kimi', 'catalog', 'state', 'transport'],
  review: ['agent', 'kimi', 'catalog', 'state'],
  jobs: ['state'],
  agent: ['kimi', 'catalog', 'state'],
  startup: ['catalog', 'transport'],
  install: ['commands', 'kimi', 'state'],
  commands: [],
  kimi: ['catalog', 'state'],
  simulator: [],
  catalog: [],
  state: [],
  transport: [],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Rooms this file imports from (static and dynamic imports of our own modules). */
function importedRooms(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((s) => relative(SRC, join(file, '..', s)).split('/')).filter((parts) => parts.length > 1).map((parts) => parts[0]!);
}

describe('src/ rooms', () => {
  it.each(Object.keys(MAY_IMPORT))('%s imports only from the rooms below it', (room) => {
    const wrong = sources(join(SRC, room)).flatMap((file) =>
      importedRooms(file)
        .filter((r) => r !== room && !MAY_IMPORT[room]!.includes(r))
        .map((r) => `${relative(ROOT, file)} imports src/${r}`),
    );
    expect(wrong).toEqual([]);
  });

  it('has no room the table does not know', () => {
    const rooms = readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(rooms.sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });
});
