/**
 * The project as `kimi_agent`'s tools see it: the files inside the allowed roots, with Kimi's own
 * edits laid over them in memory (overlay.ts), and a record of what Kimi read.
 *
 * NOTHING IN src/agent WRITES TO DISK, RUNS A COMMAND OR REACHES THE NETWORK. Edits live in the
 * overlay and leave only as a patch for the user to review and apply. This is the guarantee users
 * choose kimi_agent for: keep it so.
 *
 * Every path Kimi names goes through the confinement `files` uses (src/kimi/files/roots.ts):
 * `..`, absolute paths outside the roots and symlinks leading out are refused with a UsageError,
 * which the loop hands back to Kimi as the tool's result. Globs go through the same glob and
 * .gitignore code as `files` (glob.ts, gitignore.ts).
 */
import { isAbsolute, join, posix, relative } from 'node:path';
import { UsageError } from '../errors.js';
import { GitignoreRules } from '../kimi/files/gitignore.js';
import { DEFAULT_MAX_FILE_BYTES } from '../kimi/files/limits.js';
import { confine, existingRoots, locate, pathFromUri, realPathIfExists, rootOf, shownPath, toPosix } from '../kimi/files/roots.js';
import type { AllowedFolders, Root } from '../kimi/files/roots.js';
import { ScanReader, contentHash, readDiskText } from './disk.js';
import type { DiskText } from './disk.js';
import { ReadLog } from './files-read.js';
import type { FileRead } from './files-read.js';
import { Overlay } from './overlay.js';
import type { DiskNow, OverlayFile, Proposal } from './overlay.js';

/** A file Kimi named, confined: it may exist on disk, in the overlay only, or not yet at all. */
export interface WorkspaceFile extends OverlayFile {
  root: Root;
  /** Relative to its root, `/` separated. */
  rel: string;
}

export interface WorkspaceOptions {
  /** Larger files are not read (KIMI_MCP_MAX_FILE_BYTES). */
  maxFileBytes?: number;
}

/** What a run leaves besides Kimi's answer. */
export interface Outcome extends Proposal {
  files_read: FileRead[];
  /** Files Kimi read or edited whose content on disk changed since. */
  changed_on_disk: string[];
}

export class Workspace {
  readonly overlay = new Overlay();
  readonly reads = new ReadLog();
  private readonly maxFileBytes: number;
  /** What each file read or edited was on disk when first seen (a fingerprint), to tell whether it changed since. */
  private readonly seen = new Map<string, { file: WorkspaceFile; was: string }>();
  private readonly gitignores = new Map<Root, GitignoreRules>();
  private readonly scanner = new ScanReader();

  private constructor(
    readonly roots: readonly Root[],
    options: WorkspaceOptions,
  ) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  static async open(allowed: AllowedFolders, options: WorkspaceOptions = {}): Promise<Workspace> {
    return new Workspace(await existingRoots(allowed.folders, allowed.from), options);
  }

  /** The first root: edits are made there, and the patch's paths are relative to it. */
  get home(): Root {
    return this.roots[0]!;
  }

  /** .gitignore rules of one root, read once per run. */
  gitignore(root: Root): GitignoreRules {
    let rules = this.gitignores.get(root);
    if (!rules) this.gitignores.set(root, (rules = new GitignoreRules(root.real)));
    return rules;
  }

  /**
   * The file or folder Kimi names (relative to the roots as shown, `label/…` for a root after the
   * first, absolute, or file://), confined like `files`; it need not exist.
   */
  async place(name: string): Promise<WorkspaceFile> {
    if (name.trim() === '') throw new UsageError('The path is empty; give a path relative to the project, e.g. src/index.ts.');
    const path = pathFromUri(name);
    const real = (await locate(path, this.roots)) ?? (await this.locateInLabelledRoot(path)) ?? (await confine(path, this.roots.map((r) => r.given), this.home.from));
    return this.fileAt(real);
  }

  /** The file at real path `real` (inside a root), named as Kimi is shown it. */
  fileAt(real: string): WorkspaceFile {
    const root = rootOf(real, this.roots)!;
    return this.fileIn(root, toPosix(relative(root.real, real)), real);
  }

