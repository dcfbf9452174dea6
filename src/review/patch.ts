/**
 * git's patch output split file by file, each part named by the path it changes. The names are
 * read from the patch itself, not from `--name-only`: the plumbing commands a review runs (they
 * never write the index) list a file whose stat data is stale as changed, while its patch, which
 * compares contents, rightly has no part for it.
 */

export interface FileDiff {
  /** The file's path (its new path for a rename), relative to the folder under review. */
  path: string;
  diff: string;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** A name as git writes it: plain, or C-quoted ("a\"b", octal bytes) when it holds special characters. Returns the name and the rest. */
function readName(text: string): { name: string; rest: string } {
  if (!text.startsWith('"')) return { name: text, rest: '' };
  const bytes: number[] = [];
  let i = 1;
  for (; i < text.length && text[i] !== '"'; i++) {
    if (text[i] !== '\\') {
      bytes.push(...Buffer.from(text[i]!, 'utf8'));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(text.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(ESCAPES[text[i + 1]!] ?? text.charCodeAt(i + 1));
      i += 1;
    }
  }
  return { name: Buffer.from(bytes).toString('utf8'), rest: text.slice(i + 1) };
}

/** `b/src/x.ts` → `src/x.ts` (a name from a header line, quoted or not, a tab after a name with spaces). */
function stripPrefix(text: string): string {
  const { name } = readName(text.replace(/\t$/, ''));
  return name.replace(/^[ab]\//, '');
}

/**
 * The path a file's part of a patch changes: from `+++ b/…` (`--- a/…` for a deletion), `rename
 * to …`, or, for a binary or mode-only change, the `diff --git a/X b/X` header itself.
 */
function partPath(part: string): string {
  const header = part.slice(0, part.indexOf('\n') === -1 ? part.length : part.indexOf('\n'));
  let deleted: string | undefined;
  for (const line of part.split('\n').slice(1)) {
    if (line.startsWith('@@') || line.startsWith('Binary files')) break;
    if (line.startsWith('+++ ') && line !== '+++ /dev/null') return stripPrefix(line.slice(4));
    if (line.startsWith('rename to ') || line.startsWith('copy to ')) return readName(line.replace(/^(rename|copy) to /, '')).name;
    if (line.startsWith('--- ') && line !== '--- /dev/null') deleted = stripPrefix(line.slice(4));
  }
  if (deleted !== undefined) return deleted;
  const names = header.slice('diff --git '.length);
  if (names.startsWith('"')) return readName(readName(names).rest.trimStart()).name.replace(/^b\//, '');
  // Unquoted, the same name twice: "a/N b/N" is 2n + 5 characters.
  return names.slice(2, 2 + (names.length - 5) / 2);
}

/** A patch split at its `diff --git` headers, each part named. */
export function splitPatch(patch: string): FileDiff[] {
  return patch
    .split(/^(?=diff --git )/m)
    .filter((part) => part.startsWith('diff --git '))
    .map((diff) => ({ path: partPath(diff), diff }));
}
