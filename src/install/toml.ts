/**
 * Codex's config.toml, edited as lines so that every line outside our table (comments, blank
 * lines, the user's layout) keeps its bytes, and removing our table undoes adding it exactly.
 * Line edits can be fooled (a header-like line inside a multi-line string, our table also written
 * as an inline table), so smol-toml reads every result back before anything is written.
 */
import { parse, TomlError } from 'smol-toml';
import { UsageError } from '../kimi/errors.js';
import { BY_HAND, lineEnding, sameData } from './text.js';

type Table = Record<string, unknown>;

const tomlValue = (v: unknown): string => (Array.isArray(v) ? `[${v.map(tomlValue).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Our table as TOML lines: scalars and arrays first, then sub-tables such as `.env`. */
export function renderToml(table: string[], entry: Table, eol = '\n'): string {
  const name = table.join('.');
  const lines = [`[${name}]`];
  const subTables: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      subTables.push('', `[${name}.${key}]`, ...Object.entries(value as Table).map(([k, v]) => `${JSON.stringify(k)} = ${tomlValue(v)}`));
    } else lines.push(`${key} = ${tomlValue(value)}`);
  }
  return [...lines, ...subTables].join(eol);
}

/** Lines with their line endings, so that joining them gives the text back. */
const splitLines = (text: string): string[] => text.split(/(?<=\n)/).filter(Boolean);
const content = (line: string): string => line.replace(/\r?\n$/, '');
const isBlank = (line: string | undefined): boolean => line !== undefined && content(line).trim() === '';

/** The keys of a `[table]` or `[[table]]` header line (quoted keys may hold dots and brackets); undefined for any other line. */
function headerKeys(line: string): string[] | undefined {
  const name = /^\s*\[\[?((?:[^\]"']|"(?:[^"\\]|\\.)*"|'[^']*')*)\]\]?\s*(#.*)?$/.exec(content(line))?.[1];
  return name === undefined ? undefined : [...name.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s."']+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const isOurHeader = (line: string, table: string[]): boolean => {
  const keys = headerKeys(line);
  return keys !== undefined && table.every((key, i) => keys[i] === key);
};

/**
 * Line ranges [from, to) of our table with its sub-tables, up to the next table; blank and
 * comment lines at the end are left out, as they belong to what follows.
 */
function ourBlocks(lines: string[], table: string[]): { from: number; to: number }[] {
  const blocks = [];
  for (let from = 0; from < lines.length; ) {
    if (!isOurHeader(lines[from]!, table)) {
      from++;
      continue;
    }
    let next = from + 1;
    while (next < lines.length && (!headerKeys(lines[next]!) || isOurHeader(lines[next]!, table))) next++;
    let to = next;
    while (/^\s*(#.*)?$/.test(content(lines[to - 1]!))) to--;
    blocks.push({ from, to });
    from = next;
  }
  return blocks;
}

/** Takes a block's lines out of `lines`; at the end of the file, the separator `setTomlTable` added goes too. */
function dropBlock(lines: string[], { from, to }: { from: number; to: number }): void {
  const atEnd = to === lines.length;
  const endedWithBreak = lines[to - 1]!.endsWith('\n');
  lines.splice(from, to - from);
  if (!atEnd) {
    if (isBlank(lines[from - 1]) && isBlank(lines[from])) lines.splice(from, 1);
    return;
  }
  if (isBlank(lines[from - 1])) lines.splice(--from, 1);
  if (!endedWithBreak && from > 0) lines[from - 1] = content(lines[from - 1]!);
}

/**
 * Writes our table: where it already is (other copies of it go), or else at the end after a
 * blank line, ending as the file did (with or without a final line break).
 */
export function setTomlTable(text: string, table: string[], entry: Table): string {
  const eol = lineEnding(text);
  const rendered = renderToml(table, entry, eol);
  const lines = splitLines(text);
  const blocks = ourBlocks(lines, table);
  if (!blocks.length) {
    if (text === '') return `${rendered}${eol}`;
    return text.endsWith('\n') ? `${text}${eol}${rendered}${eol}` : `${text}${eol}${eol}${rendered}`;
  }
  const [first, ...others] = blocks;
  for (const block of others.reverse()) dropBlock(lines, block);
  const endsWithBreak = lines[first!.to - 1]!.endsWith('\n');
  lines.splice(first!.from, first!.to - first!.from, `${rendered}${endsWithBreak ? eol : ''}`);
  return lines.join('');
}

/** Removes our table and its sub-tables, leaving every other line as it was. */
export function removeTomlTable(text: string, table: string[]): string {
  const lines = splitLines(text);
  for (const block of ourBlocks(lines, table).reverse()) dropBlock(lines, block);
  return lines.join('');
}

const reason = (e: TomlError): string => e.message.replace(/^Invalid TOML document: /, '').split('\n')[0]!;

/** The parsed file; a file that is not TOML is refused with the parser's line. */
export function readToml(text: string, file: string): Table {
  try {
    return parse(text);
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    throw new UsageError(`${file} is not valid TOML (line ${e.line}, column ${e.column}: ${reason(e)}), so it was left untouched. Fix it and run again, or ${BY_HAND}.`);
  }
}

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** A plain copy without our table, nor the parents it leaves empty (it may have created them). */
function withoutOurs(doc: Table, table: string[]): Table {
  const copy = structuredClone(doc);
  const chain = [copy];
  for (const key of table.slice(0, -1)) {
    const next = chain.at(-1)![key];
    if (!isTable(next)) return copy;
    chain.push(next);
  }
  delete chain.at(-1)![table.at(-1)!];
  for (let i = chain.length - 1; i > 0 && Object.keys(chain[i]!).length === 0; i--) delete chain[i - 1]![table[i - 1]!];
  return copy;
}

/** Dotted names of every table in a document. */
function tableNames(doc: Table, prefix = ''): string[] {
  return Object.entries(doc).flatMap(([key, value]) => (isTable(value) ? [`${prefix}${key}`, ...tableNames(value, `${prefix}${key}.`)] : []));
}

/**
 * Reads an edit back before it is written: it parses, our table holds exactly `entry` (or is
 * gone when `entry` is undefined), and every other table and value is what it was (`before`,
 * from `readToml`).
 */
export function checkToml(file: string, before: Table, after: string, table: string[], entry: Table | undefined): void {
  const name = `[${table.join('.')}]`;
  const refuse = (why: string) =>
    new UsageError(`${entry ? `Adding ${name} to` : `Removing ${name} from`} ${file} ${why}, so the file was left untouched; ${BY_HAND}.`);
  const elsewhere = `${table.at(-1)} is probably also written another way there (an inline table or dotted keys)`;
  let parsed: Table;
  try {
    parsed = parse(after);
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    throw refuse(`would not give valid TOML (line ${e.line}: ${reason(e)}); ${elsewhere}`);
  }
  const ours = table.reduce<unknown>((node, key) => (isTable(node) ? node[key] : undefined), parsed);
  if (!sameData(ours, entry)) throw refuse(`${entry ? 'would not read back as written' : 'would leave it in place'}; ${elsewhere}`);
  const was = withoutOurs(before, table);
  const is = withoutOurs(parsed, table);
  const lost = tableNames(was).filter((t) => !tableNames(is).includes(t));
  if (lost.length) throw refuse(`would lose [${lost.join('], [')}]`);
  if (!sameData(was, is)) throw refuse('would change settings outside it');
}