  /** The file at `rel` in `root` whose real path is known: a glob's match, without resolving paths again. */
  fileIn(root: Root, rel: string, real: string): WorkspaceFile {
    const patchPath = root === this.home ? rel : toPosix(relative(this.home.real, real));
    return { root, rel, real, shown: rel ? shownPath(root, rel) : root.label || '.', patchPath };
  }

  /** `other/src/a.ts` where `other` labels a root after the first (as listings show its files). */
  private async locateInLabelledRoot(path: string): Promise<string | undefined> {
    if (isAbsolute(path)) return undefined;
    const [label, ...rest] = posix.normalize(toPosix(path)).split('/');
    const root = this.roots.slice(1).find((r) => r.label === label);
    return root ? locate(join(root.real, ...rest), this.roots) : undefined;
  }

  /** A file Kimi may edit or write: in the first root (where the patch applies) and not inside .git. */
  async placeEditable(name: string): Promise<WorkspaceFile> {
    const file = await this.place(name);
    if (file.root !== this.home) throw new UsageError(`Edits are made only in ${this.home.given}, where the patch applies; ${file.shown} is in ${file.root.given}.`);
    if (file.rel === '') throw new UsageError(`${name} is the project folder; name a file in it.`);
    if (file.rel.split('/').includes('.git')) throw new UsageError(`${file.shown} is inside .git, which is not edited; name a project file.`);
    return file;
  }

  /** Whether the file exists in the overlay or on disk (as anything). */
  async exists(file: WorkspaceFile): Promise<boolean> {
    return this.overlay.text(file.real) !== undefined || (await realPathIfExists(file.real)) !== undefined;
  }

  /** The text of a file as Kimi's edits left it (the overlay), else as on disk (up to `maxBytes`); `absent` when neither has it. */
  async content(file: WorkspaceFile, maxBytes = this.maxFileBytes): Promise<DiskText> {
    const overlaid = this.overlay.text(file.real);
    return overlaid !== undefined ? { text: overlaid } : readDiskText(file.real, maxBytes);
  }

  /** content(), read synchronously and kept while unchanged: for grep's scan of many files (disk.ts says why). */
  scanContent(file: WorkspaceFile, maxBytes: number): DiskText {
    const overlaid = this.overlay.text(file.real);
    return overlaid !== undefined ? { text: overlaid } : this.scanner.read(file.real, maxBytes);
  }

  /**
   * The text of a file Kimi reads or edits, remembered as first seen on disk (to report a file
   * changed meanwhile); a clear refusal when it is missing, a folder, binary or too large.
   */
  async text(file: WorkspaceFile, use: string): Promise<string> {
    const found = await this.content(file);
    // A file not there is not remembered: one created later was never seen by Kimi, so it did not change under it.
    if (!this.seen.has(file.real) && this.overlay.text(file.real) === undefined && !('absent' in found)) {
      this.seen.set(file.real, { file, was: fingerprint(found) });
    }
    if ('text' in found) return found.text;
    if ('absent' in found) throw new UsageError(`${file.shown} does not exist in ${this.roots.map((r) => r.given).join(', ')}. Find it with list or grep.`);
    if (found.folder) throw new UsageError(`${file.shown} is a folder; list it to see its files.`);
    throw new UsageError(`${file.shown} is ${found.problem}; only text files can be ${use}.`);
  }

  /** Remembers that a file did not exist when Kimi created it, so one made on disk meanwhile is reported. */
  noteAbsent(file: WorkspaceFile): void {
    if (!this.seen.has(file.real)) this.seen.set(file.real, { file, was: fingerprint({ absent: true }) });
  }

  /** Files read or edited, and the overlay as one patch against each file as it is on disk now. */
  async outcome(): Promise<Outcome> {
    const changedOnDisk: string[] = [];
    const diskNow = new Map<string, DiskNow>();
    for (const { file, was } of this.seen.values()) {
      const now = await readDiskText(file.real, this.maxFileBytes);
      if (fingerprint(now) !== was) changedOnDisk.push(file.shown);
      diskNow.set(file.real, 'problem' in now ? { unreadable: now.problem } : { text: 'text' in now ? now.text : undefined });
    }
    return { files_read: this.reads.list(), changed_on_disk: changedOnDisk, ...this.overlay.proposal(diskNow) };
  }
}

function fingerprint(found: DiskText): string {
  if ('text' in found) return `text ${contentHash(found.text)}`;
  return 'absent' in found ? 'absent' : `not text: ${found.problem}`;
}
