/**
 * Kimi's edits, in memory only: the overlay is the text each edited file would have. Nothing
 * here touches disk. At the end it becomes one unified diff (jsdiff, git-style `a/` `b/` paths
 * relative to the first root, so `git apply` takes it) against each file as it is on disk then,
 * and the diff text is checked to apply cleanly to that content before it is handed over.
 *
 * A file that changed on disk during the run: Kimi's edits (base → overlay) are carried over onto
 * its current content when they still fit, so the user's own change survives; when they do not,
 * the hunks replace the current content with Kimi's version, and a note says which happened.
 */
import { applyPatch, formatPatch, parsePatch, structuredPatch } from 'diff';
import type { StructuredPatch } from 'diff';

/** A file the overlay holds: `real` keys it, `shown` names it to Kimi, `patchPath` in the diff (relative to the first root, `/` separated). */
export interface OverlayFile {
  real: string;
  shown: string;
  patchPath: string;
}

interface Entry {
  file: OverlayFile;
  /** The disk text the first edit applied to; undefined when Kimi created the file. */
  base: string | undefined;
  text: string;
}

/** The file as it is on disk at the end: its text, absent, or why it cannot be diffed. */
export type DiskNow = { text: string | undefined } | { unreadable: string };

export interface Proposal {
  /** One unified diff for every changed file, '' when nothing changed. */
  patch: string;
  changed_files: string[];
  /** What the user should know about the patch (files changed on disk meanwhile, files left out). */
  notes: string[];
}

/** Unified diff context, as git writes it. */
const CONTEXT_LINES = 3;
const NEW_FILE_MODE = '100644';

export class Overlay {
  private readonly entries = new Map<string, Entry>();

  /** The overlay text of the file at real path `real`, if Kimi changed or created it. */
  text(real: string): string | undefined {
    return this.entries.get(real)?.text;
  }

  /** `new` for a file Kimi created, `edited` for one it changed, undefined for one it left alone. */
  status(real: string): 'new' | 'edited' | undefined {
    const entry = this.entries.get(real);
    return entry && (entry.base === undefined ? 'new' : 'edited');
  }

  /** Sets a file's text; `base` (what it was on disk) is kept from the first edit only. */
  put(file: OverlayFile, base: string | undefined, text: string): void {
    const known = this.entries.get(file.real);
    this.entries.set(file.real, { file, base: known ? known.base : base, text });
  }

  /** Files Kimi created that do not exist on disk: listings and globs show them too. */
  created(): OverlayFile[] {
    return [...this.entries.values()].filter((e) => e.base === undefined).map((e) => e.file);
  }

  files(): OverlayFile[] {
    return [...this.entries.values()].map((e) => e.file);
  }

  /** The diff of the overlay against `diskNow` (each file's content at the end), checked to apply. */
  proposal(diskNow: ReadonlyMap<string, DiskNow>): Proposal {
    const patches: StructuredPatch[] = [];
    const notes: string[] = [];
    const expected = new Map<string, { source: string; target: string }>();
    for (const entry of this.entries.values()) {
      const disk = diskNow.get(entry.file.real) ?? { text: entry.base };
      if ('unreadable' in disk) {
        notes.push(`${entry.file.shown} is left out of the patch: on disk it is now ${disk.unreadable}.`);
        continue;
      }
      const { target, note } = rebase(entry, disk.text);
      if (note) notes.push(note);
      if (target === disk.text) continue;
      patches.push(filePatch(entry.file.patchPath, disk.text, target));
      expected.set(entry.file.patchPath, { source: disk.text ?? '', target });
    }
    const patch = patches.length ? formatPatch(patches) : '';
    checkApplies(patch, expected);
    return { patch, changed_files: patches.map((p) => p.newFileName!.slice(2)), notes };
  }
}

/** What the file should become: the overlay, or Kimi's edits carried onto content that changed meanwhile. */
function rebase(entry: Entry, disk: string | undefined): { target: string; note?: string } {
  if (disk === entry.base) return { target: entry.text };
  const { shown } = entry.file;
  if (disk === undefined) return { target: entry.text, note: `${shown} was deleted on disk during the run; the patch creates it again with Kimi's version.` };
  if (entry.base === undefined) return { target: entry.text, note: `${shown} was created on disk during the run; the patch replaces its content with the file Kimi wrote.` };
  const carried = applyPatch(disk, structuredPatch('', '', entry.base, entry.text, undefined, undefined, { context: CONTEXT_LINES }));
  if (carried !== false) return { target: carried, note: `${shown} changed on disk during the run; the patch is made against it as it is now, with Kimi's edits carried over.` };
  return { target: entry.text, note: `${shown} changed on disk during the run and Kimi's edits no longer fit it; the patch is made against it as it is now and replaces that content with Kimi's version: review it before applying.` };
}

function filePatch(path: string, disk: string | undefined, target: string): StructuredPatch {
  const created = disk === undefined;
  const patch = structuredPatch(created ? '/dev/null' : `a/${path}`, `b/${path}`, disk ?? '', target, undefined, undefined, { context: CONTEXT_LINES });
  return { ...patch, isGit: true, ...(created && { isCreate: true, newMode: NEW_FILE_MODE }) };
}

/** Every file's diff, parsed back from the text handed over, must turn its disk content into the target. */
function checkApplies(patch: string, expected: ReadonlyMap<string, { source: string; target: string }>): void {
  if (!patch) return;
  for (const parsed of parsePatch(patch)) {
    const path = parsed.newFileName!.slice(2);
    const file = expected.get(path);
    if (file === undefined || applyPatch(file.source, parsed) !== file.target) {
      throw new Error(`The patch for ${path} does not apply to the file as it is on disk; this is a bug in kimi-mcp.`);
    }
  }
}
