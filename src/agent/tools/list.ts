/**
 * `list`: one folder, one level (folders end in `/`), or the files a glob names. What a glob in
 * `files` leaves out is left out here too: .gitignore'd entries, node_modules/ and .git/. Files
 * Kimi created or edited in the overlay are listed and marked.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import * as z from 'zod';
import { UsageError } from '../../errors.js';
import { isInside, realPathIfExists, rootOf } from '../../kimi/files/roots.js';
import { isGlob } from '../../kimi/files/spec.js';
import { compare, findFiles } from '../find.js';
import { counted, defineAgentTool } from '../tool.js';
import type { Workspace, WorkspaceFile } from '../workspace.js';

export const MAX_LIST_ENTRIES = 500;
const NEVER_LISTED = new Set(['.git', 'node_modules']);

/** An entry of a folder listing: its name (`/` after a folder) and, when it cannot be read, why. */
type Entry = { name: string; note?: string };

async function entryOf(workspace: Workspace, folder: WorkspaceFile, name: string, kind: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): Promise<Entry | undefined> {
  const rel = folder.rel ? `${folder.rel}/${name}` : name;
  const ignored = (isFolder: boolean) => workspace.gitignore(folder.root).ignores(isFolder ? `${rel}/` : rel);
  if (kind.isDirectory()) return (await ignored(true)) ? undefined : { name: `${name}/` };
  if (kind.isFile()) return (await ignored(false)) ? undefined : withStatus(workspace, name, join(folder.real, name));
  if (!kind.isSymbolicLink()) return (await ignored(false)) ? undefined : { name, note: 'not a regular file: not readable' };
  if (await ignored(false)) return undefined;
  const real = await realPathIfExists(join(folder.real, name));
  if (real === undefined) return { name, note: 'broken symlink' };
  if (!rootOf(real, workspace.roots)) return { name, note: 'symlink out of the project: not readable' };
  return (await stat(real)).isDirectory() ? { name: `${name}/` } : { name };
}

function withStatus(workspace: Workspace, name: string, real: string): Entry {
  const status = workspace.overlay.status(real);
  return status ? { name, note: status } : { name };
}

async function listFolder(workspace: Workspace, folder: WorkspaceFile): Promise<Entry[]> {
  let dirents: Dirent[] = [];
  let missing = false;
  try {
    dirents = await readdir(folder.real, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`${folder.shown} is a file; read it instead.`);
    if (code !== 'ENOENT') throw new UsageError(`Cannot list ${folder.shown}: ${code ?? (e as Error).message}.`);
    missing = true; // unless Kimi created files below it
  }
  const entries = (await Promise.all(dirents.filter((d) => !NEVER_LISTED.has(d.name)).map((d) => entryOf(workspace, folder, d.name, d)))).filter((e) => e !== undefined);
  // Files Kimi created: the file itself when it is in this folder, else the folder that leads to it.
  const names = new Set(entries.map((e) => e.name));
  for (const created of workspace.overlay.created()) {
    if (created.real === folder.real || !isInside(created.real, folder.real)) continue;
    const [first, ...rest] = posix.relative(folder.real, created.real).split('/');
    const name = rest.length ? `${first}/` : first!;
    if (!names.has(name)) entries.push({ name, ...(!rest.length && { note: 'new' }) });
    names.add(name);
  }
  if (folder.real === workspace.home.real) for (const root of workspace.roots.slice(1)) entries.push({ name: `${root.label}/`, note: `another project folder, ${root.given}` });
  if (missing && !entries.length) throw new UsageError(`${folder.shown} does not exist. List its parent folder, or use a glob such as "**/${posix.basename(folder.rel)}*".`);
  return entries.sort((a, b) => compare(a.name, b.name));
}

function render(heading: string, entries: readonly Entry[], narrower: string): string {
  const shown = entries.slice(0, MAX_LIST_ENTRIES).map((e) => (e.note ? `${e.name}  (${e.note})` : e.name));
  const cut = entries.length > MAX_LIST_ENTRIES ? [`[cut at ${MAX_LIST_ENTRIES} of ${entries.length} entries: ${narrower}]`] : [];
  return [heading, ...shown, ...cut].join('\n');
}

export const listTool = defineAgentTool({
  name: 'list',
  description: 'List a folder (one level; folders end in /) or the files a glob matches, e.g. "src/**/*.ts". .gitignore is respected.',
  input: z.object({ path: z.string().optional().describe('Folder or glob; default the project folder') }),
  modes: ['explore', 'propose'],
  async run({ path }, workspace) {
    const asked = path ?? '.';
    // The whole name first: a folder may be called `app/[id]`.
    const folder = await workspace.place(asked);
    if (!isGlob(asked) || (await workspace.exists(folder))) {
      const entries = await listFolder(workspace, folder);
      const name = folder.shown === '.' ? '.' : `${folder.shown}/`;
      return { output: render(`${name} (${counted(entries.length, 'entry', 'entries')}):`, entries, 'list a subfolder, or use a narrower glob'), step: `list ${name} → ${counted(entries.length, 'entry', 'entries')}` };
    }
    const { files, skipped } = await findFiles(workspace, asked);
    const entries: Entry[] = [
      ...files.map((f) => withStatus(workspace, f.shown, f.real)),
      ...skipped.map((s) => ({ name: s.path, note: `${s.reason}: not readable` })),
    ];
    return { output: render(`${asked} (${counted(files.length, 'file')}):`, entries, 'use a narrower glob'), step: `list ${asked} → ${counted(files.length, 'file')}` };
  },
});
