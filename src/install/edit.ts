/**
 * Our entry in an agent's config file, set or removed, as the file's new text. A byte-order mark
 * is kept aside and put back, each format's editor keeps every byte that is not ours, and the
 * result is read back before anything is written: a file we cannot edit safely is refused.
 */
import { UsageError } from '../kimi/errors.js';
import { SERVER_NAME } from './agents.js';
import type { Agent, InstallContext } from './agents.js';
import { remove, upsert, valueAt } from './jsonc.js';
import type { Select } from './jsonc.js';
import { BY_HAND, sameData, splitBom } from './text.js';
import { checkToml, readToml, removeTomlTable, setTomlTable } from './toml.js';

type Json = Record<string, unknown>;

/**
 * The file with our entry set to `entry` (removed when it is undefined): its new text, `before`
 * itself when nothing changes, or null when nothing would be left of it.
 */
export function editConfig(agent: Agent, ctx: InstallContext, file: string, before: string | null, entry: Json | undefined): string | null {
  const [bom, body] = splitBom(before ?? '');
  const after = agent.format === 'toml' ? editToml(agent, file, body, entry) : editJson(agent, ctx, file, body, entry);
  if (after === body) return before;
  return after.trim() === '' ? null : bom + after;
}

function editToml(agent: Agent, file: string, text: string, entry: Json | undefined): string {
  const before = readToml(text, file);
  const after = entry ? setTomlTable(text, agent.container, entry) : removeTomlTable(text, agent.container);
  checkToml(file, before, after, agent.container, entry);
  return after;
}

const ours: Select = (key) => key === SERVER_NAME;

function editJson(agent: Agent, ctx: InstallContext, file: string, text: string, entry: Json | undefined): string {
  let after = entry ? upsert(text, file, agent.container, ours, SERVER_NAME, entry) : remove(text, file, agent.container, ours);
  const extras = agent.extras?.(ctx);
  if (extras) {
    const match: Select = (_key, value) => extras.match(value);
    after = entry && extras.item ? upsert(after, file, [extras.key], match, undefined, extras.item) : remove(after, file, [extras.key], match);
  }
  checkJson(file, text, after, [...agent.container, SERVER_NAME], entry);
  return after;
}

const isStrictJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** A last look before writing: the text parses, holds exactly our entry (or none), and strict JSON stays strict. */
function checkJson(file: string, before: string, after: string, path: string[], entry: Json | undefined): void {
  if (after === '') return; // nothing is left: the file goes
  let problem: string | undefined;
  try {
    if (!sameData(valueAt(after, file, path), entry)) problem = entry ? 'would not read back as written' : 'would leave it in place';
  } catch {
    problem = 'would not parse';
  }
  if (!problem && isStrictJson(before) && !isStrictJson(after)) problem = 'would not be strict JSON any more';
  if (problem) {
    throw new UsageError(`${entry ? 'Adding' : 'Removing'} the "${SERVER_NAME}" entry ${entry ? 'to' : 'from'} ${file} ${problem}, so the file was left untouched; ${BY_HAND}.`);
  }
}
